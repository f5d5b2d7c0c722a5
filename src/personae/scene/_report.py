"""The scene report: figures, per-character curves (inline SVG) and the transcript with per-line badges; no scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path

from pydantic import ValidationError

from personae.evals import CHART_CSS, Bar, bar_chart, line_chart
from personae.scene._log import REPORT_FILE, RESULTS_FILE, TRANSCRIPT_FILE, SceneRecord, SceneResults, read_transcript
from personae.scene._spec import SceneError

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.muted{color:#777}.charts{display:flex;flex-wrap:wrap;gap:16px}
.card{border:1px solid #eee;padding:8px;border-radius:6px}.turn{margin:6px 0;padding:6px 8px;border-radius:4px}
.line{background:#f7f7f7}.event,.narration{font-style:italic;color:#555}.user{background:#eef4fb}
.badge{display:inline-block;font-size:11px;padding:0 6px;margin-left:4px;border-radius:8px;background:#e5e5e5}
.bad{background:#f3d3d6;color:#7a1f2a}.good{background:#d6efdc;color:#1f5a2e}
details{margin-top:2px;font-size:12px}
"""


def load_scene_results(out_dir: Path) -> SceneResults:
    """Read a scene's results.json; a clear error when the folder holds no finished scene."""
    path = out_dir / RESULTS_FILE
    try:
        return SceneResults.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SceneError(f"{path}: cannot read results ({exc.strerror or exc}); run `personae scene` first") from None
    except ValidationError as exc:
        raise SceneError(f"{path}: not a personae scene results file ({exc.errors()[0]['msg']})") from None


def _pct(value: float) -> str:
    return f"{100 * value:.0f} %"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _badges(record: SceneRecord) -> str:
    shown, verdict = record.shown, record.shown_confusion
    if shown is None:
        return ""
    out = []
    if shown.apc_normalized is not None:
        out.append(f"<span class='badge'>APC {shown.apc_normalized:.2f}</span>")
    if verdict is not None and verdict.confused:
        out.append(f"<span class='badge bad'>role confusion: {escape(', '.join(verdict.kinds))}</span>")
    if shown.out_of_character:
        reasons = ", ".join(shown.ooc.reasons) if shown.ooc else ""
        out.append(f"<span class='badge bad'>OOC {escape(reasons)}</span>")
    if shown.contradictions:
        out.append(f"<span class='badge bad'>contradicts itself ×{len(shown.contradictions)}</span>")
    if shown.violations:
        out.append(f"<span class='badge bad'>violates {len(shown.violations)} statement(s)</span>")
    if len(record.candidates) > 1:
        out.append(f"<span class='badge'>{len(record.candidates)} candidates</span>")
    if not out[1:] and shown.apc_normalized is not None:
        out.append("<span class='badge good'>in role</span>")
    return "".join(out)


def _candidates(record: SceneRecord) -> str:
    if len(record.candidates) < 2:
        return ""
    rows = []
    for i, c in enumerate(record.candidates):
        verdict = record.confusion[i] if i < len(record.confusion) else None
        marks = [f"APC {c.apc_normalized:.2f}" if c.apc_normalized is not None else "unscored"]
        if verdict is not None and verdict.confused:
            marks.append("confused: " + "; ".join(f"{s.kind} {s.other} ({s.evidence[:60]})" for s in verdict.signals))
        if c.out_of_character:
            marks.append("OOC")
        if c.violations:
            marks.append(f"violates {len(c.violations)} statement(s)")
        if c.contradictions:
            marks.append(f"contradicts itself ×{len(c.contradictions)}")
        chosen = " <b>← chosen</b>" if i == record.chosen else ""
        rows.append(f"<li>{escape(c.text)} <span class='muted'>[{escape('; '.join(marks))}]</span>{chosen}</li>")
    return f"<details><summary>candidates</summary><ol start='0'>{''.join(rows)}</ol></details>"


_END_WORDS = {
    "turns": "ended at its turn limit",
    "narrator": "ended by the narrator",
    "nobody present": "ended with nobody left in it",
    "alone": "ended with one character left alone in it",
}
"""The runner's end codes (besides "event: NAME") in words."""


def describe_end(reason: str | None) -> str:
    """How a scene ended, in words: the transcript records the runner's reason code ("turns", "event: tide", …)."""
    if not reason:
        return "not yet ended"
    if reason.startswith("event: "):
        return f"ended with the event {reason.removeprefix('event: ')!r}"
    return _END_WORDS.get(reason, f"ended: {reason}")


