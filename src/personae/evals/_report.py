"""Self-contained HTML reports (inline SVG and CSS, nothing fetched): one run, or several runs side by side."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from html import escape
from pathlib import Path

from pydantic import ValidationError

from personae.evals._errors import EvalError
from personae.evals._log import (
    REPORT_FILE,
    RESULTS_FILE,
    SAMPLES_FILE,
    EvalResults,
    EvalSample,
    ModelInfo,
    TaskResult,
    read_samples,
)
from personae.evals._stats import Stat
from personae.evals._svg import CHART_CSS, Bar, bar_chart, line_chart, radar_chart

_UNCHARTED = frozenset({"apc", "rating", "ooc"})
"""Metrics left out of charts: on another scale than the task's other metrics (they stay in the tables)."""
TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.muted{color:#777}.fail{color:#b8434e}
.charts{display:flex;flex-wrap:wrap;gap:16px}.card{border:1px solid #eee;padding:8px;border-radius:6px}
.answer{background:#f7f7f7;padding:8px;border-radius:4px;white-space:pre-wrap}
"""


def load_results(out_dir: Path) -> EvalResults:
    """Read a run's results.json; a clear error when the folder holds no finished run."""
    path = out_dir / RESULTS_FILE
    try:
        return EvalResults.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalError(f"{path}: cannot read results ({exc.strerror or exc}); run `personae eval` first") from None
    except ValidationError as exc:
        raise EvalError(f"{path}: not a personae results file ({exc.errors()[0]['msg']})") from None


def _fmt(stat: Stat | None) -> str:
    if stat is None:
        return '<span class="muted">–</span>'
    return f"{stat.mean:.3f} <span class='muted'>[{stat.ci_low:.3f}, {stat.ci_high:.3f}] n={stat.n}</span>"


def _scale(task: str, metric: str, values: Sequence[float]) -> float:
    if task == "persona-gym" or metric == "rating":
        return 5.0
    return max(1.0, *values) if values else 1.0


def _bar(stat: Stat | None) -> Bar | None:
    return Bar(stat.mean, stat.ci_low, stat.ci_high) if stat else None


def _task_section(name: str, task: TaskResult, names: dict[str, str]) -> str:
    metrics = [m for m in task.metrics if m not in _UNCHARTED] or list(task.metrics)
    rows = "".join(
        f"<tr><td>{escape(m)}</td><td>{_fmt(task.metrics.get(m))}</td>"
        + "".join(f"<td>{_fmt(task.personas.get(p, {}).get(m))}</td>" for p in task.personas)
        + "</tr>"
        for m in task.metrics
    )
    head = "".join(f"<th>{escape(names.get(p, p))}</th>" for p in task.personas)
    series = [(names.get(p, p), [_bar(task.personas[p].get(m)) for m in metrics]) for p in task.personas]
    values = [b.value for _, bars in series for b in bars if b]
    chart = bar_chart(metrics, series, ymax=_scale(name, metrics[0] if metrics else "", values)) if metrics else ""
    fails = (
        f"<p class='fail'>{task.failed} of {task.items} items failed; {task.judge_failures} judge outputs unreadable"
        + "".join(f"<br>{escape(r)}: {c}" for r, c in task.failure_reasons.items())
        + "</p>"
        if task.failed or task.judge_failures
        else f"<p class='muted'>{task.items} items, no failures.</p>"
    )
    return (
        f"<h2 id='task-{escape(name)}'>{escape(name)}</h2>{fails}<div class='card'>{chart}</div>"
        f"<table><tr><th>metric</th><th>all</th>{head}</tr>{rows}</table>"
    )


def _traits_section(task: TaskResult, names: dict[str, str]) -> str:
    profiles = task.extra.get("traits", {})
    cards = []
    for pid, profile in profiles.items():
        target = [profile.get(t, {}).get("target") for t in TRAITS]
        measured = [profile.get(t, {}).get("measured") for t in TRAITS]
        chart = radar_chart([t[:5] for t in TRAITS], [("target", target), ("measured", measured)])
        cards.append(f"<div class='card'><h3>{escape(names.get(pid, pid))}</h3>{chart}</div>")
    return "<h2>Big Five profiles</h2><div class='charts'>" + "".join(cards) + "</div>" if cards else ""


def _drift_section(task: TaskResult, names: dict[str, str]) -> str:
    drift = task.extra.get("drift", {})
    if not drift:
        return ""
    apc = line_chart([(names.get(p, p), d["apc_normalized"]) for p, d in drift.items()])
    contra = line_chart([(names.get(p, p), d["self_contradiction"]) for p, d in drift.items()])
    return (
        "<h2>Drift over turns</h2><div class='charts'>"
        f"<div class='card'><h3>normalised APC</h3>{apc}</div>"
        f"<div class='card'><h3>self-contradiction rate</h3>{contra}</div></div>"
    )


def _norm_score(sample: EvalSample) -> float | None:
    """A sample's judged score on 0..1, for ranking worst answers across tasks."""
    if sample.task == "persona-gym" and sample.scores:
        return (next(iter(sample.scores.values())) - 1) / 4
    return None


def _worst_section(samples: Sequence[EvalSample], names: dict[str, str], limit: int = 10) -> str:
    scored = [(v, s) for s in samples if s.status == "ok" for v in [_norm_score(s)] if v is not None]
    scored.sort(key=lambda vs: vs[0])
    blocks = []
    for value, s in scored[:limit]:
        question = s.transcript[0]["content"] if s.transcript else ""
        answer = s.transcript[1]["content"] if len(s.transcript) > 1 else ""
        why = "".join(
            f"<li><b>{escape(j.judge)}</b>: {j.score if j.score is not None else 'unreadable'} — "
            f"{escape(j.rationale or j.error or '')}</li>"
            for j in s.judgements
        )
        blocks.append(
            f"<div class='card'><b>{escape(names.get(s.persona, s.persona))}</b> · {escape(s.data.get('pg_task', ''))}"
            f" · score {value * 4 + 1:.2f}<p><i>{escape(question)}</i></p><div class='answer'>{escape(answer)}</div>"
            f"<ul>{why}</ul></div>"
        )
    failed = [s for s in samples if s.status == "failed"][:limit]
    fails = "".join(
        f"<li><code>{escape(s.id)}</code>: {escape(s.failure or '')}"
        + "".join(f"<br><span class='muted'>raw: {escape(j.raw[:200])}</span>" for j in s.judgements if j.error)
        + "</li>"
        for s in failed
    )
    out = "<h2>Worst answers</h2>" + ("".join(blocks) or "<p class='muted'>No judged answers.</p>")
    if fails:
        out += f"<h2>Failed items (first {limit})</h2><ul>{fails}</ul>"
    return out


def _model(info: ModelInfo) -> str:
    return escape(info.name) + (f" <span class='muted'>sha256 {info.sha256[:12]}</span>" if info.sha256 else "")


def _scoring_line(results: EvalResults) -> str:
    """Which models made the model-free scores, and when they were last rescored."""
    if results.scoring is None:
        return ""
    line = f"<p class='muted'>Model-free scores by NLI {_model(results.scoring.nli)}, embedder "
    line += _model(results.scoring.embedder)
    if results.rescorings:
        last = results.rescorings[-1]
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(last.at))
        line += f"; rescored {when} (replaced files in {escape(last.previous)})"
        if last.not_rescored:
            line += f"; <span class='fail'>{len(last.not_rescored)} samples could not be rescored</span>"
    return line + "</p>"


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(title)}</title>"
        f"<style>{_CSS}{CHART_CSS}</style></head><body>{body}</body></html>"
    )


