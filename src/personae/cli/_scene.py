"""`personae scene`: run a multi-character scene into a folder (transcript.jsonl, results.json, report.html)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from personae.cli._errors import EXIT_USAGE, fail, user_errors
from personae.cli._options import GuardChoice, GuardOpt, NOpt
from personae.interop import read_file
from personae.persona import Persona, load_persona
from personae.scene import (
    SceneError,
    SceneResults,
    SceneRun,
    SceneSpec,
    SceneStudy,
    StudySummary,
    describe_end,
    first_runnable,
    load_scene,
    load_scenes,
    looks_like_characterbox,
    measure_chat,
)
from personae.scene import (
    StudyExecutor as Executor,
)


@user_errors
def scene_command(
    scene: Annotated[
        Path,
        typer.Argument(
            help="A scene YAML file, a CharacterBox scenes file (.json), or a SillyTavern group-chat export (.jsonl) "
            "to measure without generating."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder: transcript.jsonl, results.json, report.html.")
    ],
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted scene in --out.")] = False,
    backend: Annotated[
        str | None,
        typer.Option("--backend", "-b", help="Bind every role (characters, narrator, director) to this address."),
    ] = None,
    turns: Annotated[int | None, typer.Option("--turns", min=1, max=500, help="Speaking turns at most.")] = None,
    scene_index: Annotated[
        int | None,
        typer.Option(
            "--scene-index",
            min=0,
            help="Which scene of a CharacterBox file (default: the first with two or more characters).",
        ),
    ] = None,
    guard: GuardOpt = None,
    n: NOpt = None,
    nli: Annotated[str | None, typer.Option("--nli", help="NLI binding: shipped, fake, onnx:DIR, hf:MODEL.")] = None,
    persona: Annotated[
        list[Path] | None,
        typer.Option("--persona", "-p", help="With a chat export: a character's persona file (repeatable)."),
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(
            "--seeds",
            min=1,
            max=1000,
            help="Run a study: every scene of the file (all of a CharacterBox file unless --scene-index) with seeds "
            "0..N-1, one scene per task; writes study.jsonl, scenes/<id>/ and summary.json.",
        ),
    ] = None,
    executor: Annotated[
        str, typer.Option("--executor", help="How a study's scenes run: asyncio (in process) or ray.")
    ] = "asyncio",
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256, help="A study's scenes at once.")] = 4,
) -> None:
    """Run a scene: several personas (and a narrator) in one conversation, guarded, measured, resumable.

    Given a SillyTavern group-chat export instead, measure that conversation the same way (no model is called).
    """
    try:
        if scene.suffix.lower() == ".jsonl":
            if backend is not None or turns is not None or scene_index is not None or guard is not None or n:
                drop = "drop --backend, --turns, --scene-index, --guard and -n"
                raise fail(f"a chat export is measured as it is: {drop}", EXIT_USAGE)
            personas = [_persona(p) for p in persona or []]
            results = asyncio.run(measure_chat(scene, out, personas, resume=resume, nli=nli or "shipped"))
            _print(results, out)
            return
        if persona:
            raise fail("--persona goes with a chat export (.jsonl); a scene file names its personas", EXIT_USAGE)
        if executor not in ("asyncio", "ray"):
            raise fail(f"--executor must be asyncio or ray, not {executor!r}", EXIT_USAGE)
        if seeds is None and executor != "asyncio":
            raise fail("--executor applies to a study: add --seeds N", EXIT_USAGE)
        if seeds is not None:
            scenarios = [_override(s, backend, turns, guard, n, nli) for s in load_scenes(scene, scene_index)]
            how: Executor = "ray" if executor == "ray" else "asyncio"
            study = SceneStudy(
                scenarios, range(seeds), out, executor=how, concurrency=concurrency, resume=resume, name=scene.stem
            )
            summary = asyncio.run(study.run())
            _print_study(summary, out)
            return
        if scene_index is None and looks_like_characterbox(scene):
            scene_index = first_runnable(scene)
            typer.echo(
                f"{scene.name}: running scene {scene_index}, the first with two or more characters "
                "(--scene-index picks another)",
                err=True,
            )
        spec = _override(load_scene(scene, scene_index), backend, turns, guard, n, nli)
        interactive = spec.user is not None and spec.user.takes_part
        ask = (lambda last: typer.prompt(f"{last}\nyou")) if interactive else None
        results = asyncio.run(SceneRun(spec, out, resume=resume, ask_user=ask).run())
    except SceneError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    _print(results, out)


def _override(
    spec: SceneSpec, backend: str | None, turns: int | None, guard: GuardChoice | None, n: int | None, nli: str | None
) -> SceneSpec:
    """The scene with the command line's overrides."""
    update: dict[str, object] = {}
    if turns is not None:
        update["stop"] = spec.stop.model_copy(update={"turns": turns})
    if guard is not None:
        update["guard"] = guard.value
    if n is not None:
        update["n"] = n
    if nli is not None:
        update["nli"] = nli
    spec = spec.model_copy(update=update)
    return spec.with_backend(backend) if backend is not None else spec


def _persona(path: Path) -> Persona:
    """A persona from any file `personae import` reads (YAML persona files included)."""
    if path.suffix.lower() in (".yaml", ".yml"):
        return load_persona(path)
    imported = read_file(path)
    if not imported.personas:
        raise fail(f"{path}: holds no persona", EXIT_USAGE)
    return imported.personas[0]


def _print(results: SceneResults, out: Path) -> None:
    console = Console()
    figures = results.scene
    console.print(
        f"{results.turns} turns, {describe_end(results.ended)}; role confusion {figures.role_confusion_rate:.0%}, "
        f"OOC {figures.ooc_rate:.0%}, self-contradiction {figures.contradiction_rate:.0%}, "
        f"dominance {figures.dominance:.2f}"
    )
    for name, f in results.characters.items():
        apc = "–" if f.apc_normalized is None else f"{f.apc_normalized:.2f}"
        console.print(f"  {name}: {f.turns} line{'' if f.turns == 1 else 's'}, {f.word_share:.0%} of words, APC {apc}")
    console.print(f"wrote {out / 'transcript.jsonl'}, {out / 'results.json'}, {out / 'report.html'}")


def _print_study(summary: StudySummary, out: Path) -> None:
    console = Console()
    console.print(
        f"{summary.recorded}/{summary.scenes} scenes recorded in {summary.seconds:.1f} s ({summary.executor})"
    )
    for name in ("role_confusion_rate", "ooc_rate", "contradiction_rate", "dominance"):
        spread = summary.figures.get(name)
        if spread is not None and spread.mean is not None:
            sd = "" if spread.stdev is None else f" ± {spread.stdev:.2f}"
            console.print(f"  {name}: {spread.mean:.2f}{sd}")
    console.print(f"wrote {out / 'study.jsonl'}, {out / 'scenes'}/, {out / 'summary.json'}")
