"""PNG text chunks (tEXt, zTXt, iTXt): read them from anywhere in the file and write card chunks back.

The image itself is never decoded; its chunks are copied byte for byte.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from personae.interop._limits import MAX_CHUNK_BYTES, MAX_TEXT_BYTES
from personae.persona import PersonaFormatError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")


@dataclass(frozen=True)
class Chunk:
    """One PNG chunk: its four-letter type and its data (length and CRC are recomputed on write)."""

    type: bytes
    data: bytes


def _inflate(data: bytes, source: Path | str | None, what: str) -> bytes:
    """Decompress zlib data, refusing anything that inflates past MAX_TEXT_BYTES (decompression bombs)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    except zlib.error as exc:
        raise PersonaFormatError(source, f"{what}: corrupt compressed data ({exc})") from None
    if len(out) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
        raise PersonaFormatError(source, f"{what}: inflates past the {MAX_TEXT_BYTES}-byte limit")
    if not inflater.eof:
        raise PersonaFormatError(source, f"{what}: compressed data is truncated")
    return out


def read_chunks(data: bytes, source: Path | str | None = None) -> list[Chunk]:
    """Split a PNG into chunks, checking the signature, every length and CRC, and that IEND ends the file."""
    if not data.startswith(PNG_SIGNATURE):
        raise PersonaFormatError(source, "not a PNG file (bad signature)")
    chunks: list[Chunk] = []
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 8 > len(data):
            raise PersonaFormatError(source, "truncated PNG: missing IEND chunk")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        if not ctype.isalpha():
            raise PersonaFormatError(source, f"corrupt PNG: bad chunk type at byte {pos + 4}")
        if length > MAX_CHUNK_BYTES:
            raise PersonaFormatError(source, f"PNG chunk {ctype.decode()} is {length} bytes, over the limit")
        end = pos + 12 + length
        if end > len(data):
            raise PersonaFormatError(source, f"truncated PNG: chunk {ctype.decode()} runs past the end of the file")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : end])
        if zlib.crc32(ctype + body) != crc:
            raise PersonaFormatError(source, f"corrupt PNG: CRC mismatch in chunk {ctype.decode()}")
        chunks.append(Chunk(ctype, body))
        pos = end
        if ctype == b"IEND":
            break
    if not chunks or chunks[0].type != b"IHDR":
        raise PersonaFormatError(source, "corrupt PNG: the first chunk is not IHDR")
    return chunks


def decode_text_chunk(chunk: Chunk, source: Path | str | None = None) -> tuple[str, bytes]:
    """The keyword and raw text bytes of a tEXt, zTXt or iTXt chunk (decompressed when needed)."""
    kind = chunk.type.decode()
    keyword, sep, rest = chunk.data.partition(b"\0")
    if not sep or not 1 <= len(keyword) <= 79:
        raise PersonaFormatError(source, f"corrupt PNG {kind} chunk: bad keyword")
    name = keyword.decode("latin-1")
    what = f"PNG {kind} chunk '{name}'"
    if chunk.type == b"tEXt":
        return name, rest
    if chunk.type == b"zTXt":
        if not rest or rest[0] != 0:
            raise PersonaFormatError(source, f"{what}: unknown compression method")
        return name, _inflate(rest[1:], source, what)
    # iTXt: compression flag, method, language tag \0, translated keyword \0, text
    if len(rest) < 2:
        raise PersonaFormatError(source, f"{what}: truncated header")
    flag, method, tail = rest[0], rest[1], rest[2:]
    parts = tail.split(b"\0", 2)
    if len(parts) != 3:
        raise PersonaFormatError(source, f"{what}: truncated header")
    text = parts[2]
    if flag == 1:
        if method != 0:
            raise PersonaFormatError(source, f"{what}: unknown compression method")
        text = _inflate(text, source, what)
    elif flag != 0:
        raise PersonaFormatError(source, f"{what}: bad compression flag")
    return name, text


def read_text_chunks(
    data: bytes, source: Path | str | None = None, keywords: frozenset[str] | None = None
) -> dict[str, bytes]:
    """Text chunks by lowercase keyword (the first of each wins), wherever they sit in the file.

    Only chunks whose keyword is in `keywords` (compared case-insensitively) are decoded, so that an
    unrelated huge compressed chunk costs nothing.
    """
    found: dict[str, bytes] = {}
    for chunk in read_chunks(data, source):
        if chunk.type not in _TEXT_TYPES:
            continue
        keyword = chunk.data.partition(b"\0")[0].decode("latin-1").lower()
        if keywords is not None and keyword not in keywords:
            continue
        if keyword in found:
            continue
        name, text = decode_text_chunk(chunk, source)
        found[name.lower()] = text
    return found


def write_text_chunks(
    data: bytes, texts: dict[str, str], source: Path | str | None = None, drop: frozenset[str] = frozenset()
) -> bytes:
    """A copy of the PNG with `texts` as tEXt chunks just before IEND, replacing chunks with the same keywords.

    Text chunks whose keyword is in `drop` are removed too; every other chunk is copied unchanged.
    """
    drop = drop | {k.lower() for k in texts}
    out = [PNG_SIGNATURE]
    for chunk in read_chunks(data, source):
        if chunk.type in _TEXT_TYPES and chunk.data.partition(b"\0")[0].decode("latin-1").lower() in drop:
            continue
        if chunk.type == b"IEND":
            for keyword, text in texts.items():
                out.append(_encode(Chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1"))))
        out.append(_encode(chunk))
    return b"".join(out)


def _encode(chunk: Chunk) -> bytes:
    crc = struct.pack(">I", zlib.crc32(chunk.type + chunk.data))
    return struct.pack(">I", len(chunk.data)) + chunk.type + chunk.data + crc


def blank_png(width: int = 64, height: int = 64, rgb: tuple[int, int, int] = (200, 200, 200)) -> bytes:
    """A plain single-colour RGB PNG, the default image of a card exported without a picture."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\0" + bytes(rgb) * width
    idat = zlib.compress(row * height, 9)
    return PNG_SIGNATURE + b"".join(_encode(Chunk(t, d)) for t, d in ((b"IHDR", ihdr), (b"IDAT", idat), (b"IEND", b"")))