def _turn(record: SceneRecord) -> str:
    if record.kind == "end":
        return f"<p class='muted'>The scene {escape(describe_end(record.text))}.</p>"
    if record.kind in ("event", "narration"):
        who = "Narrator: " if record.kind == "narration" else ""
        return f"<div class='turn {record.kind}'>{who}{escape(record.text)}</div>"
    why = f"<div class='muted'>{escape(record.why)}</div>" if record.why else ""
    return (
        f"<div class='turn {record.kind}'><b>{escape(record.speaker or '')}</b>{_badges(record)}"
        f"<div>{escape(record.text)}</div>{why}{_candidates(record)}</div>"
    )


def render_scene_report(results: SceneResults, records: Sequence[SceneRecord]) -> str:
    """The HTML of one scene's report."""
    scene, chars = results.scene, results.characters
    names = list(chars)
    share = "" if scene.scoring_share is None else f" = {scene.scoring_share:.1%} of generating"
    head = (
        f"<h1>personae scene: {escape(results.name)}</h1><p class='muted'>{results.turns} turns · "
        f"{escape(describe_end(results.ended))} · {results.seconds:.1f} s (generating lines "
        f"{scene.seconds_generating:.1f} s, scoring them {scene.seconds_scoring:.1f} s{share}, narrating "
        f"{scene.seconds_narrating:.1f} s) · personae {escape(results.versions.get('personae', '?'))}</p>"
    )
    conv = scene.convergence
    summary = (
        "<h2>Scene</h2><table><tr><th>figure</th><th>value</th></tr>"
        f"<tr><td>role confusion rate</td><td>{_pct(scene.role_confusion_rate)}</td></tr>"
        f"<tr><td>out-of-character rate</td><td>{_pct(scene.ooc_rate)}</td></tr>"
        f"<tr><td>self-contradiction rate</td><td>{_pct(scene.contradiction_rate)}</td></tr>"
        f"<tr><td>persona-violation rate</td><td>{_pct(scene.violation_rate)}</td></tr>"
        f"<tr><td>dominance (0 even, 1 one voice)</td><td>{scene.dominance:.2f}</td></tr>"
        f"<tr><td>convergence, meaning (start → end)</td><td>{_num(conv.semantic_start)} → {_num(conv.semantic_end)}"
        "</td></tr>"
        f"<tr><td>convergence, style (start → end)</td><td>{_num(conv.style_start)} → {_num(conv.style_end)}</td></tr>"
        f"<tr><td>confused candidates passed over by the guard</td><td>{scene.candidates_rejected_for_confusion}</td>"
        "</tr></table>"
    )
    rows = "".join(
        f"<tr><td>{escape(n)}</td><td>{f.turns}</td><td>{_pct(f.turn_share)}</td><td>{_pct(f.word_share)}</td>"
        f"<td>{_num(f.apc_normalized)}</td><td>{_pct(f.ooc_rate)}</td><td>{_pct(f.contradiction_rate)}</td>"
        f"<td>{_pct(f.violation_rate)}</td><td>{_pct(f.role_confusion_rate)}</td></tr>"
        for n, f in chars.items()
    )
    table = (
        "<h2>Characters</h2><table><tr><th>character</th><th>lines</th><th>turn share</th><th>word share</th>"
        "<th>APC</th><th>OOC</th><th>self-contradiction</th><th>persona violation</th><th>role confusion</th></tr>"
        f"{rows}</table>"
    )
    shares = bar_chart(
        ["turn share", "word share"], [(n, [Bar(chars[n].turn_share), Bar(chars[n].word_share)]) for n in names], 1.0
    )
    apc = line_chart([(n, chars[n].apc_curve) for n in names], xlabel="the character's line")
    confusion = line_chart([(n, list(chars[n].confusion_curve)) for n in names], xlabel="the character's line")
    charts = (
        "<div class='charts'>"
        f"<div class='card'><b>Share of the scene</b><br>{shares}</div>"
        f"<div class='card'><b>Normalised APC per line</b><br>{apc}</div>"
        f"<div class='card'><b>Role confusion per line (1 = confused)</b><br>{confusion}</div></div>"
    )
    transcript = "<h2>Transcript</h2>" + "".join(_turn(r) for r in records)
    spec = f"<details><summary>Scene spec</summary><pre>{escape(json.dumps(results.spec, indent=2))}</pre></details>"
    body = head + summary + table + charts + transcript + spec
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(results.name)}</title>"
        f"<style>{_CSS}{CHART_CSS}</style></head><body>{body}</body></html>"
    )


def write_report(out_dir: Path) -> Path:
    """Write report.html for the scene in `out_dir`."""
    results = load_scene_results(out_dir)
    path = out_dir / REPORT_FILE
    path.write_text(render_scene_report(results, read_transcript(out_dir / TRANSCRIPT_FILE)), encoding="utf-8")
    return path
