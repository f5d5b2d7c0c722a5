"""Events the backend wrapper emits for every request, for logs, progress displays and the server."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from personae.backends._types import GenerateConfig, Message, ModelCall, Usage


class ModelEvent(BaseModel):
    """One backend request as it finished: input, output or error, cache use, retries, timing, tokens."""

    kind: Literal["model"] = "model"
    """Event tag (events form a discriminated union across personae)."""
    address: str
    """Backend address, e.g. `openai/gpt-4o-mini`."""
    messages: list[Message]
    """The request's messages."""
    config: GenerateConfig
    """The request's generation settings."""
    outputs: list[str] = Field(default_factory=list)
    """Candidate texts returned (empty on error)."""
    error: str | None = None
    """Final error message if the request failed after retries."""
    cache: Literal["read", "write"] | None = None
    """Whether the result came from the cache or was stored in it."""
    retries: int = 0
    """How many retries were needed."""
    started_at: float
    """Unix time the request started."""
    seconds: float
    """Wall time including retries."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens spent (zero for cache reads)."""
    streamed: bool = False
    """Whether the reply was streamed."""
    call: ModelCall | None = None
    """Raw provider exchange, when recorded."""


class JsonlEventLog:
    """An event subscriber that appends each event as one JSON line to a file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def __call__(self, event: ModelEvent) -> None:
        line = json.dumps(event.model_dump(mode="json"), ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
