"""Exits a character narrates: "*grabs her coat and walks out*" takes the character out of the scene.

A scene's entries and exits are scripted (`CharacterSpec.enters`, `leaves`), but characters also leave on their own
initiative, in the narration of their lines. A character that has written its exit and speaks again next turn breaks
the scene for the reader (office-move scene, 2026-12-05: "(Lisa leaves the room …)", then Lisa's next line), so the
runner takes such a character out (`SceneSpec.exits`).

Read conservatively: only narration (`*…*`, `_…_`, `(…)`, `[…]`), only the speaker as the subject (its name, a
pronoun, "I", or no subject at all: "*leaves*"), only a departure in the present tense ("walks out", "leaves the
room", "takes her leave"), never one that is intended, refused or only begun ("turns to leave", "doesn't leave",
"is about to go").
"""

from __future__ import annotations

import re
from functools import lru_cache

_NARRATION = re.compile(
    r"\*([^*\n]{1,400})\*|(?<!\w)_([^_\n]{1,400})_(?!\w)|\(([^()\n]{1,400})\)|\[([^\[\]\n]{1,400})\]"
)
_PLACE = (
    r"(?:the |this |her |his |their |my )?(?:room|office|hall|house|building|shop|kitchen|tavern|inn|bar|"
    r"cabin|chamber|bridge|deck|meeting|table|party|group|scene|station|camp|tent|church|chapel|library|"
    r"courtyard|yard|garden|cafe|café|ward|square|market|store|forge|hold|study)"
)
_DEPARTURE = (
    rf"(?:leaves|exits|departs)(?=\s*(?:[.,;!…—–-]|$|{_PLACE}\b|without\b|through\b|by\b|for good\b|"
    r"quietly\b|quickly\b|at once\b|and\b|then\b))"
    r"|(?:walks|storms|strides|marches|slips|stalks|stomps|hurries|rushes|wanders|sweeps|heads|limps|runs|"
    r"stumbles|shuffles|hobbles|goes)\s+(?:out\b(?!\s+of\s+(?:the\s+)?(?:way|line|sight)\b)|off\b(?!\s+(?:the|a)\b)|"
    r"away\b(?!\s+from\b))"
    r"|steps out\b(?!\s+of\s+(?:the\s+)?(?:way|line|shadows?)\b)"
    r"|takes (?:her|his|their|my) leave\b"
    r"|disappears (?:through|into|out|down|up)\b"
    r"|closes the door behind (?:her|him|them|me)\b"
)
_SUBJECT = r"(?:she|he|they|{names})"


@lru_cache(maxsize=256)
def _patterns(name: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.findall(r"[A-Za-z][\w'-]+", name) if w[0].isupper()]
    names = "|".join([re.escape(name), *words]) or re.escape(name)
    subject = _SUBJECT.format(names=names)
    # a clause start: the narration's start, or after "and", "then", a comma or a full stop; an adverb may come first
    start = r"(?:^|(?<=[.;!?,])\s*|\band\s+|\bthen\s+)"
    adverb = r"(?:\w+ly\s+)?"
    first_person = r"(?:leave|exit|depart|walk out|storm out|slip out|head out|step out|go out|take my leave)\b"
    return re.compile(
        rf"{start}(?:(?:{subject})\s+{adverb})?(?:{_DEPARTURE})|{start}i\s+{adverb}{first_person}",
        re.IGNORECASE,
    )


_NOT_YET = re.compile(
    r"\b(?:turns? to|about to|wants? to|tries to|tried to|moves? to|makes? to|starts? to|begins? to|rises to|"
    r"doesn't|does not|don't|won't|will not|never|cannot|can't|refuses to|before|as if to|would|could|should|"
    r"might|if)\s+(?:\w+\s+)?$",
    re.IGNORECASE,
)


def narrated_exit(text: str, name: str) -> str | None:
    """The narration in which character `name` leaves the scene, or None when its line narrates no exit of its own."""
    pattern = _patterns(name)
    for m in _NARRATION.finditer(text):
        narration = next(g for g in m.groups() if g is not None).strip()
        for hit in pattern.finditer(narration):
            if not _NOT_YET.search(narration[: hit.start()] + " "):
                return narration[:160]
    return None
