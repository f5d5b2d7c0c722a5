"""Benchmark (issue 22): does the guard keep characters in character in multi-character scenes?

Every scene runs twice on the same backend with the same seeds: the guard off (one reply per turn), and best-of-n
(default 4; `--policy threshold` adds a corrective round when every candidate is role-confused, and when the best
contradicts the persona or leaves the role). Its scenes: one scene from each CharacterBox file in
../shared/data/characterbox (Harry Potter #22, three characters in the Shrieking Shack; The Matrix #0, Neo, Trinity
and Cypher; skipped with a note when the folder is absent), the example harbour scene (examples/scenes/harbour.yaml)
and six scenes written to tempt role confusion and persona contradictions (bench/data/scenes/: twins asked which of
them is which, three strangers on a stranded night train asked about their jobs, homes and habits, three of the
guard bench's characters on a coastal ferry whose purser puts a false premise to one of them, by name, every turn,
the night train's strangers in an alpine hut whose warden does the same, and two held out for the rules of
2026-12-05: three strangers in a Galway bakery before dawn, and an android customs officer, a physician and a tug
pilot on Ceres Station's dock).
Each scene is scored with the shipped models whatever its file says (`--scoring fake` for offline tests).

Prints one JSON line, guard off against on, over every character line of every scene: role-confusion rate (a line
speaking for or as another character, writing their lines, claiming their facts or giving them its own: the scene's
role-confusion detector, or the OOC detector's own role-confusion reason; each line counted once), contradiction rate
(a line with at least one persona violation: the scorer's calibrated verdict, as in guard_effect.py), out-of-character
rate (the OOC detector, for any reason but role confusion, which the first rate counts), each with its relative
cut; self-contradiction rate and mean normalised APC beside them; scoring time over generation time of the character
lines; replies counted, per scene too. `--readings FILE` writes every counted reply (scene, turn, speaker, guard,
what the character heard, the text, its flags) as JSONL for reading by hand (a bare file name goes to
bench/data/readings/). The scene folders
(transcript.jsonl, results.json, report.html per scene and guard) stay in `--out` (default: a temporary folder,
named in the output); `--resume` continues an interrupted run there. `--record` appends the line to
bench/results/scene_guard.jsonl.

References (issue 22): role-confusion rate, contradiction rate and OOC rate each cut by at least 50 % relative;
scoring at most 10 % of generation time.

Time: the default run (9 scenes × 6 turns × 2 guards: 54 character lines per guard, and 12 narrations in the three
scenes with a narrator) takes about 45 minutes on the embedded model on 2 idle cores (≈ 63 prompt and ≈ 18 decode
tokens/s). A character's prompt is 450–1,100 tokens (≈ 11 s to read; it grows with the scene) and a reply ≈ 60
tokens: a guard-off line ≈ 15 s, a best-of-4 line ≈ 28 s (its candidates share the prompt), a narration ≈ 13 s, plus
about a minute loading models. `--scenes twins --turns 2` is a smoke test of about 2 minutes (5 minutes at
`--threads 1` beside another job); `--backend mock/echo --scoring fake` runs in seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from personae.backends import Backend, BackendError, get_backend
from personae.guard import Candidate
from personae.scene import (
    TRANSCRIPT_FILE,
    SceneRecord,
    SceneRun,
    SceneSpec,
    line_confused,
    line_confusion_kinds,
    line_ooc,
    load_scene,
    memory_view,
    read_characterbox,
    read_transcript,
    scene_mock_options,
    scoring_models,
)
from personae.scoring import ScoringModels

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
READINGS = HERE / "data" / "readings"
OWN_SCENES = {
    "harbour": ROOT / "examples" / "scenes" / "harbour.yaml",
    "twins": HERE / "data" / "scenes" / "twins.yaml",
    "night-train": HERE / "data" / "scenes" / "night_train.yaml",
    "coastal-ferry": HERE / "data" / "scenes" / "coastal_ferry.yaml",
    "mountain-hut": HERE / "data" / "scenes" / "mountain_hut.yaml",
    "bakery": HERE / "data" / "scenes" / "bakery.yaml",
    "ceres-dock": HERE / "data" / "scenes" / "ceres_dock.yaml",
}
"""Scenes of our own, by key."""
CHARACTERBOX = {"harry-potter-22": ("Harry_Potter", 22), "matrix-0": ("The_Matrix", 0)}
"""One three-character scene of each CharacterBox file (its scene 0 may have one character), by key."""
GUARDS = ("off", "on")
REFERENCE = {
    "relative_role_confusion_cut": 0.5,
    "relative_contradiction_cut": 0.5,
    "relative_ooc_cut": 0.5,
    "scoring_over_generating": 0.10,
}


def load_scenes(shared: Path, only: Sequence[str]) -> tuple[list[tuple[str, SceneSpec]], list[str]]:
    """The bench's scenes by key (only those named in `only`, when given) and notes on the ones skipped."""
    known = [*CHARACTERBOX, *OWN_SCENES]
    unknown = [k for k in only if k not in known]
    if unknown:
        raise SystemExit(f"unknown scene {', '.join(unknown)}; the bench's scenes are {', '.join(known)}")
    wanted = set(only or known)
    scenes: list[tuple[str, SceneSpec]] = []
    skipped: list[str] = []
    folder = shared / "characterbox"
    for key, (title, index) in CHARACTERBOX.items():
        if key not in wanted:
            continue
        path = folder / f"{title}.scenes.json"
        if not path.is_file():
            skipped.append(f"{key}: {path} is absent (the CharacterBox scenes live in ../shared/data/characterbox)")
            continue
        scenes.append((key, read_characterbox(path, index)[0]))
    scenes.extend((key, load_scene(path)) for key, path in OWN_SCENES.items() if key in wanted)
    return scenes, skipped


