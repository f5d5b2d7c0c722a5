"""Rescoring finished evals: model-free scores recomputed with other scoring models, no LLM call, old files kept."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from typer.testing import CliRunner

from helpers.evals import REPO, mock_spec
from personae.backends import Backend
from personae.cli import app
from personae.evals import (
    EvalError,
    EvalResults,
    RescoreError,
    SampleWriter,
    read_samples,
    rescore,
    run_eval,
    spec_from_data,
)
from personae.scoring import APCScorer, FakeEmbedder, FakeNLI, ScoringModels

runner = CliRunner()
TASKS: dict[str, Any] = {
    "faithfulness": {"stated": 2, "unstated": 1},
    "multi-turn": {"turns": 3, "goals": ["off-persona"]},
    "persona-gym": {"questions_per_task": 1, "tasks": ["Expected Action"]},
    "role-id": {"self_generated": 1},
}
JUDGED = {"persona-gym": "expected_action", "role-id": "accuracy"}


class ContrarianNLI(FakeNLI):
    """Calls every pair a contradiction: a scoring model that disagrees with the one the run was made with."""

    __test__ = False
    name = "contrarian"

    def predict(self, pairs: Sequence[tuple[str, str]]) -> npt.NDArray[np.float32]:
        return np.tile(np.asarray([[0.05, 0.1, 0.85]], dtype=np.float32), (len(pairs), 1))


class CountingNLI(FakeNLI):
    """The fake NLI, counting the pairs it is asked about."""

    __test__ = False

    def __init__(self) -> None:
        self.pairs = 0

    def predict(self, pairs: Sequence[tuple[str, str]]) -> npt.NDArray[np.float32]:
        self.pairs += len(pairs)
        return super().predict(pairs)


def fake_models(nli: FakeNLI | None = None) -> ScoringModels:
    return ScoringModels(nli=nli or FakeNLI(), embedder=FakeEmbedder(), ooc_classifier=False)


def forbid_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every backend raises if it is built or called: rescoring must do without."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("rescoring touched an LLM backend")

    for method in ("__init__", "generate", "stream"):
        monkeypatch.setattr(Backend, method, refuse)


@pytest.fixture(scope="module")
def template_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run of the mock agent and judges with the fake NLI and embedder, copied by each test that rescores it."""
    out = tmp_path_factory.mktemp("template") / "run"
    with pytest.MonkeyPatch.context() as patch:  # module scope: the autouse PERSONAE_HOME fixture has not run yet
        patch.setenv("PERSONAE_HOME", str(out.parent / "home"))
        asyncio.run(run_eval(mock_spec(TASKS), out))
    return out


@pytest.fixture
def finished(template_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, EvalResults]:
    """A fresh copy of the finished run and its results; from then on no backend may be built or called."""
    out = tmp_path / "run"
    shutil.copytree(template_run, out)
    forbid_llm(monkeypatch)
    return out, EvalResults.model_validate_json((out / "results.json").read_text())


def _by_id(out: Path) -> dict[str, Any]:
    return {s.id: s for s in read_samples(out / "samples.jsonl")}


