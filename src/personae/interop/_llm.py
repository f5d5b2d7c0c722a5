"""Text → atomic statements with an LLM: one self-contained third-person fact per line, deduplicated by meaning."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

import numpy as np

from personae.backends import Backend, GenerateConfig, Message, get_backend
from personae.scoring import Embedder, OnnxEmbedder

MAX_CHUNK_CHARS = 3000
"""Source text is sent in paragraphs-aligned pieces of at most this many characters."""

_SYSTEM = (
    "You rewrite character descriptions as atomic statements. Rules: one fact per statement; every statement "
    "is a full third-person sentence that names the character (never he/she/they/I/you for the character); "
    "no statement depends on another; keep only what the text says, invent nothing; ignore example dialogue. "
    "Answer with the statements only, one per line, no numbering."
)
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s*")


def chunk_text(text: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Split text at paragraph (then sentence) boundaries into pieces of at most `limit` characters."""
    pieces: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n|(?<=[.!?])\s+", text.strip()):
        while len(paragraph) > limit:
            pieces.append(paragraph[:limit])
            paragraph = paragraph[limit:]
        if current and len(current) + len(paragraph) + 1 > limit:
            pieces.append(current)
            current = ""
        current = f"{current}\n{paragraph}" if current else paragraph
    if current.strip():
        pieces.append(current)
    return pieces


def parse_statement_lines(reply: str) -> list[str]:
    """The statements in an LLM reply: non-empty lines, bullets and numbering removed."""
    out = []
    for line in reply.splitlines():
        line = _BULLET.sub("", line).strip().strip('"')
        if len(line) >= 3 and any(c.isalpha() for c in line):
            out.append(line)
    return out


def dedupe_by_embedding(statements: Sequence[str], embedder: Embedder, threshold: float = 0.92) -> list[str]:
    """Drop every statement whose cosine similarity to an earlier kept one is at least `threshold`."""
    if not statements:
        return []
    vectors = embedder.embed(list(statements))
    kept: list[int] = []
    for index in range(len(statements)):
        if kept and float(np.max(vectors[kept] @ vectors[index])) >= threshold:
            continue
        kept.append(index)
    return [statements[i] for i in kept]


async def extract_statements_llm(
    text: str, name: str, backend: Backend, embedder: Embedder, threshold: float = 0.92
) -> list[str]:
    """Ask `backend` for the atomic statements of `text` about `name`, piece by piece, then deduplicate."""
    config = GenerateConfig(temperature=0.0, max_tokens=1024)
    statements: list[str] = []
    for piece in chunk_text(text):
        messages = [
            Message(role="system", content=_SYSTEM),
            Message(role="user", content=f"Character: {name}\n\nText:\n{piece}\n\nStatements about {name}:"),
        ]
        output = await backend.generate(messages, config)
        statements.extend(parse_statement_lines(output.texts[0] if output.texts else ""))
    return dedupe_by_embedding(statements, embedder, threshold)


class LLMExtractor:
    """A synchronous extractor (text, name) → statements backed by an LLM, for the importers."""

    def __init__(self, backend: Backend | str, embedder: Embedder | None = None, threshold: float = 0.92) -> None:
        self.backend = get_backend(backend) if isinstance(backend, str) else backend
        self.embedder: Embedder = embedder if embedder is not None else OnnxEmbedder()
        self.threshold = threshold
        self._loop = asyncio.new_event_loop()

    def __call__(self, text: str, name: str) -> list[str]:
        """Statements about `name` in `text`."""
        coroutine = extract_statements_llm(text, name, self.backend, self.embedder, self.threshold)
        return self._loop.run_until_complete(coroutine)

    def close(self) -> None:
        """Release the event loop."""
        self._loop.close()
