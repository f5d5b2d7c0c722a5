"""Deterministic fake roles for scenes: characters, a narrator and a director, for tests and offline demos.

`mock/scene` plays every role sensibly (characters answer whoever spoke last, by name; the director picks the
character named last in its list; the narrator ends the scene at its third narration); `mock/scene-confused` is the
same, except that a character's first candidate of each turn also acts for another character (the role confusion
the guard must pass over; without the role-confusion criterion it would rank first), unless its system prompt carries
the corrective instruction of a `threshold` guard. Other addresses get no options.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from personae.backends import GenerateConfig, Message

_LINE = re.compile(r"^([A-Z][\w .'-]{0,40}): (.+)$", re.MULTILINE)


def _system(messages: Sequence[Message]) -> str:
    return messages[0].content if messages and messages[0].role == "system" else ""


def _last_user(messages: Sequence[Message]) -> str:
    return next((m.content for m in reversed(messages) if m.role == "user"), "")


def _character(messages: Sequence[Message], index: int, confused: bool) -> str:
    name = re.match(r"You are ([^.]+)\.", _system(messages))
    me = name.group(1) if name else "someone"
    lines = [(who, what) for who, what in _LINE.findall(_last_user(messages)) if who != me]
    if not lines:
        return f"I look around and wait. (candidate {index + 1})"
    who, what = lines[-1]
    # the other's first words without their sentence ends: one reported sentence ("You say …"), not a copy
    words = re.sub(r"[.!?]", "", " ".join(what.split()[:6])).rstrip(",")
    if confused and index == 0 and "spoke for someone else" not in _system(messages):
        return f"I hear you, {who}. *{who} nods slowly and steps back.* You say {words}, and I am not so sure."
    return f"I hear you, {who}. You say {words}, and I am not so sure. (candidate {index + 1})"


def _director(messages: Sequence[Message]) -> str:
    found = re.search(r"Characters present: (\[.*\])", _last_user(messages))
    names = json.loads(found.group(1)) if found else []
    last = re.search(r"Last speaker: (.+)", _last_user(messages))
    others = [n for n in names if not last or n != last.group(1).strip()]
    pick = others[-1] if others else (names[0] if names else "nobody")
    return json.dumps({"speaker": pick, "why": f"{pick} has not spoken since the last line"})


def _narrator(messages: Sequence[Message]) -> str:
    told = _last_user(messages).count("[Narrator]")
    if told >= 2:
        return "The lights go out, and the scene is over. THE END"
    return "A door slams somewhere below, and the floor trembles."


def scene_reply(confused: bool = False) -> Any:
    """The reply function of `mock/scene` (or `mock/scene-confused`): picks the role from the system prompt."""

    def reply(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        system = _system(messages)
        if system.startswith("You direct a scene"):
            return _director(messages)
        if system.startswith("You are the narrator"):
            return _narrator(messages)
        return _character(messages, index, confused)

    return reply


def scene_mock_options(address: str) -> dict[str, Any]:
    """Provider options giving `mock/scene` and `mock/scene-confused` their reply function; empty otherwise."""
    if address == "mock/scene":
        return {"fn": scene_reply()}
    if address == "mock/scene-confused":
        return {"fn": scene_reply(confused=True)}
    return {}
