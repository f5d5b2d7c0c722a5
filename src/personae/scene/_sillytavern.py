"""SillyTavern chat exports (`.jsonl`: a metadata line, then one message per line) as a finished scene to measure.

A message line carries `name`, `is_user`, `mes` (and `is_system` for notes, which are skipped). Group chats hold
several character names; a one-to-one chat holds one and is measured the same way (dominance is then trivial).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from personae.interop import read_limited
from personae.persona import PersonaError
from personae.scene._spec import MAX_TEXT, SceneSpecError

MAX_CHAT_BYTES = 32 * 1024 * 1024
"""Chat exports larger than this are refused."""
MAX_MESSAGES = 5000
"""Messages read at most from one chat."""


class ChatMessage(NamedTuple):
    """One message of a recorded chat."""

    name: str
    is_user: bool
    text: str


def read_chat_export(path: Path | str) -> list[ChatMessage]:
    """The messages of a SillyTavern chat export, in order; errors name the file and the line."""
    path = Path(path)
    try:
        raw = read_limited(path, MAX_CHAT_BYTES).decode("utf-8")
    except PersonaError as exc:
        raise SceneSpecError(None, str(exc)) from None
    except UnicodeDecodeError:
        raise SceneSpecError(path, "not UTF-8 text") from None
    messages: list[ChatMessage] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SceneSpecError(path, f"not JSON: {exc.msg}", field=f"line {number}") from None
        if not isinstance(item, dict) or "mes" not in item:
            continue  # the metadata line, or something that is not a message
        if item.get("is_system"):
            continue
        name, text = item.get("name"), item.get("mes")
        if not isinstance(name, str) or not name.strip() or not isinstance(text, str):
            raise SceneSpecError(path, "a message needs a `name` and a `mes` string", field=f"line {number}")
        messages.append(ChatMessage(name.strip()[:100], bool(item.get("is_user")), text[: MAX_TEXT * 4]))
        if len(messages) > MAX_MESSAGES:
            raise SceneSpecError(path, f"more than {MAX_MESSAGES} messages")
    if not messages:
        raise SceneSpecError(path, "no messages (expected a SillyTavern chat export: one JSON message per line)")
    return messages
