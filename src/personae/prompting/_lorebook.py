"""Which lorebook (world info) entries a conversation triggers, following the Character Card V2 semantics.

An enabled entry fires when it is `constant`, or when one of its `keys` occurs in the scanned recent messages; a
selective entry (V2 `selective`, the default when it has `secondary_keys`) also needs one secondary key. Keys match
case-insensitively unless `case_sensitive`, on word boundaries unless `match_whole_words` is false; a key written
`/pattern/flags` is a regular expression, and with V3 `use_regex` every key is one. These options are read from the
entry's extensions, or from the card / World Info fields an import kept there. Regular expressions that could
backtrack exponentially are refused when the persona loads, and every search runs with a time bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from personae._util.regexes import UnsafePatternError, search_safe
from personae.persona import Lorebook, LorebookEntry

DEFAULT_SCAN_DEPTH = 4
"""Messages scanned for keys when the lorebook does not say (the latest user message and the turns before it)."""


class Trigger(NamedTuple):
    """A fired entry and why it fired."""

    entry: LorebookEntry
    reason: str


def _first_match(keys: Sequence[str], entry: LorebookEntry, text: str) -> str | None:
    for key in keys:
        try:
            pattern = entry.key_pattern(key)
        except UnsafePatternError:  # refused when the persona was loaded; an entry built in code is skipped
            continue
        if pattern is not None and search_safe(pattern, text):
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
        option = entry.option("selective")
        selective = bool(entry.secondary_keys) if option is None else bool(option)
        if selective and entry.secondary_keys:
            secondary = _first_match(entry.secondary_keys, entry, text)
            if secondary is None:
                continue
            fired.append(Trigger(entry, f"keys {key!r} + {secondary!r}"))
        else:
            fired.append(Trigger(entry, f"key {key!r}"))
    return sorted(fired, key=lambda t: t.entry.insertion_order)
