"""Persona pictures: PNG, JPEG or WebP by their magic bytes, bounded in size, found in cards or beside persona files.

A card's picture is its own PNG image (card chunks removed) or a CHARX icon; a persona file's is in the
`<name>.assets/` folder beside it, where `personae import` puts the picture of the card it came from.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from personae.interop import CARD_IMAGE
from personae.store import PersonaAvatar

log = logging.getLogger(__name__)

MAX_AVATAR_BYTES = 4 * 1024 * 1024
"""Default size limit of a kept picture (`ServerConfig.max_avatar_bytes`): card images are rarely over 2 MB."""
ICON_FOLDER = "assets/icon/"
"""Where a CHARX keeps its icons (the character's picture is the one named `main`, else the first)."""


class AvatarError(ValueError):
    """A picture that is not a PNG, JPEG or WebP image, or is over the size limit."""

    def __init__(self, message: str, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def image_type(data: bytes) -> str | None:
    """The media type of a PNG, JPEG or WebP image by its magic bytes, else None (SVG and others are refused)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def checked_avatar(data: bytes, limit: int, source: str) -> PersonaAvatar:
    """`data` as a stored picture, or `AvatarError` naming `source` when it is no image we serve or too large."""
    if len(data) > limit:
        raise AvatarError(f"{source}: picture is {len(data)} bytes, over the server's limit of {limit}", True)
    media_type = image_type(data)
    if media_type is None:
        raise AvatarError(f"{source}: not a PNG, JPEG or WebP image (checked by its first bytes)")
    return PersonaAvatar.of(data, media_type)


def _icons(names: list[str]) -> list[str]:
    """Icon asset paths, the `main` one first."""
    icons = sorted(n for n in names if n.startswith(ICON_FOLDER))
    return sorted(icons, key=lambda n: Path(n).stem != "main")


def card_avatar(assets: dict[str, bytes], limit: int, source: str) -> PersonaAvatar | None:
    """The picture among an imported card's assets (its PNG image, else a CHARX icon), or None.

    A picture that is no image we serve, or too large, is skipped with a warning: the persona is still imported.
    """
    for name in ([CARD_IMAGE] if CARD_IMAGE in assets else []) + _icons(list(assets)):
        try:
            return checked_avatar(assets[name], limit, f"{source}: {name}")
        except AvatarError as exc:
            log.warning("no picture kept: %s", exc)
    return None


def folder_avatar(folder: Path, limit: int) -> PersonaAvatar | None:
    """The picture in a persona's assets folder (`card.png`, else an icon), read only if within `limit`; or None."""
    if not folder.is_dir():
        return None
    found = [
        p.relative_to(folder).as_posix()
        for p in [folder / CARD_IMAGE, *(folder / ICON_FOLDER).rglob("*")]
        if p.is_file() and not p.is_symlink()
    ]
    for name in ([CARD_IMAGE] if CARD_IMAGE in found else []) + _icons(found):
        path = folder / name
        try:
            if path.stat().st_size > limit:
                raise AvatarError(f"{path}: picture is over the server's limit of {limit} bytes", True)
            return checked_avatar(path.read_bytes(), limit, str(path))
        except (AvatarError, OSError) as exc:
            log.warning("no picture kept: %s", exc)
    return None


def avatar_url(persona_id: str, sha256: str) -> str:
    """Where a persona's picture is served; the hash in the query makes a new picture a new URL (caches keep it)."""
    return f"/v1/personas/{quote(persona_id, safe='')}/avatar?v={sha256[:16]}"