def prepared(spec: SceneSpec, args: argparse.Namespace, guard: str) -> SceneSpec:
    """`spec` as the bench runs it: its backend, turns, seed and sampling, scoring models, and guard off or on."""
    spec = spec.with_backend(args.backend)
    fake = args.scoring == "fake"
    return spec.model_copy(
        update={
            "stop": spec.stop.model_copy(update={"turns": args.turns}),
            "seed": args.seed,
            "temperature": args.temperature,
            "max_tokens": args.max_tokens,
            "nli": "fake" if fake else "shipped",
            "embedder": "fake" if fake else "shipped",
            "guard": "off" if guard == "off" else args.policy,
            "n": 1 if guard == "off" else args.n,
        }
    )


def character_lines(records: Sequence[SceneRecord]) -> list[SceneRecord]:
    """The character lines of a transcript that had a reply chosen (what the figures count)."""
    return [r for r in records if r.kind == "line" and r.shown is not None]


def rate(hits: int, total: int) -> float | None:
    """hits / total, None for no lines."""
    return round(hits / total, 4) if total else None


def cut(off: float | None, on: float | None) -> float | None:
    """1 − on/off: the relative cut; None when the guard-off run had nothing to cut."""
    return round(1 - on / off, 4) if off and on is not None else None


def summarize(lines: Sequence[SceneRecord]) -> dict[str, Any]:
    """Rates, mean normalised APC, confusion kinds and times of some character lines.

    Role confusion and OOC are counted as the scene's results.json counts them (`line_confused`, `line_ooc`): a
    reply's role confusion once, in the role-confusion rate, even when the OOC detector found it too.
    """
    shown = [r.shown for r in lines if r.shown is not None]
    confused = [line_confusion_kinds(r) for r in lines if line_confused(r)]
    apc = [c.apc_normalized for c in shown if c.apc_normalized is not None]
    generating = sum(r.seconds_generating for r in lines)
    scoring = sum(r.seconds_scoring for r in lines)
    return {
        "replies": len(lines),
        "role_confusion_rate": rate(len(confused), len(lines)),
        "contradiction_rate": rate(sum(bool(c.violations) for c in shown), len(lines)),
        "ooc_rate": rate(sum(line_ooc(r) for r in lines), len(lines)),
        "self_contradiction_rate": rate(sum(bool(c.contradictions) for c in shown), len(lines)),
        "apc_norm": round(sum(apc) / len(apc), 4) if apc else None,
        "role_confusion_kinds": dict(Counter(k for kinds in confused for k in kinds)),
        "seconds_generating": round(generating, 2),
        "seconds_scoring": round(scoring, 2),
        "scoring_over_generating": round(scoring / generating, 4) if generating else None,
    }


