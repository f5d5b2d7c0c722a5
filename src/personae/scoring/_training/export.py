"""Exporting trained encoders to ONNX with int8-compressed weights for the package.

Weights are stored as int8 with one fp32 scale per row and a DequantizeLinear node; activations stay
fp32. onnxruntime folds the dequantisation into fp32 constants when the session loads, so the file is
about a quarter of the fp32 size while results do not depend on batch composition (unlike dynamic
activation quantisation, whose scales change with what else is in the batch).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from personae._util import weights

MIN_COMPRESSED_ELEMENTS = 16_384
"""Initializers smaller than this stay fp32 (biases, layer norms): not worth the precision loss."""


def _export_fp32(model: Any, path: Path, pair_input: bool, max_length: int) -> None:
    import inspect

    import torch

    model.eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    # BERT-style encoders take segment ids; MPNet and RoBERTa-style ones have no such input.
    typed = "token_type_ids" in inspect.signature(model.forward).parameters
    names = ["input_ids", "attention_mask", "token_type_ids"] if typed else ["input_ids", "attention_mask"]
    inputs = (ids, torch.ones_like(ids), torch.zeros_like(ids))[: len(names)]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    output = "logits" if pair_input else "last_hidden_state"
    axes[output] = {0: "batch"} if pair_input else {0: "batch", 1: "sequence"}

    class Wrapped(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors: Any) -> Any:
            out = self.inner(**dict(zip(names, tensors, strict=True)))
            return out.logits if pair_input else out.last_hidden_state

    torch.onnx.export(
        Wrapped(model),
        inputs,
        str(path),
        input_names=names,
        output_names=[output],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )


def compress_weights(src: Path, dest: Path) -> dict[str, int]:
    """Rewrite large fp32 initializers as int8 + per-row scale + DequantizeLinear."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    kept, new_nodes = [], []
    compressed = 0
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype != np.float32 or array.ndim != 2 or array.size < MIN_COMPRESSED_ELEMENTS:
            kept.append(init)
            continue
        # Per-column scales (axis 1) survive a Gather on axis 0, so embedding tables work too.
        scale = np.abs(array).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.round(array / scale), -127, 127).astype(np.int8)
        kept.append(numpy_helper.from_array(q, init.name + "__int8"))
        kept.append(numpy_helper.from_array(scale.astype(np.float32), init.name + "__scale"))
        kept.append(numpy_helper.from_array(np.zeros(scale.shape, dtype=np.int8), init.name + "__zero"))
        new_nodes.append(
            helper.make_node(
                "DequantizeLinear",
                [init.name + "__int8", init.name + "__scale", init.name + "__zero"],
                [init.name],
                axis=1,
                name=init.name + "__dequantize",
            )
        )
        compressed += 1
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(new_nodes + nodes)
    onnx.save(model, str(dest))
    return {"compressed_initializers": compressed, "bytes": dest.stat().st_size}


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file (the shared block-wise reader: a model file need not fit in memory twice)."""
    return weights.file_sha256(path)


def export_model(
    source: Path, out_dir: Path, kind: str, max_length: int, extra_config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Export a Hugging Face checkpoint folder (`kind` = cross-encoder or embedder) into a shipped-model folder."""
    from transformers import AutoModel, AutoModelForSequenceClassification

    pair = kind == "cross-encoder"
    model = (AutoModelForSequenceClassification if pair else AutoModel).from_pretrained(str(source))
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "model.fp32.onnx"
    _export_fp32(model, fp32, pair, max_length)
    stats: dict[str, Any] = dict(compress_weights(fp32, out_dir / "model.onnx"))
    fp32.unlink()
    shutil.copy(source / "tokenizer.json", out_dir / "tokenizer.json")
    config: dict[str, Any] = {"kind": kind, "max_length": max_length, **(extra_config or {})}
    if pair:
        config["labels"] = [model.config.id2label[i] for i in range(model.config.num_labels)]
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    stats["sha256"] = sha256_of(out_dir / "model.onnx")
    return stats


def param_names(graph: Any, names: set[str]) -> dict[str, tuple[str, bool]]:
    """Which model parameter each of `names` (initializers `_export_fp32` wrote) holds, and whether transposed.

    torch.onnx keeps parameter names for most initializers but names Linear weights `onnx::MatMul_N`, stored
    transposed: for those the MatMul node's name says which layer they belong to.
    """
    prefix = "inner."
    found: dict[str, tuple[str, bool]] = {}
    for name in names:
        if name.startswith(prefix) and not name.endswith(("__int8", "__scale", "__zero")):
            found[name] = (name.removeprefix(prefix), False)
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in names and node.name.startswith("/inner/"):
            layer = node.name.removeprefix("/inner/").removesuffix("/MatMul").replace("/", ".")
            found[node.input[1]] = (f"{layer}.weight", True)
    return found


def checkpoint_from_onnx(model_dir: Path, out_dir: Path, base: str) -> Path:
    """Rebuild a float Hugging Face cross-encoder checkpoint from an exported ONNX model folder.

    The inverse of `export_model` up to the int8 rounding, so a shipped model can be trained further instead of
    from scratch. `base` is the checkpoint the model was trained from (its architecture and tokenizer files);
    weights come from the ONNX initializers, the int8 ones dequantised, MatMul ones found by node name, transposed.
    """
    import onnx
    import torch
    from onnx import numpy_helper
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from personae.scoring._assembly import is_assembled, materialize

    # A graph + delta model (the shipped one) is rebuilt over its base first: its weights are external data.
    onnx_file = materialize(model_dir) if is_assembled(model_dir) else model_dir / "model.onnx"
    graph = onnx.load(str(onnx_file)).graph
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "DequantizeLinear":
            q, scale, zero = (arrays[name].astype(np.float32) for name in node.input)
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            shape[axis] = -1
            arrays[node.output[0]] = (q - zero.reshape(shape)) * scale.reshape(shape)
    state: dict[str, Any] = {}
    for name, (param, transposed) in param_names(graph, set(arrays)).items():
        state[param] = arrays[name].T if transposed else arrays[name]
    labels = json.loads((model_dir / "config.json").read_text())["labels"]
    config = AutoConfig.from_pretrained(
        base,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = AutoModelForSequenceClassification.from_config(config)  # type: ignore[no-untyped-call]
    target = model.state_dict()
    if missing := sorted(set(target) - set(state)):
        raise ValueError(f"{model_dir}: the ONNX model has no weights for {', '.join(missing[:5])}")
    model.load_state_dict({k: torch.tensor(np.ascontiguousarray(state[k], dtype=np.float32)) for k in target})
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (Path(base) / name).is_file():
            shutil.copy(Path(base) / name, out_dir / name)
    return out_dir
