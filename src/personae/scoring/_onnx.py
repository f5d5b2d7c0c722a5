"""Running the shipped ONNX encoders (persona NLI, sentence embeddings) with onnxruntime; no torch needed."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from personae.scoring._assembly import AssemblyError, is_assembled, materialize

MODELS_DIR = Path(__file__).parent / "models"
"""Where the package's own ONNX models live (one folder each, with a model card)."""

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


class ScoringModelError(Exception):
    """A scoring model is missing, unreadable or incompatible."""


class OnnxEncoder:
    """A BERT-style ONNX model plus its `tokenizers` tokenizer; inputs are texts or (text, text) pairs.

    Inputs are sorted by length and run in batches, so that padding (and therefore wasted work) stays
    small; outputs come back in input order.
    """

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = folder
        model = folder / "model.onnx"
        if not model.is_file() and is_assembled(folder):
            try:
                model = materialize(folder)
            except AssemblyError as exc:
                raise ScoringModelError(f"{folder}: {exc}") from None
        if not model.is_file():
            raise ScoringModelError(f"no model.onnx in {folder}")
        self.config: dict[str, Any] = json.loads((folder / "config.json").read_text())
        self.max_length = int(self.config.get("max_length", 256))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Our weights are stored int8 + DequantizeLinear; with QDQ handling off, onnxruntime folds them into
        # fp32 constants once at load instead of dequantising on every run (7x faster for single pairs).
        options.add_session_config_entry("session.disable_quant_qdq", "1")
        self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()

    def _encode(self, inputs: Sequence[str | tuple[str, str]]) -> list[list[int]]:
        encodings = self.tokenizer.encode_batch(list(inputs))
        return [e.ids for e in encodings]

    def _forward(self, ids: Sequence[Sequence[int]]) -> tuple[FloatArray, IntArray]:
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds: dict[str, npt.NDArray[np.int64]] = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = self._token_types(ids, width)
        with self._lock:
            out = self.session.run(None, feeds)[0]
        return np.asarray(out, dtype=np.float32), mask

    def _token_types(self, ids: Sequence[Sequence[int]], width: int) -> npt.NDArray[np.int64]:
        sep = self.tokenizer.token_to_id("[SEP]")
        types = np.zeros((len(ids), width), dtype=np.int64)
        for row, seq in enumerate(ids):
            if sep is not None and sep in seq:
                first_sep = list(seq).index(sep)
                types[row, first_sep + 1 : len(seq)] = 1
        return types

    def run(
        self, inputs: Sequence[str | tuple[str, str]], batch_size: int = 64
    ) -> list[tuple[FloatArray, npt.NDArray[np.int64]]]:
        """Run every input and return (output, attention mask) per input, in input order."""
        ids = self._encode(inputs)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        results: list[tuple[FloatArray, npt.NDArray[np.int64]]] = [None] * len(ids)  # type: ignore[list-item]
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out, mask = self._forward([ids[i] for i in chunk])
            for row, index in enumerate(chunk):
                results[index] = (out[row], mask[row])
        return results

    def run_one(self, item: str | tuple[str, str]) -> tuple[FloatArray, npt.NDArray[np.int64]]:
        """Run a single input unbatched (the naive reference the throughput bench compares against)."""
        out, mask = self._forward(self._encode([item]))
        return out[0], mask[0]


@cache
def shipped_encoder(name: str) -> OnnxEncoder:
    """The package's own model `name` (a folder under `models/`), loaded once per process."""
    folder = MODELS_DIR / name
    if not folder.is_dir():
        raise ScoringModelError(f"the shipped model '{name}' is missing from {MODELS_DIR}; reinstall personae")
    return OnnxEncoder(folder)


def read_numpy_model(folder: Path, file: str, what: str, command: str) -> tuple[dict[str, FloatArray], dict[str, Any]]:
    """The arrays of `folder/file` (an .npz) and `folder/config.json` of a small numpy model (OOC classifier, gate).

    A missing file is a `ScoringModelError` that names `what` is missing and the `command` that trains it.
    """
    path = folder / file
    if not path.is_file():
        raise ScoringModelError(f"{what} missing: {path} (train it with `{command}`)")
    with np.load(path) as data:
        arrays = {name: np.asarray(data[name], dtype=np.float32) for name in data.files}
    config: dict[str, Any] = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return arrays, config


def softmax(logits: FloatArray) -> FloatArray:
    """Row-wise softmax."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    result: FloatArray = (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)
    return result
