"""Size limits for imported files, so a hostile card cannot exhaust memory or disk."""

from __future__ import annotations

from pathlib import Path

from personae.persona import PersonaFormatError

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Any imported file larger than this is refused before it is read."""
MAX_CHUNK_BYTES = 16 * 1024 * 1024
"""A PNG chunk whose declared length exceeds this is refused (card JSON is kilobytes, images megabytes)."""
MAX_TEXT_BYTES = 16 * 1024 * 1024
"""Upper bound on a card's JSON text after base64 decoding or decompression."""
MAX_ZIP_MEMBERS = 2000
"""A CHARX archive with more members than this is refused."""
MAX_ZIP_TOTAL_BYTES = 64 * 1024 * 1024
"""Upper bound on the sum of uncompressed member sizes of a CHARX archive."""
MAX_ZIP_RATIO = 200
"""A member that claims to inflate more than this many times its compressed size is treated as a zip bomb."""
MAX_ZIP_TOTAL_RATIO = 50
"""A CHARX whose members inflate to more than this many times the archive's size (and past 1 MiB) is a zip bomb,
however small each member is (cards are JSON and images, which compress little)."""
MAX_JSON_DEPTH = 200
"""Deeper JSON nesting is refused (it would only serve to overflow the parser's recursion)."""


def read_limited(path: Path | str, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a whole file, refusing files over `limit` bytes and reporting I/O errors as format errors."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise PersonaFormatError(path, f"file is {size} bytes, over the {limit}-byte limit")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise PersonaFormatError(path, f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise PersonaFormatError(path, f"file is over the {limit}-byte limit")
    return data
