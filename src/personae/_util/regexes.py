"""Regular expressions from untrusted files (lorebook keys) that cannot hang the process.

Two guards: at load time, a pattern whose quantified group holds another quantifier (`(a+)+`, `(.*x){9}`: the
shapes whose backtracking is exponential or high-polynomial) is refused; at match time, every search runs with the
`regex` package's timeout, so a slow pattern that slipped through costs at most `MATCH_TIMEOUT` and then no match.
"""

from __future__ import annotations

import functools
import logging
import re
import re._parser as sre  # type: ignore[import-not-found]  # the stdlib's pattern parser (no public one)
from typing import Any

import regex

log = logging.getLogger(__name__)

MATCH_TIMEOUT = 0.05
"""Seconds one search may take before it counts as no match."""
MAX_PATTERN_CHARS = 1000
"""Longest pattern accepted."""

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}
_FLAGS = {
    re.IGNORECASE: regex.IGNORECASE,
    re.MULTILINE: regex.MULTILINE,
    re.DOTALL: regex.DOTALL,
    re.VERBOSE: regex.VERBOSE,
}


class PatternError(ValueError):
    """A pattern that cannot be used."""


class InvalidPatternError(PatternError):
    """Not a valid regular expression."""


class UnsafePatternError(PatternError):
    """A pattern refused because it is too long or can backtrack exponentially."""


def _nested_repeat(items: Any, inside: bool) -> bool:
    """Whether a parsed pattern holds a repeat (max > 1) inside another one."""
    for op, arg in items:
        if op in _REPEATS:
            _low, high, body = arg
            repeats = high is sre.MAXREPEAT or high > 1
            if repeats and inside:
                return True
            if _nested_repeat(body, inside or repeats):
                return True
        elif op is sre.SUBPATTERN:
            if _nested_repeat(arg[-1], inside):
                return True
        elif op is sre.BRANCH:
            if any(_nested_repeat(branch, inside) for branch in arg[1]):
                return True
        elif op in (sre.ASSERT, sre.ASSERT_NOT) and _nested_repeat(arg[1], inside):
            return True
    return False


@functools.lru_cache(maxsize=4096)
def compile_safe(pattern: str, flags: int = 0) -> regex.Pattern[str]:
    """Compile `pattern` (Python `re` syntax and flags) for `search_safe`.

    Raises `InvalidPatternError` (not a regex) or `UnsafePatternError` (too long, nested quantifiers).
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePatternError(f"pattern is {len(pattern)} characters, over the {MAX_PATTERN_CHARS} limit")
    try:
        parsed = sre.parse(pattern, flags)
    except re.error as exc:
        raise InvalidPatternError(f"not a valid regular expression: {exc}") from None
    if _nested_repeat(parsed, False):
        raise UnsafePatternError(
            "a quantified group holds another quantifier (like (a+)+): matching can take exponential time"
        )
    converted = 0
    for flag, mapped in _FLAGS.items():
        if flags & flag:
            converted |= mapped
    try:
        return regex.compile(pattern, converted)
    except regex.error as exc:
        raise InvalidPatternError(f"not a valid regular expression: {exc}") from None


def search_safe(pattern: regex.Pattern[str], text: str, timeout: float = MATCH_TIMEOUT) -> bool:
    """Whether `pattern` occurs in `text`; a search over `timeout` seconds is logged and counts as no match."""
    try:
        return pattern.search(text, timeout=timeout) is not None
    except TimeoutError:
        log.warning(
            "pattern %r took over %s s on %d characters; treated as no match", pattern.pattern, timeout, len(text)
        )
        return False