def render_report(results: EvalResults, samples: Sequence[EvalSample]) -> str:
    """The HTML of one run's report."""
    names = results.persona_names
    head = (
        f"<h1>personae eval: {escape(results.name)}</h1><p class='muted'>{results.finished}/{results.items} items, "
        f"{results.failed} failed · {results.seconds:.1f} s · personae {escape(results.versions.get('personae', '?'))}"
        f" · git {escape((results.git_revision or 'unknown')[:12])}</p>{_scoring_line(results)}"
    )
    ps = ""
    if results.persona_scores:
        rows = "".join(
            f"<tr><td>{escape(names.get(p, p))}</td><td>{'–' if v is None else f'{v:.3f}'}</td></tr>"
            for p, v in results.persona_scores.items()
        )
        chart = bar_chart(
            ["PersonaScore"],
            [(names.get(p, p), [Bar(v) if v is not None else None]) for p, v in results.persona_scores.items()],
            ymax=5.0,
        )
        ps = (
            f"<h2>PersonaScore</h2><div class='card'>{chart}</div>"
            f"<table><tr><th>persona</th><th>PersonaScore</th></tr>{rows}</table>"
        )
    usage = "".join(
        f"<tr><td>{escape(role)}</td><td>{escape(u.address)}</td><td>{u.requests}</td><td>{u.prompt_tokens}</td>"
        f"<td>{u.completion_tokens}</td></tr>"
        for role, u in results.usage.items()
    )
    parts = [head, ps]
    for name, task in results.tasks.items():
        if name == "persona-bias":  # a section of its own: differences to a baseline, not means side by side
            from personae.evals._tasks.bias._report import bias_section

            parts.append(bias_section(task, names))
            continue
        parts.append(_task_section(name, task, names))
        if name == "psychometric":
            parts.append(_traits_section(task, names))
        if name == "multi-turn":
            parts.append(_drift_section(task, names))
        if name == "faithfulness" and task.extra.get("by_kind"):
            rows = "".join(
                f"<tr><td>{escape(kind)}</td><td>{v['apc_normalized']:.3f}</td><td>{v['contradiction']:.3f}</td>"
                f"<td>{int(v['n'])}</td></tr>"
                for kind, v in task.extra["by_kind"].items()
            )
            parts.append(
                "<h3>By probe kind</h3><table><tr><th>probe</th><th>normalised APC</th><th>contradiction rate</th>"
                f"<th>n</th></tr>{rows}</table>"
            )
        if name == "role-id" and task.extra.get("ece") is not None:
            parts.append(f"<p>Expected calibration error: {task.extra['ece']:.3f}</p>")
    parts.append(_worst_section(samples, names))
    parts.append(
        "<h2>Usage (last invocation)</h2><table><tr><th>role</th><th>backend</th><th>requests</th>"
        f"<th>prompt tokens</th><th>completion tokens</th></tr>{usage}</table>"
    )
    parts.append(f"<details><summary>Spec</summary><pre>{escape(json.dumps(results.spec, indent=2))}</pre></details>")
    return _page(f"personae eval {results.name}", "".join(parts))