def readings(key: str, guard: str, records: Sequence[SceneRecord]) -> list[dict[str, Any]]:
    """One row per counted reply: where it was said, what its speaker had heard, the text and every flag on it."""
    rows = []
    for i, r in enumerate(records):
        shown, confusion = r.shown, r.shown_confusion
        if r.kind != "line" or shown is None or r.speaker is None:
            continue
        _, heard = memory_view(r.speaker, records[:i])
        rows.append(
            {
                "scene": key,
                "turn": r.turn,
                "step": r.step,
                "speaker": r.speaker,
                "guard": guard,
                "heard": heard,
                "text": shown.text,
                "candidates": len(r.candidates),
                "chosen": r.chosen,
                "flags": {
                    "role_confusion": [
                        *([s.model_dump() for s in confusion.signals] if confusion else []),
                        *(
                            [{"kind": "ooc_role_confusion", "evidence": ooc_evidence(shown)}]
                            if "ooc_role_confusion" in line_confusion_kinds(r)
                            else []
                        ),
                    ],
                    "violated": [v.statement for v in shown.violations],
                    "ooc": [x for x in shown.ooc.reasons if x != "role_confusion"] if line_ooc(r) and shown.ooc else [],
                    "self_contradiction": [c.earlier for c in shown.contradictions],
                },
                "apc_norm": None if shown.apc_normalized is None else round(shown.apc_normalized, 4),
            }
        )
    return rows


def ooc_evidence(shown: Candidate) -> str:
    """What the OOC detector saw as role confusion in a reply."""
    signals = shown.ooc.signals if shown.ooc else []
    return next((s.evidence for s in signals if s.reason == "role_confusion"), "")


def readings_path(path: Path) -> Path:
    """Where `--readings` writes: a bare file name goes to bench/data/readings/, a path is taken as given."""
    return READINGS / path if path.parent == Path(".") and not path.is_absolute() else path


