"""Assembly of the embedded model file from byte pieces, on small fake parts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from personae._util.weights import ShippedModel
from personae.backends import MissingDependencyError, ModelUnavailableError
from personae.backends._providers._weights import assemble, ensure_model, find_parts


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


def test_a_base_encoder_in_split_zip_packages_is_joined_checked_and_unpacked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import zipfile

    from personae.scoring import _assembly as assembly

    buffer = io.BytesIO()
    tensors = b"safetensors bytes" * 50
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("enc/config.json", '{"model_type": "mpnet"}')
        zf.writestr("enc/model.safetensors", tensors)
        zf.writestr("elsewhere/secret.txt", "not part of the model folder")
    whole = buffer.getvalue()
    for i, piece in enumerate((whole[:100], whole[100:]), 1):
        pkg = tmp_path / "site" / f"fakeenc_part_{i:03d}"
        (pkg / "input").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "input" / f"enc.zip.{i:03d}").write_bytes(piece)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    parts = ShippedModel(
        "enc.zip", "fakeenc_part_", 2, hashlib.sha256(whole).hexdigest(), len(whole), "{i:03d}", "input/enc.zip.{i:03d}"
    )
    base = assembly.BaseWeights(
        hashlib.sha256(tensors).hexdigest(), member="enc/model.safetensors", parts=parts, requirements=("x",)
    )
    monkeypatch.setitem(assembly.BASE_WEIGHTS, "enc", base)
    path = assembly.base_weights_file("enc", tmp_path / "cache")
    assert path.read_bytes() == tensors
    assert (path.parent / "config.json").is_file()
    assert not (path.parent / "secret.txt").exists()
    assert not (tmp_path / "cache" / "enc.zip").exists()  # the joined zip goes once unpacked and checked
    assert assembly.base_weights_file("enc", tmp_path / "cache") == path  # and is not needed again
    monkeypatch.setitem(assembly.BASE_WEIGHTS, "enc", base._replace(sha256="0" * 64))
    path.write_bytes(b"changed")
    with pytest.raises(assembly.AssemblyError, match="expected 0000"):
        assembly.base_weights_file("enc", tmp_path / "cache")
