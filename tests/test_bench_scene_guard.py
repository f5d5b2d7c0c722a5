"""bench/scene_guard.py on the mock backends with rule-based scoring: its figures, their sanity, and its readings."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import REPO, SHARED_DATA
from helpers.scripts import load_script

BENCH = REPO / "bench" / "scene_guard.py"
HAS_CHARACTERBOX = (SHARED_DATA / "characterbox").is_dir()
OWN = ["harbour", "twins", "night-train", "coastal-ferry", "mountain-hut", "bakery", "ceres-dock"]
RATES = ("role_confusion", "contradiction", "ooc")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_script(BENCH, "scene_guard_bench")


def run(bench: ModuleType, tmp_path: Path, *options: str) -> dict[str, Any]:
    args = bench.parser().parse_args(["--scoring", "fake", "--out", str(tmp_path / "runs"), *options])
    result: dict[str, Any] = asyncio.run(bench.run(args))
    json.dumps(result)  # printed as one JSON line
    return result


def check_rates(result: dict[str, Any]) -> None:
    for name in RATES:
        off, on = result[f"{name}_rate_off"], result[f"{name}_rate_on"]
        assert 0.0 <= off <= 1.0
        assert 0.0 <= on <= 1.0
        expected = round(1 - on / off, 4) if off else None
        assert result[f"relative_{name}_cut"] == expected
    assert result["met"].keys() == result["reference"].keys()
    assert result["meets_reference"] == all(result["met"].values())


def test_echo_counts_every_line_of_every_scene_and_writes_a_reading_for_each(bench: ModuleType, tmp_path: Path) -> None:
    readings = tmp_path / "readings.jsonl"
    result = run(bench, tmp_path, "--backend", "mock/echo", "--turns", "2", "--readings", str(readings))
    scenes = [*(["harry-potter-22", "matrix-0"] if HAS_CHARACTERBOX else []), *OWN]
    assert result["bench"] == "scene_guard"
    assert result["backend"] == "mock/echo"
    assert result["scenes"] == scenes
    assert result["failures"] == []
    # Two turns, one line each, in every scene, with the guard off and on.
    assert result["replies_off"] == result["replies_on"] == 2 * len(scenes)
    assert result["per_scene"].keys() == set(scenes)
    for figures in result["per_scene"].values():
        assert figures["replies_off"] == figures["replies_on"] == 2
    check_rates(result)
    # Echo repeats what it heard: the first line of each scene writes out the opening event (the narrator's part, an
    # echo), the second the first speaker's line with its speaker label; best-of-n has only more echoes to choose from.
    assert result["role_confusion_rate_off"] == result["role_confusion_rate_on"] == 1.0
    assert result["role_confusion_kinds_off"]["writes_lines"] == len(scenes)
    assert result["role_confusion_kinds_off"]["echoes"] >= len(scenes)
    # In the two scenes where the speaker has one listener, the OOC detector's own role-confusion reason finds the
    # same echoes (the listener's lines written): counted once, as role confusion, and not again as out of character.
    assert result["role_confusion_kinds_off"]["ooc_role_confusion"] == 2
    assert result["ooc_rate_off"] == result["ooc_rate_on"] == 0.0
    assert result["relative_role_confusion_cut"] == 0.0
    assert not result["meets_reference"]
    assert result["seconds_scoring"] > 0
    assert result["seconds_generating"] >= 0
    # Every counted reply is in the readings, with the flags the figures counted.
    rows = [json.loads(line) for line in readings.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == result["replies_off"] + result["replies_on"]
    assert {r["guard"] for r in rows} == {"off", "on"}
    for row in rows:
        assert {"scene", "turn", "speaker", "guard", "heard", "text", "flags"} <= row.keys()
        assert row["text"].startswith("You said: ")
        assert row["flags"].keys() == {"role_confusion", "violated", "ooc", "self_contradiction"}
    firsts = [r for r in rows if r["turn"] == 0]
    assert len(firsts) == 2 * len(scenes)
    assert all("echoes" in [f["kind"] for f in r["flags"]["role_confusion"]] for r in firsts)
    for guard in ("off", "on"):
        mine = [r for r in rows if r["guard"] == guard]
        assert [r["candidates"] for r in mine] == [1 if guard == "off" else 4] * len(mine)
        for name, flag in (("role_confusion", "role_confusion"), ("contradiction", "violated"), ("ooc", "ooc")):
            flagged = sum(bool(r["flags"][flag]) for r in mine)
            assert result[f"{name}_rate_{guard}"] == round(flagged / len(mine), 4)
    assert (tmp_path / "runs" / "twins" / "on" / "transcript.jsonl").is_file()


def test_the_guard_passes_over_every_candidate_acting_for_another(bench: ModuleType, tmp_path: Path) -> None:
    # mock/scene-confused: each turn's first candidate acts for another character; best-of-n passes over it.
    first = ["harbour", "twins", "night-train"]  # the counts below are these three scenes'
    result = run(bench, tmp_path, "--backend", "mock/scene-confused", "--turns", "3", "--scenes", *first)
    assert result["replies_off"] == result["replies_on"] == 9
    check_rates(result)
    assert result["role_confusion_rate_off"] > 0.5
    assert result["role_confusion_kinds_off"]["speaks_for"] == 6
    # With the guard on nothing is left (the mock's reported words are one sentence: "You say I hear you, Rosa Marsh
    # …", no longer read as Rosa calling her listener by her own name; that case is counted in the test above)
    assert result["role_confusion_kinds_on"] == {}
    assert result["role_confusion_rate_on"] == 0.0
    assert result["ooc_rate_off"] == result["ooc_rate_on"] == 0.0
    assert result["met"]["relative_role_confusion_cut"]


def test_the_scoring_share_is_counted_as_results_json_counts_it(bench: ModuleType, tmp_path: Path) -> None:
    # the harbour scene has a narrator: generated, never scored, so not in the share
    result = run(bench, tmp_path, "--backend", "mock/scene", "--turns", "3", "--scenes", "harbour")
    results = json.loads((tmp_path / "runs" / "harbour" / "on" / "results.json").read_text(encoding="utf-8"))
    scene = results["scene"]
    assert scene["seconds_narrating"] > 0  # the bench's default backend options give the mock no delay: still > 0
    assert result["seconds_generating"] == round(scene["seconds_generating"], 2)
    assert result["scoring_over_generating"] == round(scene["scoring_share"], 4)


def test_characterbox_scenes_are_skipped_with_a_note_without_shared_data(bench: ModuleType, tmp_path: Path) -> None:
    result = run(bench, tmp_path, "--backend", "mock/scene", "--turns", "1", "--shared", str(tmp_path / "absent"))
    assert result["scenes"] == OWN
    assert len(result["skipped"]) == 2
    assert all("is absent" in note for note in result["skipped"])
    assert result["replies_off"] == result["replies_on"] == len(OWN)


def test_unknown_scenes_and_readings_paths(bench: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="unknown scene nowhere"):
        run(bench, tmp_path, "--scenes", "nowhere")
    readings = REPO / "bench" / "data" / "readings"
    assert bench.readings_path(Path("scene_guard_x.jsonl")) == readings / "scene_guard_x.jsonl"
    assert bench.readings_path(tmp_path / "r.jsonl") == tmp_path / "r.jsonl"