def test_rescore_with_another_nli_changes_model_free_scores_only_and_keeps_the_old_files(
    finished: tuple[Path, EvalResults],
) -> None:
    out, before = finished
    old_files = {name: (out / name).read_bytes() for name in ("samples.jsonl", "results.json", "report.html")}
    old = _by_id(out)
    assert before.scoring is not None
    assert before.scoring.nli.name == "fake"
    assert (out / "personas.json").exists()
    # The fake NLI finds no contradiction in the mock agent's fact-quoting replies; the contrarian finds nothing else.
    assert before.tasks["faithfulness"].metrics["contradiction"].mean < 1.0

    after = rescore(out, models=fake_models(ContrarianNLI()))

    record = after.rescorings[-1]
    assert record.scoring.nli.name == "contrarian"
    assert after.scoring == record.scoring
    assert record.personas == "snapshot"
    assert record.not_rescored == {}
    assert record.metrics["role-id"] == []
    assert set(record.metrics["faithfulness"]) == {"apc_normalized", "apc", "contradiction", "ooc"}
    faithfulness = after.tasks["faithfulness"].metrics
    assert faithfulness["contradiction"].mean == 1.0
    assert faithfulness["apc_normalized"].mean < before.tasks["faithfulness"].metrics["apc_normalized"].mean
    assert after.tasks["multi-turn"].metrics["self_contradiction"].mean > 0.0
    assert after.tasks["multi-turn"].metrics["contradiction"].mean == 1.0
    # Judged scores, the run's own record and the item counts are as they were.
    for task, metric in JUDGED.items():
        assert after.tasks[task].metrics[metric] == before.tasks[task].metrics[metric]
    assert after.persona_scores == before.persona_scores
    assert (after.started_at, after.finished_at, after.usage) == (before.started_at, before.finished_at, before.usage)
    new = _by_id(out)
    assert list(new) == list(old)
    assert record.rescored == sum(1 for s in old.values() if s.task != "role-id")
    for sid, sample in new.items():
        assert sample.transcript == old[sid].transcript
        assert sample.judgements == old[sid].judgements
        if sample.task == "role-id":
            assert sample == old[sid]
    faith = next(s for s in new.values() if s.task == "faithfulness")
    assert faith.data["violations"]  # every statement is now contradicted
    # The files replaced are kept, byte for byte; results.json and the report say what happened.
    previous = out / record.previous
    assert previous.parent == out / "previous"
    assert {name: (previous / name).read_bytes() for name in old_files} == old_files
    on_disk = EvalResults.model_validate_json((out / "results.json").read_text())
    assert on_disk.rescorings == after.rescorings
    assert "rescored" in (out / "report.html").read_text()
    assert not list(out.glob("*.rescore-tmp"))


def test_rescoring_with_the_run_models_gives_back_the_run_scores(finished: tuple[Path, EvalResults]) -> None:
    out, before = finished
    original = _by_id(out)
    rescore(out, models=fake_models(ContrarianNLI()))
    again = rescore(out, models=fake_models())  # what `score` computes is what the run recorded
    assert len(again.rescorings) == 2
    assert again.rescorings[0].previous != again.rescorings[1].previous
    assert again.tasks == before.tasks
    back = _by_id(out)
    for sid, sample in original.items():
        assert back[sid].scores == sample.scores
        assert back[sid].data == sample.data


def test_rescore_uses_the_spec_nli_binding_and_refuses_an_llm_one(finished: tuple[Path, EvalResults]) -> None:
    out, _ = finished
    after = rescore(out)  # the spec binds nli: fake, embedder: fake
    assert after.rescorings[-1].scoring.nli.name == "fake"
    assert after.rescorings[-1].scoring.ooc_classifier is None
    with pytest.raises(RescoreError, match=r"NLI bound to an LLM \(llm:mock/echo\); rescoring calls no LLM"):
        rescore(out, nli="llm:mock/echo")
    results = json.loads((out / "results.json").read_text())
    results["spec"]["roles"]["nli"] = "llm:mock/echo"
    (out / "results.json").write_text(json.dumps(results))
    with pytest.raises(RescoreError, match=r"results.json: spec.roles.nli: NLI bound to an LLM"):
        rescore(out)