def write_report(out_dir: Path) -> Path:
    """Write report.html for the run in `out_dir`."""
    results = load_results(out_dir)
    path = out_dir / REPORT_FILE
    path.write_text(render_report(results, read_samples(out_dir / SAMPLES_FILE)), encoding="utf-8")
    return path


def render_comparison(runs: Sequence[tuple[str, EvalResults]]) -> str:
    """The HTML comparing runs side by side: every task metric, PersonaScore per persona."""
    labels = [label for label, _ in runs]
    head = "".join(f"<th>{escape(label)}</th>" for label in labels)
    parts = ["<h1>personae eval comparison</h1>"]
    parts.append(
        "<table><tr><th>run</th><th>spec</th><th>items</th><th>failed</th><th>git</th></tr>"
        + "".join(
            f"<tr><td>{escape(label)}</td><td>{escape(r.name)}</td><td>{r.finished}</td><td>{r.failed}</td>"
            f"<td>{escape((r.git_revision or '?')[:12])}</td></tr>"
            for label, r in runs
        )
        + "</table>"
    )
    personas = list(dict.fromkeys(p for _, r in runs for p in r.persona_scores))
    if personas:
        names = {p: n for _, r in runs for p, n in r.persona_names.items()}
        series = [
            (label, [Bar(v) if (v := r.persona_scores.get(p)) is not None else None for p in personas])
            for label, r in runs
        ]
        parts.append("<h2>PersonaScore</h2><div class='card'>")
        parts.append(bar_chart([names.get(p, p) for p in personas], series, ymax=5.0) + "</div>")
    tasks = list(dict.fromkeys(t for _, r in runs for t in r.tasks))
    for task in tasks:
        metrics = list(dict.fromkeys(m for _, r in runs if task in r.tasks for m in r.tasks[task].metrics))
        shown = [m for m in metrics if m not in _UNCHARTED] or metrics
        series = [
            (label, [_bar(r.tasks[task].metrics.get(m)) if task in r.tasks else None for m in shown])
            for label, r in runs
        ]
        values = [b.value for _, bars in series for b in bars if b]
        chart = bar_chart(shown, series, ymax=_scale(task, shown[0] if shown else "", values)) if shown else ""
        rows = "".join(
            f"<tr><td>{escape(m)}</td>"
            + "".join(f"<td>{_fmt(r.tasks[task].metrics.get(m) if task in r.tasks else None)}</td>" for _, r in runs)
            + "</tr>"
            for m in metrics
        )
        parts.append(
            f"<h2>{escape(task)}</h2><div class='card'>{chart}</div><table><tr><th>metric</th>{head}</tr>{rows}</table>"
        )
    return _page("personae eval comparison", "".join(parts))


def compare_runs(dirs: Sequence[Path], out: Path) -> Path:
    """Write an HTML comparison of the runs in `dirs` (labelled by folder name)."""
    runs = [(d.name or str(d), load_results(d)) for d in dirs]
    out.write_text(render_comparison(runs), encoding="utf-8")
    return out
