"""The evaluation harness: judge parsing, statistics, tasks, failures, resume, CLI and reports."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.evals import BFI, REPO, mock_spec, needs_bfi, needs_environments
from personae.backends import get_backend
from personae.cli import app
from personae.evals import (
    EvalError,
    EvalRun,
    EvalSpecError,
    JudgeParseError,
    brier,
    expected_calibration_error,
    load_spec,
    parse_anchors,
    parse_probabilities,
    parse_score,
    read_samples,
    run_eval,
)

runner = CliRunner()
MOCK_SPEC = REPO / "examples" / "evals" / "mock.yaml"


# --- judge output parsing -------------------------------------------------------------------------------------


def test_parse_score_ladder() -> None:
    assert parse_score('{"rationale": "fits", "score": 4}') == (4.0, "fits", "json")
    assert parse_score('Sure!\n```json\n{"score": "5", "rationale": "great"}\n```').method == "json"
    repaired = parse_score("{'score': 3, 'rationale': 'ok',}")
    assert (repaired.score, repaired.method) == (3.0, "repair")
    assert parse_score("{score: 2, rationale: 'meh'").method == "repair"
    cut = parse_score('{"score": 4, "rationale": "The answer fits her background, her skills and')
    assert (cut.score, cut.method) == (4.0, "repair")
    assert cut.rationale.startswith("The answer fits")
    assert parse_score("The answer is weak. Score: 2").score == 2.0
    assert parse_score("I'd give it 4/5 overall.").score == 4.0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("As a language model I find this fascinating!!", "no JSON object and no score pattern"),
        ("", "empty judge output"),
        ('{"score": 9}', "outside 1..5"),
        ('{"verdict": "good"}', "without a numeric `score`"),
        ("Score: 7", "outside 1..5"),
    ],
)
def test_parse_score_failures_keep_raw_and_reason(text: str, reason: str) -> None:
    with pytest.raises(JudgeParseError) as info:
        parse_score(text)
    assert reason in info.value.reason
    assert info.value.raw == text


def test_parse_anchors_and_probabilities() -> None:
    anchors = parse_anchors(json.dumps({str(k): f"level {k}" for k in range(1, 6)}))
    assert anchors[5] == "level 5"
    with pytest.raises(JudgeParseError, match=r"missing for levels \[4, 5\]"):
        parse_anchors('{"1": "a", "2": "b", "3": "c"}')
    probs = parse_probabilities('{"probabilities": {"Ada": 3, "Vega": 1}}', ["Ada", "Vega", "Anselm"])
    assert probs == {"Ada": 0.75, "Vega": 0.25, "Anselm": 0.0}
    assert parse_probabilities("Ada: 0.2, Vega: 0.8", ["Ada", "Vega"])["Vega"] == pytest.approx(0.8)
    with pytest.raises(JudgeParseError):
        parse_probabilities("no idea", ["Ada", "Vega"])


def test_brier_and_calibration() -> None:
    assert brier([1.0, 0.0], 0) == 0.0
    assert brier([0.0, 1.0], 0) == 2.0
    assert brier([0.5, 0.5], 1) == pytest.approx(0.5)
    # Confident and always right: perfectly calibrated. Confident and right half the time: ECE 0.4.
    assert expected_calibration_error([0.9, 0.9], [True, True]) == pytest.approx(0.1)
    assert expected_calibration_error([0.9, 0.9], [True, False]) == pytest.approx(0.4)
    assert expected_calibration_error([], []) is None


# --- specs ----------------------------------------------------------------------------------------------------


def test_spec_errors_name_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "personas: [x]\nagent: {backend: mock/echo, guard: sometimes}\nroles: {judge: {backend: m}}\n"
        "tasks: {faithfulness: {}}\n",
        encoding="utf-8",
    )
    with pytest.raises(EvalSpecError) as info:
        load_spec(path)
    assert str(path) in str(info.value)
    assert "agent.guard" in str(info.value)
    result = runner.invoke(app, ["eval", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "agent.guard" in result.stderr


def test_unknown_task_and_bad_task_param() -> None:
    with pytest.raises(EvalSpecError, match="unknown task 'nope'"):
        EvalRun(mock_spec({"nope": {}}), "unused")
    with pytest.raises(EvalSpecError, match=r"tasks\.faithfulness\.stated"):
        EvalRun(mock_spec({"faithfulness": {"stated": -1}}), "unused")


# --- runs -----------------------------------------------------------------------------------------------------

FAST_TASKS = {"persona-gym": {"questions_per_task": 1}, "faithfulness": {"stated": 1, "unstated": 1}}


async def test_run_writes_every_item_once_and_refuses_to_overwrite(tmp_path: Path) -> None:
    spec = mock_spec({**FAST_TASKS, "multi-turn": {"turns": 3, "goals": ["off-persona"]}, "role-id": {}})
    results = await run_eval(spec, tmp_path / "run")
    samples = read_samples(tmp_path / "run" / "samples.jsonl")
    lines = (tmp_path / "run" / "samples.jsonl").read_text().splitlines()
    assert len(lines) == len(samples) == results.items == results.finished
    # 3 personas: persona-gym 5 tasks x 1, faithfulness 2 (no break probe: default 1), multi-turn 1, role-id 2.
    assert results.items == 3 * (5 + 3 + 1 + 2)
    assert set(results.persona_scores) == {"ada-quint", "brother-anselm", "captain-iris-vega"}
    assert all(v is not None and 1 <= v <= 5 for v in results.persona_scores.values())
    for task in ("persona-gym", "faithfulness", "multi-turn"):  # the OOC rate of the agent's replies, per persona too
        assert 0.0 <= results.tasks[task].metrics["ooc"].mean <= 1.0
        assert set(results.tasks[task].personas["ada-quint"]) >= {"ooc"}
    drift = results.tasks["multi-turn"].extra["drift"]["ada-quint"]["apc_normalized"]
    assert len(drift) == 3
    assert all(v is not None for v in drift)
    role_id = results.tasks["role-id"]
    # Names are masked, so the mock judge spreads probability evenly: a three-way tie, expected accuracy 1/3.
    assert role_id.metrics["accuracy"].mean == pytest.approx(1 / 3)
    assert role_id.metrics["confidence"].mean == pytest.approx(1 / 3)
    assert role_id.extra["ece"] == pytest.approx(0.0)
    with pytest.raises(EvalError, match="--resume"):
        await run_eval(spec, tmp_path / "run")
    with pytest.raises(EvalError, match="different spec"):
        await run_eval(mock_spec({"faithfulness": {}}), tmp_path / "run", resume=True)


async def test_resume_completes_after_partial_line_and_never_duplicates(tmp_path: Path) -> None:
    spec = mock_spec(FAST_TASKS)
    out = tmp_path / "run"
    first = await run_eval(spec, out)
    path = out / "samples.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    # Simulate a crash: the last 5 items never finished and a sixth was cut in the middle of its line.
    path.write_text("".join(lines[:-6]) + lines[-6][: len(lines[-6]) // 2])
    resumed = await run_eval(spec, out, resume=True)
    ids = [json.loads(line)["id"] for line in path.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == first.items == resumed.finished
    assert resumed.usage  # the resumed invocation made requests for the 6 missing items only
    assert sum(u.requests for k, u in resumed.usage.items() if k.startswith("agent")) <= 6 * 1


def test_a_second_writer_on_the_same_log_is_refused(tmp_path: Path) -> None:
    from personae.evals import SampleWriter

    first = SampleWriter(tmp_path / "samples.jsonl")
    with pytest.raises(EvalError, match="another process is running this eval"):
        SampleWriter(tmp_path / "samples.jsonl")
    first.close()
    SampleWriter(tmp_path / "samples.jsonl").close()


@needs_environments
async def test_garbage_judge_items_are_failures_not_scores(tmp_path: Path) -> None:
    spec = mock_spec(
        {"persona-gym": {"questions_per_task": 3}, "role-id": {"self_generated": 3}}, judges=["mock/evals-garbage"]
    )
    results = await run_eval(spec, tmp_path / "run")
    samples = read_samples(tmp_path / "run" / "samples.jsonl")
    failed = [s for s in samples if s.status == "failed"]
    ok = [s for s in samples if s.status == "ok"]
    assert failed
    assert ok
    for sample in failed:
        assert sample.failure
        assert "no usable judge output" in sample.failure
        assert not sample.scores
        bad = [j for j in sample.judgements if j.error]
        assert bad
        assert bad[0].raw.startswith("As a language model")
    pg = results.tasks["persona-gym"]
    assert pg.failed == sum(1 for s in failed if s.task == "persona-gym")
    assert pg.judge_failures >= pg.failed
    assert results.failed == len(failed)
    # Means are over the scored items only.
    key = "expected_action"
    values = [s.scores[key] for s in ok if key in s.scores]
    assert pg.metrics[key].n == len(values)
    assert pg.metrics[key].mean == pytest.approx(sum(values) / len(values))
    assert "failed" in (tmp_path / "run" / "report.html").read_text()


async def test_two_judges_record_every_score_and_survive_one_failing(tmp_path: Path) -> None:
    spec = mock_spec({"persona-gym": {"questions_per_task": 2}}, judges=["mock/evals-judge", "mock/evals-garbage"])
    results = await run_eval(spec, tmp_path / "run")
    samples = read_samples(tmp_path / "run" / "samples.jsonl")
    assert all(s.status == "ok" for s in samples)
    assert all(len(s.judgements) == 2 for s in samples)
    one_failed = [s for s in samples if sum(j.error is not None for j in s.judgements) == 1]
    assert one_failed
    for s in one_failed:
        good = next(j for j in s.judgements if j.score is not None)
        assert next(iter(s.scores.values())) == good.score
    assert results.tasks["persona-gym"].judge_failures == len(one_failed)


@needs_bfi
async def test_psychometric_reverse_keying_and_trait_error(tmp_path: Path) -> None:
    judge = get_backend("mock/always5", fn=lambda m, c, i: '{"score": 5, "rationale": "agrees"}', cache=None)
    spec = mock_spec({"psychometric": {"questionnaire": str(BFI)}})
    results = await run_eval(spec, tmp_path / "run", backends={"judge0": judge})
    bfi = json.loads(BFI.read_text())
    reverse = set(bfi["reverse"] if isinstance(bfi["reverse"], list) else json.loads(bfi["reverse"]))
    for s in read_samples(tmp_path / "run" / "samples.jsonl"):
        assert s.scores["rating"] == (1.0 if s.data["number"] in reverse else 5.0)
    traits = results.tasks["psychometric"].extra["traits"]["ada-quint"]
    # Extraversion has 8 items, 3 reverse-keyed: mean rating (5*5 + 3*1) / 8 = 3.5 → (3.5 - 1) / 4.
    assert traits["extraversion"]["measured"] == pytest.approx(0.625)
    assert traits["extraversion"]["abs_error"] == pytest.approx(abs(0.625 - 0.45))
    assert results.tasks["psychometric"].metrics["trait_abs_error"].n == 15


async def test_role_id_reads_personaeval_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "roles.csv"
    csv_path.write_text(
        "prompt,gt,option1,option2,option3,option1_profile,option2_profile,option3_profile\n"
        '"Harry: Who is there?\nRon: It\'s me, Ron, you prat.",Ron,Harry,Ron,Hermione,a wizard,his friend,a witch\n'
        '"Hermione: I read it in a book.",Hermione,Harry,Ron,Hermione,a wizard,his friend,a witch\n',
        encoding="utf-8",
    )
    spec = mock_spec({"role-id": {"self_generated": 0, "csv": [str(csv_path)]}})
    results = await run_eval(spec, tmp_path / "run")
    task = results.tasks["role-id"]
    assert task.items == 2
    assert task.failed == 0
    assert task.metrics["accuracy"].mean == 1.0  # the mock judge picks the name found in the dialogue
    assert task.extra["ece"] == pytest.approx(0.2)  # confidence 0.8, always right
    bad = tmp_path / "bad.csv"
    bad.write_text("prompt,gt,option1,option2\nhello,Zed,Harry,Ron\n", encoding="utf-8")
    with pytest.raises(EvalSpecError, match=r"bad.csv: row 2: gt: gt 'Zed' is not among the options"):
        EvalRun(mock_spec({"role-id": {"csv": [str(bad)]}}), tmp_path / "x")


BENCHMARK = REPO.parent / "shared" / "data" / "personagym" / "benchmark_v1.jsonl"


@pytest.mark.skipif(not BENCHMARK.exists(), reason=f"shared data absent: {BENCHMARK}")
async def test_persona_gym_uses_benchmark_questions(tmp_path: Path) -> None:
    spec = mock_spec({"persona-gym": {"questions_per_task": 2}}, personas=[str(BENCHMARK)], persona_limit=2)
    results = await run_eval(spec, tmp_path / "run")
    assert list(results.persona_scores) == ["persona-0", "persona-1"]
    first = json.loads(BENCHMARK.read_text().splitlines()[0])
    samples = {s.id: s for s in read_samples(tmp_path / "run" / "samples.jsonl")}
    asked = samples["persona-gym/persona-0/toxicity/1"].transcript[0]["content"]
    assert asked == first["questions"]["Toxicity"][1]


# --- CLI ------------------------------------------------------------------------------------------------------


@needs_bfi
@needs_environments
def test_mock_spec_cli_end_to_end_and_compare(tmp_path: Path) -> None:
    out = tmp_path / "mock"
    result = runner.invoke(app, ["eval", str(MOCK_SPEC), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "PersonaScore Ada Quint" in result.stdout
    refused = runner.invoke(app, ["eval", str(MOCK_SPEC), "--out", str(out)])
    assert refused.exit_code == 2
    assert "--resume" in refused.stderr
    results = json.loads((out / "results.json").read_text())
    assert set(results["tasks"]) == {"persona-gym", "faithfulness", "psychometric", "multi-turn", "role-id"}
    assert len(results["persona_scores"]) == 3
    assert all(v is not None for v in results["persona_scores"].values())
    assert results["git_revision"] is None or len(results["git_revision"]) == 40
    for task in results["tasks"].values():
        for stat in task["metrics"].values():
            assert stat["ci_low"] <= stat["mean"] <= stat["ci_high"]
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert len(lines) == results["items"] == 195
    html = (out / "report.html").read_text()
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    again = runner.invoke(app, ["eval", str(MOCK_SPEC), "--out", str(out), "--resume", "--no-progress"])
    assert again.exit_code == 0
    assert len((out / "samples.jsonl").read_text().splitlines()) == 195
    compare = tmp_path / "compare.html"
    result = runner.invoke(app, ["report", str(out), str(out), "--out", str(compare)])
    assert result.exit_code == 0, result.output
    assert compare.read_text().count("<svg") >= 6
    missing = runner.invoke(app, ["report", str(tmp_path / "nothing"), "--out", str(compare)])
    assert missing.exit_code == 2
    assert "run `personae eval` first" in missing.stderr


async def test_concurrent_sample_writes_share_fsyncs_and_each_returns_after_one_covering_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from personae.evals import EvalSample, SampleWriter, _log, read_samples

    path = tmp_path / "samples.jsonl"
    synced_lines: list[int] = []  # lines in the file when each fsync ran

    def counting_fsync(fd: int) -> None:
        synced_lines.append(path.read_text(encoding="utf-8").count("\n"))

    monkeypatch.setattr(_log.os, "fsync", counting_fsync)
    writer = SampleWriter(path)

    async def write(k: int) -> None:
        await writer.write_async(EvalSample(id=f"t/p/{k}", task="t", persona="p", status="ok"))
        lines = path.read_text(encoding="utf-8").splitlines()
        position = next(i for i, line in enumerate(lines, 1) if f'"t/p/{k}"' in line)
        assert any(n >= position for n in synced_lines), f"item {k} returned before an fsync covered it"

    await asyncio.gather(*(write(k) for k in range(50)))
    writer.close()
    assert [s.id for s in read_samples(path)] == [f"t/p/{k}" for k in range(50)]
    assert 1 <= len(synced_lines) < 50