def _old_run(out: Path, personas: str) -> None:
    """A run folder as personae wrote it before rescoring existed: no persona snapshot, no scoring record."""
    out.mkdir()
    spec = mock_spec({"faithfulness": {"stated": 1}, "multi-turn": {"turns": 2}}, personas=[personas])
    old_scores = {"apc_normalized": 0.5, "apc": 6.0, "contradiction": 0.0, "ooc": 0.0}
    lines: list[dict[str, Any]] = [
        {
            "version": 1,
            "id": "faithfulness/ada-quint/stated/0",
            "task": "faithfulness",
            "persona": "ada-quint",
            "status": "ok",
            "scores": old_scores,
            "judgements": [],
            "transcript": [
                {"role": "user", "content": "Do you eat meat?"},
                {"role": "assistant", "content": "Well now. I have not eaten meat in thirty years."},
            ],
            "data": {"kind": "stated", "number": 0, "fact": "Ada Quint is a vegetarian.", "violations": []},
            "failure": None,
            "seconds": 0.1,
        },
        {  # a line cut short of its conversation: nothing to score
            "version": 1,
            "id": "faithfulness/brother-anselm/stated/0",
            "task": "faithfulness",
            "persona": "brother-anselm",
            "status": "ok",
            "scores": old_scores,
            "transcript": [],
            "data": {"kind": "stated", "number": 0, "violations": []},
        },
        {  # a persona the spec no longer has
            "version": 1,
            "id": "faithfulness/gone/stated/0",
            "task": "faithfulness",
            "persona": "gone",
            "status": "ok",
            "scores": old_scores,
            "transcript": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}],
            "data": {"kind": "stated", "number": 0, "violations": []},
        },
        {
            "version": 1,
            "id": "multi-turn/ada-quint/small-talk/0",
            "task": "multi-turn",
            "persona": "ada-quint",
            "status": "ok",
            "scores": {"contradiction": 0.0, "self_contradiction": 0.0, "ooc": 0.0, "apc_normalized": 0.5},
            "transcript": [
                {"role": "user", "content": "Do you eat meat?"},
                {"role": "assistant", "content": "I never eat meat."},
                {"role": "user", "content": "Really?"},
                {"role": "assistant", "content": "I eat meat."},
            ],
            "data": {"goal": "small-talk", "number": 0, "turns": []},
        },
        {
            "version": 1,
            "id": "multi-turn/ada-quint/small-talk/1",
            "task": "multi-turn",
            "persona": "ada-quint",
            "status": "failed",
            "failure": "backend: boom",
        },
    ]
    (out / "samples.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    results = {
        "version": 1,
        "name": "old",
        "spec": spec.model_dump(mode="json"),
        "versions": {"personae": "0.1.0"},
        "started_at": 1.0,
        "finished_at": 2.0,
        "seconds": 1.0,
        "items": len(lines),
        "finished": len(lines),
        "failed": 1,
        "tasks": {},
        "persona_names": {"ada-quint": "Ada Quint"},
    }
    (out / "results.json").write_text(json.dumps(results), encoding="utf-8")


def test_a_run_from_before_rescoring_rescores_what_it_can_and_says_what_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "old"
    _old_run(out, str(REPO / "examples" / "personas"))
    forbid_llm(monkeypatch)

    after = rescore(out, models=fake_models(ContrarianNLI()))

    record = after.rescorings[-1]
    assert record.personas == "reloaded"
    assert record.rescored == 2
    assert record.failed == 1
    assert record.not_rescored == {
        "faithfulness/brother-anselm/stated/0": "the transcript holds no user message answered by the agent",
        "faithfulness/gone/stated/0": "persona 'gone' is not among the run's personas",
    }
    samples = _by_id(out)
    ada = samples["faithfulness/ada-quint/stated/0"]
    assert ada.scores["contradiction"] == 1.0
    assert ada.not_rescored is None
    for sid in record.not_rescored:  # no stale model-free score is left to be averaged with the new ones
        assert samples[sid].scores == {}
        assert samples[sid].not_rescored == record.not_rescored[sid]
        assert "violations" not in samples[sid].data
    turns = samples["multi-turn/ada-quint/small-talk/0"].data["turns"]
    assert [t["turn"] for t in turns] == [0, 1]
    assert turns[0]["contradictions"] == []
    assert turns[1]["contradictions"]  # the contrarian contradicts the first reply with the second
    assert after.tasks["faithfulness"].metrics["contradiction"].n == 1
    assert after.tasks["multi-turn"].failed == 1
    assert samples["multi-turn/ada-quint/small-talk/1"].failure == "backend: boom"


def test_an_old_run_with_relative_persona_paths_needs_its_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "old"
    _old_run(out, "../personas")
    forbid_llm(monkeypatch)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RescoreError, match=r"personas.json: missing .* pass the spec the run was made from"):
        rescore(out, models=fake_models())
    data = json.loads((out / "results.json").read_text())["spec"]
    spec = spec_from_data(data, "spec.yaml", base_dir=REPO / "examples" / "evals")
    assert rescore(out, models=fake_models(), spec=spec).rescorings[-1].rescored == 2
    other = spec.model_copy(update={"seed": 7})
    with pytest.raises(RescoreError, match="made from a different spec"):
        rescore(out, models=fake_models(), spec=other)


