"""Assembly of the embedded model file from byte pieces, on small fake parts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from personae.backends import MissingDependencyError, ModelUnavailableError
from personae.backends._providers._weights import ShippedModel, assemble, ensure_model, find_parts


def _parts(tmp_path: Path) -> tuple[list[Path], bytes]:
    chunks = [b"GGUF" + bytes(range(256)) * 3, b"middle" * 1000, b"end"]
    paths = []
    for i, chunk in enumerate(chunks, 1):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(chunk)
        paths.append(p)
    return paths, b"".join(chunks)


def test_assemble_concatenates_in_order_and_verifies(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path)
    dest = tmp_path / "models" / "m.gguf"
    assemble(parts, dest, hashlib.sha256(whole).hexdigest(), show_progress=False)
    assert dest.read_bytes() == whole
    assert (dest.parent / "m.gguf.verified.json").is_file()


def test_wrong_hash_leaves_no_file_behind(tmp_path: Path) -> None:
    parts, _ = _parts(tmp_path)
    dest = tmp_path / "models" / "m.gguf"
    with pytest.raises(ModelUnavailableError, match="expected 0000"):
        assemble(parts, dest, "0" * 64, show_progress=False)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_missing_part_packages_say_which_extra_to_install() -> None:
    model = ShippedModel("x", "personae_no_such_part_pkg", 3, "0" * 64, 1)
    with pytest.raises(MissingDependencyError, match=r"pip install 'personae\[embedded\]'"):
        find_parts(model)


def test_ensure_model_finds_parts_on_sys_path_and_rebuilds_a_damaged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = b""
    for i in (1, 2):
        pkg = tmp_path / "site" / f"fakemodelpart{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        data = f"piece {i} ".encode() * 100
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
        whole += data
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = ShippedModel("fake", "fakemodelpart", 2, hashlib.sha256(whole).hexdigest(), len(whole))
    path = ensure_model(model, directory=tmp_path / "models")
    assert path.read_bytes() == whole
    assert ensure_model(model, directory=tmp_path / "models") == path  # verified stamp, no rebuild
    path.write_bytes(b"damaged")
    assert ensure_model(model, directory=tmp_path / "models").read_bytes() == whole
