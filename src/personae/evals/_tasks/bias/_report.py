"""The persona-bias section of report.html: every figure drawn from results.json's `extra` alone."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from personae.evals._log import TaskResult
from personae.evals._svg import DiffBar, diff_chart
from personae.evals._tasks.bias._figures import PROBES

_SPAN = {"toxicity": 4.0, "regard": 4.0, "bbq_bias_ambig": 2.0, "bbq_bias_disambig": 2.0}
"""Half-width of a probe's difference axis (its scale)."""


def _num(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "–"


def _ci(low: Any, high: Any) -> str:
    return f"<span class='muted'>[{_num(low)}, {_num(high)}]</span>" if low is not None else ""


def _gap_table(extra: Mapping[str, Any], names: Mapping[str, str], limit: int = 25) -> str:
    rows = []
    for g in extra.get("gaps", [])[:limit]:
        flag = "<b class='fail'>⚑</b>" if g["flagged"] else ""
        worse = "same" if g["diff"] == 0 else "worse" if g["worse"] else "better"
        rows.append(
            f"<tr><td>{escape(names.get(g['persona'], g['persona']))}</td><td>{escape(g['probe'])}</td>"
            f"<td>{_num(g['value'])}</td><td>{_num(g['baseline'])}</td>"
            f"<td>{g['diff']:+.3f} {_ci(g['diff_low'], g['diff_high'])}</td><td>{worse}</td><td>{flag}</td>"
            f"<td>{g['n']}</td></tr>"
        )
    if not rows:
        return "<p class='muted'>No differences to the baseline (did the baseline run?).</p>"
    return (
        "<h3>Largest gaps to the baseline</h3><p class='muted'>⚑: the paired bootstrap 95 % interval of the "
        "difference excludes 0. Flagged first, then by size on each probe's scale.</p><table><tr><th>persona</th>"
        "<th>probe</th><th>value</th><th>baseline</th><th>difference [95 % CI]</th><th></th><th></th><th>n</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _probe_cards(extra: Mapping[str, Any], names: Mapping[str, str]) -> str:
    table: Mapping[str, Mapping[str, Mapping[str, Any]]] = extra.get("figures", {})
    baseline = extra.get("baseline", "baseline")
    cards = []
    for probe in PROBES:
        per = table.get(probe.name)
        if not per:
            continue
        base = per.get(baseline, {})
        rows = [
            DiffBar(names.get(pid, pid), e["diff"], e.get("diff_low"), e.get("diff_high"), bool(e.get("flagged")))
            for pid, e in per.items()
            if isinstance(e.get("diff"), (int, float))
        ]
        rows.sort(key=lambda r: -abs(r.value))
        chart = diff_chart(rows, _SPAN.get(probe.name, 1.0)) if rows else ""
        cards.append(
            f"<div class='card'><h3>{escape(probe.label)}</h3><p class='muted'>baseline {_num(base.get('value'))} "
            f"{_ci(base.get('ci_low'), base.get('ci_high'))} · difference to it per persona</p>{chart}</div>"
        )
    return "<div class='charts'>" + "".join(cards) + "</div>"


def _examples(extra: Mapping[str, Any], names: Mapping[str, str]) -> str:
    blocks = []
    for ex in extra.get("examples", []):
        blocks.append(
            f"<div class='card'><b>{escape(names.get(ex['persona'], ex['persona']))}</b> · {escape(ex['probe'])} · "
            f"{escape(ex['why'])}<p><i>{escape(ex['prompt'])}</i></p><div class='answer'>{escape(ex['reply'])}</div>"
            f"<p class='muted'>baseline: {escape(ex['baseline_reply'])}</p></div>"
        )
    abst = []
    for pid, rows in extra.get("abstentions", {}).items():
        for ex in rows:
            abst.append(
                f"<li><b>{escape(names.get(pid, pid))}</b> ({escape(str(ex['probe']))}): "
                f"{escape(ex['reply'])} <span class='muted'>— {escape(str(ex['evidence']))}</span></li>"
            )
    out = "<h3>Worst examples (worse than the baseline on the same item)</h3>"
    out += "".join(blocks) or "<p class='muted'>None.</p>"
    if abst:
        out += "<h3>Abstentions</h3><ul>" + "".join(abst) + "</ul>"
    return out


def _stat(task: TaskResult, pid: str, metric: str) -> str:
    stat = task.personas.get(pid, {}).get(metric)
    return _num(stat.mean) if stat is not None else "–"


def bias_section(task: TaskResult, names: Mapping[str, str]) -> str:
    """Gaps table, one difference chart per probe, per-persona values, worst examples and abstentions."""
    extra = task.extra
    labels = {pid: info.get("name", pid) for pid, info in extra.get("personas", {}).items()}
    labels.update(names)
    table: Mapping[str, Mapping[str, Mapping[str, Any]]] = extra.get("figures", {})
    personas = list(extra.get("personas", {}))
    shown = [p for p in PROBES if p.name in table]
    head = "".join(f"<th>{escape(p.name)}</th>" for p in shown) + "<th>parsed</th><th>ooc</th>"
    body = "".join(
        f"<tr><td>{escape(labels.get(pid, pid))} <span class='muted'>"
        f"{escape(str(extra['personas'][pid].get('dimension', '')))}</span></td>"
        + "".join(f"<td>{_num(table[p.name].get(pid, {}).get('value'))}</td>" for p in shown)
        + "".join(f"<td>{_stat(task, pid, m)}</td>" for m in ("parsed", "ooc"))
        + "</tr>"
        for pid in personas
    )
    fails = (
        f"<p class='fail'>{task.failed} of {task.items} items failed</p>"
        if task.failed
        else f"<p class='muted'>{task.items} items, no failures.</p>"
    )
    return (
        "<h2 id='task-persona-bias'>persona-bias</h2>"
        + fails
        + _gap_table(extra, labels)
        + _probe_cards(extra, labels)
        + "<h3>Values per persona</h3><p class='muted'>parsed: BBQ and maths replies read to an answer; cut_off: "
        "replies the backend stopped at the token limit before an explicit answer (no answer: wrong for accuracy; "
        "– where the backend gave no finish reason); ooc: replies the out-of-character detector flags (lists and "
        "worked solutions count as assistant voice).</p>"
        + f"<table><tr><th>persona</th>{head}</tr>{body}</table>"
        + _examples(extra, labels)
    )
