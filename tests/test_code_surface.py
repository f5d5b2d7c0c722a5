"""The public surface: packages talk to each other only through public names, and the top level stays cheap."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import personae
from conftest import REPO

SRC = REPO / "src"
SHARED_PRIVATE = ("personae._util",)
"""Private packages meant for every package of personae (helpers, not anyone's implementation)."""


def _package_of(module: str, is_package: bool) -> str | None:
    """`personae.scoring._nli` and `personae.scoring` → `scoring`; a top-level module belongs to no package."""
    parts = module.split(".")
    return parts[1] if len(parts) > (1 if is_package else 2) else None


def _is_private_elsewhere(target: str, package: str | None) -> bool:
    """Whether module `target` is private to a package other than `package`."""
    parts = target.split(".")
    if parts[0] != "personae" or target.startswith(SHARED_PRIVATE) or len(parts) < 2:
        return False
    return any(_private(p) for p in parts[1:]) and parts[1] != package


def _private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")  # `__version__` is public


def cross_package_private_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """Imports in `source` (the code of `module`) that reach into another package's private modules or names.

    Counts `from personae.x._y import z`, `import personae.x._y` and `from personae.x import _y` where x is not the
    importing module's package, wherever they appear (function bodies and TYPE_CHECKING blocks too).
    """
    base = module.split(".") if is_package else module.split(".")[:-1]
    package = _package_of(module, is_package)
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                stem = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                stem = node.module or ""
            targets = [stem] + [f"{stem}.{a.name}" for a in node.names if _private(a.name)]
        else:
            continue
        found += [f"{module}:{node.lineno} imports {t}" for t in targets if _is_private_elsewhere(t, package)]
    return found


def _modules() -> list[tuple[Path, str, bool]]:
    out = []
    for path in sorted((SRC / "personae").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out.append((path, ".".join(parts), is_package))
    return out


def test_the_scanner_catches_each_kind_of_cross_package_private_import() -> None:
    planted = (
        "from personae.evals._runner import REPORT\n"
        "import personae.backends._cache\n"
        "def f():\n"
        "    from personae.interop import _png\n"
        "    from personae.scoring._training.train import TrainConfig\n"
    )
    found = cross_package_private_imports(planted, "personae.server._evals")
    assert [f.split(" imports ")[1] for f in found] == [
        "personae.evals._runner",
        "personae.backends._cache",
        "personae.interop._png",
        "personae.scoring._training.train",
    ]
    assert found[0] == "personae.server._evals:1 imports personae.evals._runner"


def test_the_scanner_allows_public_names_own_package_and_shared_helpers() -> None:
    allowed = (
        "from personae.scoring import APCScorer\n"
        "from personae import __version__\n"
        "from personae.server._service import Service\n"
        "from personae._util.paths import home\n"
        "from ._core import Ctx\n"
        "from . import _common\n"
        "import numpy._core\n"
    )
    assert cross_package_private_imports(allowed, "personae.server._app") == []
    # Relative imports resolve against the importing module: here they land in scoring, not server.
    assert cross_package_private_imports("from .._nli import get_nli\n", "personae.scoring._training.train") == []
    assert cross_package_private_imports("from ...scoring._nli import get_nli\n", "personae.server._x._y") != []
    # A package's __init__ belongs to its package.
    assert cross_package_private_imports("from personae.scoring._nli import get_nli\n", "personae.scoring", True) == []
    # A top-level module belongs to no package: every private module is someone else's.
    assert cross_package_private_imports("from personae.backends._api import BackendAPI\n", "personae.plugins") != []


def test_no_module_in_src_imports_another_packages_private_modules() -> None:
    found = [
        hit
        for path, module, is_package in _modules()
        for hit in cross_package_private_imports(path.read_text(encoding="utf-8"), module, is_package)
    ]
    assert found == [], "export these names from the package's __init__ instead:\n" + "\n".join(found)


def _imported_by(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; {code}; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    return set(out.stdout.split())


def test_importing_personae_loads_no_package_until_a_name_is_used() -> None:
    loaded = _imported_by("import personae")
    assert not {m for m in loaded if m.startswith("personae.")}
    assert not {"pydantic", "numpy", "sqlalchemy", "onnxruntime", "torch"} & loaded


def test_importing_scoring_keeps_torch_out() -> None:
    loaded = _imported_by("import personae.scoring, personae.scoring.training, personae.cli")
    assert not {"torch", "transformers", "onnx"} & loaded


def test_the_top_level_names_are_the_packages_own() -> None:
    from personae.backends import get_backend
    from personae.scoring import ScoringModels
    from personae.session import ChatSession

    assert personae.get_backend is get_backend
    assert personae.ScoringModels is ScoringModels
    assert personae.ChatSession is ChatSession
    for name in personae.__all__:
        assert getattr(personae, name) is not None
    assert set(personae.__all__) <= set(dir(personae))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = personae.nope  # type: ignore[attr-defined]