def make_backend(args: argparse.Namespace) -> Backend:
    """The one backend every role of every scene uses (uncached: the bench times generation)."""
    options = scene_mock_options(args.backend)
    if args.threads and args.backend.split("/", 1)[0] == "embedded":
        options["n_threads"] = args.threads
    return get_backend(args.backend, cache=None, **options)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    scenes, skipped = load_scenes(args.shared, args.scenes)
    for note in skipped:
        print(f"skipped {note}", file=sys.stderr)
    if not scenes:
        raise SystemExit("no scene to run")
    if args.resume and args.out is None:
        raise SystemExit("--resume needs --out, the folder of the run to continue")
    out = args.out or Path(tempfile.mkdtemp(prefix="scene-guard-"))
    backend = make_backend(args)
    models: ScoringModels | None = None
    lines: dict[str, dict[str, list[SceneRecord]]] = {g: {} for g in GUARDS}
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    started = time.perf_counter()
    try:
        for key, base in scenes:
            for guard in GUARDS:
                spec = prepared(base, args, guard)
                models = models or scoring_models(spec)  # one set of scoring models for every run
                folder = out / key / guard
                began = time.perf_counter()
                try:
                    await SceneRun(
                        spec, folder, resume=args.resume and folder.exists(), backends={"*": backend}, models=models
                    ).run()
                except BackendError as exc:  # recorded, never fatal: the lines so far still count
                    failures.append({"scene": key, "guard": guard, "error": f"{type(exc).__name__}: {exc}"})
                records = read_transcript(folder / TRANSCRIPT_FILE)
                lines[guard][key] = character_lines(records)
                rows.extend(readings(key, guard, records))
                print(
                    f"{key} guard {guard}: {len(lines[guard][key])} lines in {time.perf_counter() - began:.0f} s",
                    file=sys.stderr,
                )
    finally:
        await backend.aclose()
    written = None
    if args.readings:
        written = readings_path(args.readings)
        written.parent.mkdir(parents=True, exist_ok=True)
        with written.open("w", encoding="utf-8") as sink:
            sink.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    off = summarize([r for ls in lines["off"].values() for r in ls])
    on = summarize([r for ls in lines["on"].values() for r in ls])
    per_scene = {}
    for key, _ in scenes:
        a, b = summarize(lines["off"][key]), summarize(lines["on"][key])
        per_scene[key] = {
            f"{figure}_{guard}": s[figure]
            for figure in ("replies", "role_confusion_rate", "contradiction_rate", "ooc_rate")
            for guard, s in (("off", a), ("on", b))
        }
    figures: dict[str, Any] = {
        "bench": "scene_guard",
        "backend": backend.address,
        "scoring": args.scoring,
        "n": args.n,
        "policy": args.policy,
        "seed": args.seed,
        "turns": args.turns,
        "temperature": args.temperature,
        "max_tokens": args.max_tokens,
        "scenes": [key for key, _ in scenes],
        "skipped": skipped,
        "replies_off": off["replies"],
        "replies_on": on["replies"],
    }
    for name in ("role_confusion", "contradiction", "ooc"):
        figures[f"{name}_rate_off"] = off[f"{name}_rate"]
        figures[f"{name}_rate_on"] = on[f"{name}_rate"]
        figures[f"relative_{name}_cut"] = cut(off[f"{name}_rate"], on[f"{name}_rate"])
    figures.update(
        {
            "self_contradiction_rate_off": off["self_contradiction_rate"],
            "self_contradiction_rate_on": on["self_contradiction_rate"],
            "apc_norm_off": off["apc_norm"],
            "apc_norm_on": on["apc_norm"],
            "role_confusion_kinds_off": off["role_confusion_kinds"],
            "role_confusion_kinds_on": on["role_confusion_kinds"],
            "seconds_generating": on["seconds_generating"],
            "seconds_scoring": on["seconds_scoring"],
            "scoring_over_generating": on["scoring_over_generating"],
            "seconds_generating_off": off["seconds_generating"],
            "seconds_scoring_off": off["seconds_scoring"],
            "scoring_over_generating_off": off["scoring_over_generating"],
            "per_scene": per_scene,
            "seconds_total": round(time.perf_counter() - started, 1),
            "out": str(out),
            "readings": str(written) if written else None,
            "reference": REFERENCE,
        }
    )
    met = {
        key: (value := figures[key]) is not None
        and (value <= goal if key == "scoring_over_generating" else value >= goal)
        for key, goal in REFERENCE.items()
    }
    figures["meets_reference"] = all(met.values())
    figures["met"] = met
    figures["failures"] = failures
    return figures


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", default="embedded", help="backend of every role (e.g. mock/echo for a smoke test)")
    p.add_argument("--turns", type=int, default=6, help="character turns per scene")
    p.add_argument("--n", type=int, default=4, help="candidates per turn with the guard on")
    p.add_argument(
        "--policy",
        choices=("best-of-n", "threshold"),
        default="best-of-n",
        help="the guard-on policy; threshold adds a corrective round when every candidate is confused, or the line "
        "shown contradicts or leaves the role",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--max-tokens", type=int, default=120)
    p.add_argument("--scoring", choices=("shipped", "fake"), default="shipped", help="fake: offline rule-based models")
    p.add_argument("--scenes", nargs="+", default=[], help="only these scenes (keys; default: all)")
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data", help="shared data folder")
    p.add_argument("--threads", type=int, default=0, help="llama.cpp threads of the embedded model (0: every core)")
    p.add_argument("--out", type=Path, default=None, help="folder of the scene runs (default: a temporary one)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--readings", type=Path, default=None, help="write every counted reply with its flags (JSONL)")
    p.add_argument("--record", action="store_true", help="append the figures to bench/results/scene_guard.jsonl")
    return p


if __name__ == "__main__":
    arguments = parser().parse_args()
    result = asyncio.run(run(arguments))
    if arguments.record:
        record("scene_guard", result)
    print(json.dumps(result, ensure_ascii=False))
