"""The persona-NLI training-data tables: what the generators make from them, pinned byte for byte.

The digests were computed from the generators while the tables were still Python tuples (commit ce773a5), so
they prove that moving the tables into data files changed no generated record. A deliberate change to the data
or the generators changes them: recompute them then, and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path

import pytest

import personae
from personae.scoring._training import _fam_work, ooc_data, relevance_data
from personae.scoring._training._fam_body import BodyTables
from personae.scoring._training._fam_mind import MindTables
from personae.scoring._training._fam_work import WorkTables, work_tables
from personae.scoring._training._fam_world import WorldTables
from personae.scoring._training._tables import DATA_DIR, MAX_BYTES, TableDataError, data_path, load_tables
from personae.scoring._training._vocab import VocabTables
from personae.scoring._training.persona_nli_data import FAMILIES, generate_persona_dev, generate_persona_nli

SRC = Path(personae.__file__).resolve().parents[1]

Records = list[dict[str, str]] | list[list[dict[str, str]]]


def _digest(records: Records) -> str:
    return hashlib.sha256(json.dumps(records, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


GENERATED: dict[str, tuple[Callable[[], Records], str]] = {
    "persona_nli_train": (
        lambda: generate_persona_nli(400, seed=0),
        "7d7eeac85d0b65ad5567df30deb5d7471fa6681e578c749d2bf7a5b5831d26de",
    ),
    "persona_nli_dev": (
        lambda: generate_persona_dev(200, seed=0),
        "77f9dd7e7ef9ada0b8b48d5f5491724dd62b62ceb70ca0c14bf361f47fc6bbb2",
    ),
    "persona_nli_all": (
        lambda: generate_persona_nli(200, seed=1, split="all"),
        "b01710bd4bc947653c28559eaea13c012d6c823055e963b4a019927c84446f20",
    ),
    "relevance": (
        lambda: relevance_data.generate_relevance_pairs(200, 0, "train"),
        "df118ce16309d4eb8b63cc9a71150faa0476a8c9808737583e7fc021e4d06ee4",
    ),
    "ooc": (
        lambda: ooc_data.generate_ooc(200, 0, "dev"),
        "b9403140c1d8f9a5f3e4a303287cc823a237914d2455867781a98de3eea78428",
    ),
    # 30 records with each family as the main one: every table is drawn from.
    "every_family": (
        lambda: [generate_persona_nli(30, seed=3, families=[name]) for name, _, _ in FAMILIES],
        "1762f14cd31115c226225256d93336ae08c5eec9ab9a6cf2f3677c4b63e2bef5",
    ),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_records_are_unchanged(name: str) -> None:
    make, digest = GENERATED[name]
    assert _digest(make()) == digest


def _bad_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of the shipped data file `name` with the first `old` replaced by `new`."""
    text = data_path(name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_shipped_tables_load_and_keep_the_old_names() -> None:
    tables = work_tables()
    assert tables.jobs[0] == ("nurse", "nurses", 21, tables.jobs[0].lines)
    assert tables.jobs[0].min_age == 21
    assert tables.job_ent[0] == ("direct", "I'm {a_v}.")
    assert work_tables() is tables  # read once
    assert _fam_work.JOBS is tables.jobs  # the former constant, served lazily
    with pytest.raises(AttributeError):
        _ = _fam_work.NO_SUCH_TABLE


def test_a_bad_field_is_reported_with_file_and_path(tmp_path: Path) -> None:
    path = _bad_copy(tmp_path, "work", "min_age: 21", "min_age: twenty-one")
    with pytest.raises(TableDataError) as info:
        load_tables(WorkTables, path)
    message = str(info.value)
    assert str(path) in message
    assert "jobs.0.min_age:" in message
    assert "valid integer" in message


@pytest.mark.parametrize(
    ("name", "old", "new", "where"),
    [
        ("vocab", "smalltalk|It's lovely", "It's lovely", "small_talk.0: Value error, expected 'tag|text'"),
        ("vocab", "[Ada, Adaeze,", "[Ada, Ada,", "female_names: Value error, repeated entries: Ada"),
        ("vocab", "relatives:", "relations:", "relations: Extra inputs are not permitted"),
        ("world", "gender: m", "gender: x", "eras.0.gender: Input should be '', 'f' or 'm'"),
        ("body", "    likes:\n", "    loves:\n", "foods.0.loves:"),  # the message varies with pydantic
        ("body", "  - kind: dog", "  - kind: dingo", "pet_lines has no entry for the pet kind(s) dingo"),
        (
            "mind",
            "    pole_a:\n      adjective: introverted",
            "    pole_a:\n      adjective: ''",
            "traits.0.pole_a.adjective:",
        ),
    ],
)
def test_malformed_tables_name_the_field(tmp_path: Path, name: str, old: str, new: str, where: str) -> None:
    model = {"vocab": VocabTables, "world": WorldTables, "body": BodyTables, "mind": MindTables}[name]
    path = _bad_copy(tmp_path, name, old, new)
    with pytest.raises(TableDataError, match=re.escape(where)) as info:
        load_tables(model, path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("jobs: [\n", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping of table names"),
        ("jobs: []\njobs: []\n", "repeated key 'jobs'"),
        ("x: !!python/object:os.system ls\n", "not valid YAML"),
    ],
)
def test_files_that_are_not_tables_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "work.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TableDataError, match=re.escape(problem)):
        load_tables(WorkTables, path)


def test_oversized_and_missing_files_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "work.yaml"
    big.write_text("# padding\n" * (MAX_BYTES // 10 + 1), encoding="utf-8")
    with pytest.raises(TableDataError, match="more than the"):
        load_tables(WorkTables, big)
    with pytest.raises(TableDataError, match="cannot read"):
        load_tables(WorkTables, tmp_path / "missing.yaml")


def test_tables_are_not_read_when_the_package_is_imported() -> None:
    code = (
        "import personae.scoring\n"
        "from personae.scoring._training import persona_nli_data, ooc_data, relevance_data\n"
        "from personae.scoring._training import _fam_work, _vocab\n"
        "assert _vocab.vocab.cache_info().currsize == 0 and _fam_work.work_tables.cache_info().currsize == 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(SRC)})


def test_data_files_ship_in_the_package() -> None:
    setuptools = tomllib.loads((SRC.parent / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns = setuptools["package-data"]["personae"]
    files = sorted(DATA_DIR.glob("*.yaml"))
    assert [p.stem for p in files] == ["body", "home", "mind", "taste", "vocab", "work", "world"]
    for path in files:
        relative = path.relative_to(SRC / "personae").as_posix()
        assert any(fnmatch(relative, pattern) for pattern in patterns), relative
