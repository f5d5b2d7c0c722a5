from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from helpers.cards import b64, charx_with, png_with, text_chunk, v2_card, v3_card
from personae.interop import read_bytes, read_limited, safe_member_name
from personae.persona import PersonaFormatError


def _reason(data: bytes, name: str) -> str:
    with pytest.raises(PersonaFormatError) as info:
        read_bytes(data, name)
    message = str(info.value)
    assert message.startswith(f"{name}: ")
    assert "\n" not in message
    return message.removeprefix(f"{name}: ")


def test_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(b"x" * 11)
    with pytest.raises(PersonaFormatError, match=r"big.png: file is 11 bytes, over the 10-byte limit"):
        read_limited(path, limit=10)


def test_png_structure_errors() -> None:
    good = png_with([text_chunk("chara", b64(v2_card()))])
    assert _reason(b"GIF89a", "a.png") == "not a PNG file (bad signature)"
    assert _reason(good[:-12], "a.png") == "truncated PNG: missing IEND chunk"
    huge = good[:33] + struct.pack(">I", 0x7FFFFFFF) + b"tEXt" + good[41:]
    assert _reason(huge, "a.png") == "PNG chunk tEXt is 2147483647 bytes, over the limit"
    flipped = bytearray(good)
    flipped[45] ^= 0xFF  # inside the IDAT data
    assert _reason(bytes(flipped), "a.png").startswith("corrupt PNG: CRC mismatch in chunk ")
    assert _reason(png_with([]), "a.png") == "PNG has no character card (no 'chara' or 'ccv3' text chunk)"
    not_b64 = png_with([text_chunk("chara", b"%%%%")])
    assert _reason(not_b64, "a.png").startswith("not valid PNG 'chara' chunk JSON")


def test_itxt_bomb_and_corrupt_compression_are_refused() -> None:
    bomb = zlib.compress(b" " * (64 * 1024 * 1024), 9)
    body = b"ccv3\0\x01\x00en\0\0" + bomb
    itxt = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    assert _reason(png_with([itxt]), "a.png") == "PNG iTXt chunk 'ccv3': inflates past the 16777216-byte limit"
    garbage = png_with([_ztxt(b"chara", b"not zlib")])
    assert _reason(garbage, "a.png").startswith("PNG zTXt chunk 'chara': corrupt compressed data")
    cut = png_with([_ztxt(b"chara", zlib.compress(b64(v2_card()))[:-8])])
    assert _reason(cut, "a.png") == "PNG zTXt chunk 'chara': compressed data is truncated"


def _ztxt(keyword: bytes, payload: bytes) -> bytes:
    body = keyword + b"\0\0" + payload
    return struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", zlib.crc32(b"zTXt" + body))


@pytest.mark.parametrize("name", ["../evil", "a/../../evil", "/etc/passwd", "C:/x", "a\\..\\b", ""])
def test_unsafe_member_names(name: str) -> None:
    assert not safe_member_name(name)


def test_safe_member_names() -> None:
    assert safe_member_name("assets/icon/images/main.png")
    assert safe_member_name("card.json")


def test_charx_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _reason(charx_with(v3_card(), raw_names={"/abs.txt": b"x"}), "a.charx") == (
        "CHARX member name '/abs.txt' is unsafe (path traversal)"
    )
    assert _reason(b"PK\x03\x04 not really a zip", "a.charx").startswith("not a valid CHARX (zip) file")
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("other.json", "{}")
    assert _reason(buffer.getvalue(), "a.charx") == "CHARX has no card.json at its root"
    monkeypatch.setattr("personae.interop._charx.MAX_ZIP_MEMBERS", 2)
    many = charx_with(v3_card(), {"a.txt": b"a", "b.txt": b"b"})
    assert _reason(many, "a.charx") == "CHARX has 3 members, over the 2 limit"
    monkeypatch.setattr("personae.interop._charx.MAX_ZIP_MEMBERS", 2000)
    monkeypatch.setattr("personae.interop._charx.MAX_ZIP_TOTAL_BYTES", 100)
    assert _reason(charx_with(v3_card()), "a.charx").startswith("CHARX inflates to ")


def test_json_limits() -> None:
    deep = b"[" * 500 + b"]" * 500
    assert _reason(deep, "a.json") == "JSON nests deeper than 200 levels"
    assert _reason(b'{"name": NaN}', "a.json").startswith("not valid JSON: NaN is not a JSON number")
    assert _reason(b"\xff\xfe", "a.json").startswith("JSON is not UTF-8 text")
    assert _reason(json.dumps({"name": "\udcff", "description": ""}).encode(), "a.json") == (
        "JSON holds a lone surrogate escape (not valid Unicode)"
    )