def test_bad_folders_are_typed_errors_naming_file_and_field(finished: tuple[Path, EvalResults], tmp_path: Path) -> None:
    with pytest.raises(RescoreError, match=r"empty/samples.jsonl: missing: not an eval run folder"):
        rescore(tmp_path / "empty")
    out, _ = finished
    results = (out / "results.json").read_text()
    lines = (out / "samples.jsonl").read_text().splitlines(keepends=True)

    (out / "results.json").unlink()
    with pytest.raises(RescoreError, match=r"results.json: missing: the run is unfinished"):
        rescore(out)
    (out / "results.json").write_text(results)

    (out / "samples.jsonl").write_text("".join(lines[:-2]))
    with pytest.raises(RescoreError, match=rf"samples.jsonl: holds {len(lines) - 2} of the run's {len(lines)} items"):
        rescore(out)

    (out / "samples.jsonl").write_text("".join(lines[:3]) + '{"id": "x", "task"\n' + "".join(lines[3:]))
    with pytest.raises(RescoreError, match=r"samples.jsonl: line 4: not JSON"):
        rescore(out)

    broken = json.loads(lines[4]) | {"status": "maybe"}
    (out / "samples.jsonl").write_text("".join(lines[:4]) + json.dumps(broken) + "\n" + "".join(lines[5:]))
    with pytest.raises(RescoreError, match=r"samples.jsonl: line 5: status: Input should be 'ok' or 'failed'"):
        rescore(out)

    (out / "samples.jsonl").write_text("".join(lines))
    data = json.loads(results)
    (out / "results.json").write_text(json.dumps(data | {"items": "many"}))
    with pytest.raises(RescoreError, match=r"results.json: items: not a personae results file \(Input should be"):
        rescore(out)
    del data["spec"]["tasks"]
    (out / "results.json").write_text(json.dumps(data))
    with pytest.raises(RescoreError, match=r"results.json: spec.tasks: Field required"):
        rescore(out)
    (out / "results.json").write_text(results)

    writer = SampleWriter(out / "samples.jsonl")  # an eval resumed in this folder right now
    with pytest.raises(EvalError, match="another process is running this eval"):
        rescore(out)
    writer.close()
    assert (out / "samples.jsonl").read_text() == "".join(lines)
    assert not (out / "previous").exists()  # nothing was replaced by the refused attempts


def test_cli_rescore_prints_changes_and_fails_in_one_line(finished: tuple[Path, EvalResults], tmp_path: Path) -> None:
    out, _ = finished
    result = runner.invoke(app, ["eval", "--rescore", str(out)])
    assert result.exit_code == 0, result.output
    assert "rescored 18 samples with fake, fake; 0 failed items left as they were" in result.stdout
    assert "faithfulness apc_normalized:" in result.stdout
    assert "previous files kept in" in result.stdout
    (out / "samples.jsonl").write_text("not json\n")
    bad = runner.invoke(app, ["eval", "--rescore", str(out)])
    assert bad.exit_code == 2
    assert bad.stderr.count("\n") == 1
    assert "samples.jsonl: line 1: not JSON" in bad.stderr
    both = runner.invoke(app, ["eval", "--rescore", str(out), "--out", str(tmp_path / "x")])
    assert both.exit_code == 2
    assert "drop --out" in both.stderr
    neither = runner.invoke(app, ["eval"])
    assert neither.exit_code == 2
    assert "give a spec and --out DIR" in neither.stderr


async def test_a_run_scores_each_shown_reply_once_like_a_rescoring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The session's guard scores each reply as it is generated; the task's `score` reuses those verdicts instead
    # of a second NLI pass, so a run costs no more NLI work than before run and score were separate. The prompt's
    # premise check (which reads the user's message, not a reply) is left out of the count.
    monkeypatch.setattr(APCScorer, "premise_conflicts", lambda self, query, sentences=True: [])
    during_run, during_rescore = CountingNLI(), CountingNLI()
    spec = mock_spec({"faithfulness": TASKS["faithfulness"], "multi-turn": TASKS["multi-turn"]})
    await run_eval(spec, tmp_path / "run", models=fake_models(during_run))
    rescore(tmp_path / "run", models=fake_models(during_rescore))
    assert during_run.pairs > 0
    assert during_run.pairs == during_rescore.pairs
