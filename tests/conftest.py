"""Hermetic defaults: every test gets its own PERSONAE_HOME and no inherited API settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from personae.plugins import reset_plugins

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "personas"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "personae-home"
    monkeypatch.setenv("PERSONAE_HOME", str(home))
    for var in (
        "PERSONAE_CACHE_DIR",
        "PERSONAE_BACKEND",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "PERSONAE_OPENAI_API_KEY",
        "PERSONAE_DATABASE_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    reset_plugins()
    yield home
    reset_plugins()


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture
def minimal_persona_file(tmp_path: Path) -> Path:
    path = tmp_path / "sam.yaml"
    path.write_text(
        "name: Sam Rivers\n"
        "statements:\n"
        "  - Sam Rivers is a lighthouse keeper.\n"
        "  - Sam Rivers lives alone with a cat named Biscuit.\n"
        "  - Sam Rivers is afraid of deep water.\n",
        encoding="utf-8",
    )
    return path
