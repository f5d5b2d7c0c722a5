"""Which lorebook (world info) entries a conversation triggers, following the Character Card V2 semantics.

An enabled entry fires when it is `constant`, or when one of its `keys` occurs in the scanned recent messages; a
selective entry (V2 `selective`, the default when it has `secondary_keys`) also needs one secondary key. Keys match
case-insensitively unless `case_sensitive`, on word boundaries unless `match_whole_words` is false; a key written
`/pattern/flags` is a regular expression, and with V3 `use_regex` every key is one. These options are read from the
entry's extensions, or from the card / World Info fields an import kept there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from personae.persona import Lorebook, LorebookEntry

DEFAULT_SCAN_DEPTH = 4
"""Messages scanned for keys when the lorebook does not say (the latest user message and the turns before it)."""

_REGEX_KEY = re.compile(r"^/(.+)/([imsx]*)$", re.DOTALL)


class Trigger(NamedTuple):
    """A fired entry and why it fired."""

    entry: LorebookEntry
    reason: str


_KEPT_BY_IMPORT = ("chara_card", "world_info")
"""Where `personae import` keeps card (V2/V3) and SillyTavern World Info fields that have no persona field."""


def _option(entry: LorebookEntry, *names: str) -> Any:
    scopes = [entry.extensions] + [entry.extensions.get(k) for k in _KEPT_BY_IMPORT]
    for scope in scopes:
        if isinstance(scope, dict):
            for name in names:
                if scope.get(name) is not None:
                    return scope[name]
    return None


def _key_pattern(key: str, entry: LorebookEntry) -> re.Pattern[str] | None:
    if _option(entry, "use_regex") is True:
        try:
            return re.compile(key, 0 if entry.case_sensitive else re.IGNORECASE)
        except re.error:
            return None
    regex = _REGEX_KEY.match(key)
    if regex:
        flags = 0 if entry.case_sensitive else re.IGNORECASE
        for letter in regex.group(2):
            flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}[letter]
        try:
            return re.compile(regex.group(1), flags)
        except re.error:
            return None  # a broken regex never matches rather than breaking the chat
    key = key.strip()
    if not key:
        return None
    escaped = re.escape(key)
    if _option(entry, "match_whole_words", "matchWholeWords") is not False:
        escaped = rf"(?<!\w){escaped}(?!\w)"
    return re.compile(escaped, 0 if entry.case_sensitive else re.IGNORECASE)


def _first_match(keys: Sequence[str], entry: LorebookEntry, text: str) -> str | None:
    for key in keys:
        pattern = _key_pattern(key, entry)
        if pattern is not None and pattern.search(text):
            return key
    return None


def triggered_entries(lorebook: Lorebook | None, recent_messages: Sequence[str]) -> list[Trigger]:
    """Entries fired by the last `scan_depth` of `recent_messages` (oldest first), in insertion order."""
    if lorebook is None:
        return []
    depth = lorebook.scan_depth if lorebook.scan_depth is not None else DEFAULT_SCAN_DEPTH
    text = "\n".join(recent_messages[-depth:]) if depth else ""
    fired: list[Trigger] = []
    for entry in lorebook.entries:
        if not entry.enabled:
            continue
        if entry.constant:
            fired.append(Trigger(entry, "constant"))
            continue
        key = _first_match(entry.keys, entry, text)
        if key is None:
            continue
        option = _option(entry, "selective")
        selective = bool(entry.secondary_keys) if option is None else bool(option)
        if selective and entry.secondary_keys:
            secondary = _first_match(entry.secondary_keys, entry, text)
            if secondary is None:
                continue
            fired.append(Trigger(entry, f"keys {key!r} + {secondary!r}"))
        else:
            fired.append(Trigger(entry, f"key {key!r}"))
    return sorted(fired, key=lambda t: t.entry.insertion_order)
