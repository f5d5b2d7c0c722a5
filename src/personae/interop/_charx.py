"""CHARX: a zip holding `card.json` (a V3 card) and assets, read with limits against zip bombs and traversal."""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from personae.interop._json import parse_json
from personae.interop._limits import (
    MAX_TEXT_BYTES,
    MAX_ZIP_MEMBERS,
    MAX_ZIP_RATIO,
    MAX_ZIP_TOTAL_BYTES,
    MAX_ZIP_TOTAL_RATIO,
)
from personae.persona import PersonaFormatError

CARD_NAME = "card.json"


def safe_member_name(name: str) -> bool:
    """Whether a zip member name is a plain relative path (no `..`, no absolute path, no drive, no backslash)."""
    if not name or "\\" in name or "\0" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return False
    parts = PurePosixPath(name).parts
    return all(part not in ("..", ".") for part in parts) and ".." not in name.split("/")


def read_charx(data: bytes, source: Path | str | None = None) -> tuple[Any, dict[str, bytes]]:
    """The parsed `card.json` and every other member's bytes, by path, refusing unsafe archives."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise PersonaFormatError(source, f"not a valid CHARX (zip) file: {exc}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise PersonaFormatError(source, f"CHARX has {len(infos)} members, over the {MAX_ZIP_MEMBERS} limit")
        total = 0
        for info in infos:
            if not safe_member_name(info.filename):
                raise PersonaFormatError(source, f"CHARX member name {info.filename!r} is unsafe (path traversal)")
            if info.flag_bits & 0x1:
                raise PersonaFormatError(source, f"CHARX member {info.filename!r} is encrypted")
            total += info.file_size
            if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1) and info.file_size > 1024 * 1024:
                raise PersonaFormatError(source, f"CHARX member {info.filename!r} looks like a zip bomb")
        if total > MAX_ZIP_TOTAL_BYTES:
            limit = MAX_ZIP_TOTAL_BYTES
            raise PersonaFormatError(source, f"CHARX inflates to {total} bytes, over the {limit}-byte limit")
        if total > MAX_ZIP_TOTAL_RATIO * len(data) and total > 1024 * 1024:
            raise PersonaFormatError(
                source, f"CHARX inflates to {total} bytes from {len(data)}: over {MAX_ZIP_TOTAL_RATIO}x, a zip bomb"
            )
        names = [info.filename for info in infos]
        if CARD_NAME not in names:
            raise PersonaFormatError(source, f"CHARX has no {CARD_NAME} at its root")
        members: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            limit = MAX_TEXT_BYTES if info.filename == CARD_NAME else info.file_size
            members[info.filename] = _read_member(archive, info, limit, source)
    card = parse_json(members.pop(CARD_NAME), source, f"CHARX {CARD_NAME}")
    return card, members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, source: Path | str | None) -> bytes:
    """Read one member, never more than its declared size (sizes in the header can lie)."""
    try:
        with archive.open(info) as handle:
            content = handle.read(min(limit, info.file_size) + 1)
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise PersonaFormatError(source, f"CHARX member {info.filename!r} is corrupt: {exc}") from None
    if len(content) > min(limit, info.file_size):
        raise PersonaFormatError(source, f"CHARX member {info.filename!r} is larger than declared or over the limit")
    return content


def write_charx(card: dict[str, Any], assets: dict[str, bytes]) -> bytes:
    """A CHARX archive: `card.json` plus the assets at their relative paths (deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CARD_NAME, json.dumps(card, ensure_ascii=False, indent=2))
        for name, content in sorted(assets.items()):
            if not safe_member_name(name) or name == CARD_NAME:
                raise PersonaFormatError(None, f"asset path {name!r} is not a safe relative path")
            archive.writestr(name, content)
    return buffer.getvalue()
