"""Third-party extensions through the `personae` entry-point group: tasks, NLI models, importers and backends."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.evals import mock_spec
from personae import plugins
from personae.backends import get_backend, list_backends
from personae.cli import app
from personae.evals import build_task, list_tasks, run_eval
from personae.interop import list_importers, read_file
from personae.persona import load_persona
from personae.scoring import APCScorer, ScoringModelError, get_nli, list_nli

EXAMPLE = EntryPoint(name="example", value="plugins.example_plugin", group="personae")

EXAMPLE_FILE = "EXAMPLE-PERSONA\nname: Wren Hollis\nfact: Wren Hollis is a vegetarian.\nfact: Wren Hollis keeps bees.\n"


def _fake_entry_points(found: dict[str, list[EntryPoint]]):  # type: ignore[no-untyped-def]
    def entry_points(*, group: str) -> list[EntryPoint]:
        return found.get(group, [])

    return entry_points


@pytest.fixture
def example_plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example plugin installed, as if a package listed it in the `personae` entry-point group."""
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points({"personae": [EXAMPLE]}))
    plugins.reset_plugins()
    yield
    plugins.reset_plugins()


def test_without_the_plugin_its_extensions_are_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points({}))
    plugins.reset_plugins()
    assert "example-greeting" not in list_tasks()
    assert "example" not in list_nli()
    assert list_importers() == []


@pytest.mark.usefixtures("example_plugin")
async def test_a_plugin_task_runs_in_an_eval(tmp_path: Path) -> None:
    assert "example-greeting" in list_tasks()
    assert "faithfulness" in list_tasks()  # the built-ins are still there
    results = await run_eval(mock_spec({"example-greeting": {}}), tmp_path / "run")
    task = results.tasks["example-greeting"]
    assert results.failed == 0
    assert task.primary == "replied"
    assert task.metrics["replied"].mean == 1.0
    assert len(task.personas) == 3


@pytest.mark.usefixtures("example_plugin")
def test_a_plugin_nli_model_binds_by_its_kind(examples_dir: Path) -> None:
    nli = get_nli("example:vegetarian")
    assert nli.name == "example:vegetarian"
    probs = nli.predict([("x", "I am not vegetarian."), ("x", "A vegetarian, aye."), ("x", "Tea?")])
    assert probs.argmax(axis=1).tolist() == [2, 0, 1]
    # It is an NLI model like any other: APC scores with it.
    scorer = APCScorer(load_persona(examples_dir / "ada.yaml"), nli="example:vegetarian")
    assert scorer.nli.name == "example:vegetarian"
    with pytest.raises(ScoringModelError, match="or a plugin's: example"):
        get_nli("nope:x")


@pytest.mark.usefixtures("example_plugin")
def test_a_plugin_importer_reads_its_format_and_leaves_others_alone(tmp_path: Path, examples_dir: Path) -> None:
    assert list_importers() == ["example"]
    path = tmp_path / "wren.example"
    path.write_text(EXAMPLE_FILE, encoding="utf-8")
    persona = read_file(path).personas[0]
    assert persona.name == "Wren Hollis"
    assert persona.statements == ["Wren Hollis is a vegetarian.", "Wren Hollis keeps bees."]
    # Other files still go to the built-in formats.
    card = tmp_path / "card.json"
    card.write_text('{"name": "Sam", "description": "Sam keeps a lighthouse."}', encoding="utf-8")
    assert read_file(card).personas[0].name == "Sam"
    # And the CLI's import command uses it.
    result = CliRunner().invoke(app, ["import", str(path), "--to", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["wren-hollis.yaml"]


@pytest.mark.usefixtures("example_plugin")
def test_reset_forgets_plugin_registrations(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "example-greeting" in list_tasks()
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points({}))
    plugins.reset_plugins()
    assert "example-greeting" not in list_tasks()
    with pytest.raises(Exception, match="unknown task 'example-greeting'"):
        build_task("example-greeting", {}, ".", 0)


def test_a_plugin_that_fails_to_load_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = EntryPoint(name="broken", value="plugins.no_such_module", group="personae")
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points({"personae": [broken]}))
    plugins.reset_plugins()
    with pytest.raises(plugins.PluginError, match=r"plugin 'broken' \(plugins\.no_such_module\).*fix or uninstall"):
        list_tasks()


def test_backends_from_the_new_group_and_the_older_one(monkeypatch: pytest.MonkeyPatch) -> None:
    legacy = EntryPoint(name="legacy", value="plugins.example_plugin:register_backends", group="personae.backends")
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points({"personae.backends": [legacy]}))
    plugins.reset_plugins()
    assert "example" in list_backends()
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points({"personae": [EXAMPLE]}))
    plugins.reset_plugins()
    backend = get_backend("example/loud", cache=None, suffix="!")
    assert backend.generate_sync([{"role": "user", "content": "hi"}]).text == "HI!"


def test_a_registry_accepts_only_known_hooks() -> None:
    with pytest.raises(ValueError, match="unknown plugin hook"):
        plugins.Registry("thing", "register_things", builtins=lambda register: None, callback=print)
