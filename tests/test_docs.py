"""The documentation generator: the benchmark table from recorded results, and the stale-page check.

`make test` runs the generator's `--check` on the real pages (docs-check); these tests pin its behaviour.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from helpers.scripts import load_script

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return load_script(REPO / "docs" / "gen_reference.py", "gen_reference")


def write_rows(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_no_results_yet_is_said_in_one_line(gen: ModuleType, tmp_path: Path) -> None:
    assert gen.read_results(tmp_path / "absent") == {}
    assert gen.read_results(tmp_path) == {}
    table = gen.bench_table({}, "bench/")
    assert table.startswith("No benchmark results are recorded yet")
    assert "\n" not in table


def test_the_latest_row_is_shown_with_its_goals(gen: ModuleType, tmp_path: Path) -> None:
    newer = {"bench": "nli_quality", "recorded_at": "2026-12-02T10:00:00+00:00", "snli_heldout": 0.81}
    older = {"bench": "nli_quality", "recorded_at": "2026-12-01T10:00:00+00:00", "snli_heldout": 0.70}
    write_rows(tmp_path / "nli_quality.jsonl", [newer, older])  # appended out of order: the date decides
    write_rows(tmp_path / "new_bench.jsonl", [{"items": 3, "note": "text", "ok": True}])
    table = gen.bench_table(gen.read_results(tmp_path), "bench/")
    lines = table.splitlines()
    nli = next(line for line in lines if "nli_quality" in line)
    assert "[`nli_quality`](bench/nli_quality.py)" in nli
    assert "2026-12-02 (2\u00a0runs)" in nli
    assert "SNLI held-out 81.0\u00a0% (goal ≥ 80\u00a0%)" in nli
    assert "not met" not in nli
    assert "APC Alice NLI" not in nli  # a figure the row lacks is left out, not shown as empty
    unknown = next(line for line in lines if "new_bench" in line)
    assert "items 3" in unknown  # a bench without headlines shows its first numbers
    assert "undated (1\u00a0run)" in unknown


def test_a_figure_a_row_lacks_is_never_read_from_its_goals(gen: ModuleType, tmp_path: Path) -> None:
    quick = {"preference": 0.5, "goals": {"alice_nli": 0.7}, "reference": {"triple_accuracy": 0.8}}
    write_rows(tmp_path / "scorer_quality.jsonl", [quick])  # a quick run: no Alice figure, no triples
    row = next(line for line in gen.bench_table(gen.read_results(tmp_path), None).splitlines() if "scorer" in line)
    assert "preferred 50.0" in row
    assert "Alice NLI" not in row
    assert "triple accuracy" not in row


def test_an_unmet_goal_is_marked(gen: ModuleType, tmp_path: Path) -> None:
    write_rows(tmp_path / "server_load.jsonl", [{"p99_added_ms": 75.0, "lost": 1, "duplicated": 0}])
    table = gen.bench_table(gen.read_results(tmp_path), None)
    assert "p99 added 75.0\u00a0ms (goal ≤ 50\u00a0ms: **not met**)" in table
    assert "lost 1 (goal 0: **not met**)" in table
    assert "duplicated 0 (goal 0)" in table
    assert "](bench/" not in table  # no links where the page cannot reach the scripts


def test_a_bad_results_line_is_named(gen: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text('{"a": 1}\n{not json\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"x\.jsonl:2: not a JSON line"):
        gen.read_results(tmp_path)


def test_check_names_the_stale_page_and_writing_fixes_it(
    gen: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    monkeypatch.setattr(gen, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(gen, "PAGES", {"docs/page.md": lambda: "# generated\n"})
    monkeypatch.setattr(gen, "BENCH_TABLES", {"README.md": "bench/"})
    monkeypatch.setattr(gen, "AUDIT_TABLES", ("README.md",))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# edited by hand\n", encoding="utf-8")
    readme = (
        "# x\n\n<!-- bench:start -->\nold table\n<!-- bench:end -->\n\n<!-- audit:start -->\nold\n<!-- audit:end -->\n"
    )
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")

    assert gen.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "stale: docs/page.md" in err
    assert "stale: README.md" in err
    assert (tmp_path / "docs" / "page.md").read_text(encoding="utf-8") == "# edited by hand\n"  # --check writes nothing

    assert gen.main([]) == 0
    assert (tmp_path / "docs" / "page.md").read_text(encoding="utf-8") == "# generated\n"
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "old table" not in text
    assert "No benchmark results are recorded yet" in text
    assert "No persona-bias audit of the embedded model is recorded yet" in text
    assert text.endswith(
        "<!-- bench:end -->\n\n<!-- audit:start -->\n" + gen.audit_table({}) + "\n<!-- audit:end -->\n"
    )
    assert gen.main(["--check"]) == 0


def test_missing_markers_are_an_error(gen: ModuleType) -> None:
    with pytest.raises(SystemExit, match=r"README\.md: the markers"):
        gen.with_block("# no markers here\n", "table", "README.md")


def _audit_row(date: str, gsm8k_black: float, flagged: bool) -> dict[str, object]:
    base = {"value": 0.7}
    black = {"value": gsm8k_black, "diff": gsm8k_black - 0.7, "diff_low": -0.9, "diff_high": -0.1, "flagged": flagged}
    return {
        "date": date,
        "bench": "persona_bias",
        "model": "embedded",
        "bbq_items": 15,
        "gsm8k_items": 10,
        "figures": {
            "gsm8k_acc": {"black": black, "baseline": base},
            "abstained": {"baseline": {"value": 0.0}, "black": {"value": 0.1, "diff": 0.1, "diff_low": 0.0}},
        },
    }


def test_the_audit_table_is_the_latest_embedded_audit(gen: ModuleType, tmp_path: Path) -> None:
    newer = _audit_row("2026-12-02T10:00:00+00:00", 0.2, flagged=True)
    reread = {"date": "2026-12-03T10:00:00+00:00", "bench": "persona_bias", "model": "embedded", "replies": 100}
    other = {**_audit_row("2026-12-04T10:00:00+00:00", 0.6, flagged=False), "model": "openai/gpt-4o-mini"}
    older = _audit_row("2026-12-01T10:00:00+00:00", 0.5, flagged=False)
    write_rows(tmp_path / "persona_bias.jsonl", [newer, older, reread, other])
    table = gen.audit_table(gen.read_results(tmp_path))
    lines = table.splitlines()
    assert "2026-12-02 (15 BBQ, 10 GSM8K items per persona)" in lines[0]  # no figures, or not embedded: not an audit
    assert lines[2] == "| persona | GSM8K acc. | abstained |"  # only the figures the row holds, in report order
    assert lines[4] == "| baseline | 0.70 | 0.00 |"  # the baseline first, its value alone
    assert lines[5] == "| black | 0.20 (-0.50 [-0.90, -0.10]) ⚑ | 0.10 (+0.10) |"  # an interval only where recorded


def test_no_audit_yet_is_said_in_one_line(gen: ModuleType) -> None:
    table = gen.audit_table({"persona_bias": [{"model": "embedded", "replies": 3}]})
    assert table.startswith("No persona-bias audit of the embedded model is recorded yet")
    assert "\n" not in table


def test_a_short_bench_table_leaves_out_what_each_bench_measures(gen: ModuleType, tmp_path: Path) -> None:
    write_rows(tmp_path / "ooc_quality.jsonl", [{"accuracy": 0.95}])
    runs = gen.read_results(tmp_path)
    assert "out-of-character detection" in gen.bench_table(runs, None)
    short = gen.bench_table(runs, None, what=False)
    assert short.splitlines()[0] == "| bench | latest run | headline figures |"
    assert "out-of-character detection" not in short
    assert "accuracy 95.0\u00a0%" in short


def test_the_readme_stays_under_10000_characters() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8")) < 10_000


def test_the_short_table_shows_the_reading_where_a_figure_was_read_by_hand(gen: ModuleType, tmp_path: Path) -> None:
    read = {"relative_ooc_cut": 0.9, "relative_role_confusion_cut": 0.8, "reading": {"relative_ooc_cut": 0.75}}
    write_rows(tmp_path / "scene_guard.jsonl", [read])
    runs = gen.read_results(tmp_path)
    short = next(line for line in gen.bench_table(runs, None, what=False).splitlines() if "scene_guard" in line)
    assert "OOC cut (read) 75.0" in short
    assert "OOC cut (detector)" not in short  # the reading stands for it
    assert "role confusion cut (detector) 80.0" in short  # nothing read for this one: the detector's stays
    full = next(line for line in gen.bench_table(runs, None).splitlines() if "scene_guard" in line)
    assert "OOC cut (detector) 90.0" in full
    assert "OOC cut (read) 75.0" in full
