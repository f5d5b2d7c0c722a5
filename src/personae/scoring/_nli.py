"""NLI discriminators: premise = persona statement (or earlier reply), hypothesis = reply sentence.

Every model returns an (N, 3) float32 array of probabilities in `LABELS` order. The default is the
persona-NLI cross-encoder personae trains and ships (ONNX, run by onnxruntime); `FakeNLI` is a
deterministic rule-based stand-in for tests; a Hugging Face cross-encoder or an LLM judge can be bound
instead (`get_nli`).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from personae.backends import Backend, GenerateConfig, get_backend
from personae.plugins import Registry
from personae.scoring._numbers import pairs_with_digits
from personae.scoring._onnx import FloatArray, OnnxEncoder, ScoringModelError, shipped_encoder, softmax
from personae.scoring._types import LABELS, canonical_label

SHIPPED_NLI = "persona-nli"
"""Folder name of the shipped NLI model under `personae/scoring/models/`."""

Pair = tuple[str, str]

BATCH_SIZE = 16
"""Pairs per forward pass of the ONNX model: on 2 CPU cores batches of 16 ran about 10 % faster than batches of 64,
on a guard's turn-sized calls and on an 800-pair call alike (shorter padding, smaller activations; 2026-12-04)."""
NLI_MEMO = 4096
"""(statement, sentence) pairs whose probabilities the shipped model remembers, the least recently used forgotten
first. A guarded turn reads its pairs in several calls (the claim checks, the candidates, re-read denials, a corrective
round's drafts, which repeat sentences of the first round's): on the sixth held-out guard set 7 % of the pairs a turn
ran had been run earlier in the same turn."""


@runtime_checkable
class NLIModel(Protocol):
    """Anything that labels (premise, hypothesis) pairs.

    Example:
        probs = get_nli("shipped").predict([("Ada is a vegetarian.", "I had a steak.")])
        probs[0, LABELS.index("contradiction")]
    """

    name: str

    def predict(self, pairs: Sequence[Pair]) -> FloatArray:
        """Probabilities, shape (len(pairs), 3), columns in `LABELS` order."""
        ...


def _label_permutation(labels: Sequence[str]) -> list[int]:
    """Column indices that reorder a model's own label order into `LABELS` order."""
    normal = [canonical_label(label) for label in labels]
    try:
        return [normal.index(label) for label in LABELS]
    except ValueError:
        raise ScoringModelError(f"model labels {list(labels)} do not cover {list(LABELS)}") from None


class OnnxNLI:
    """A cross-encoder exported to ONNX: the shipped persona-NLI model, or any folder in the same layout."""

    def __init__(self, folder: Path | None = None, batch_size: int = BATCH_SIZE, memo: int = NLI_MEMO) -> None:
        self.encoder = shipped_encoder(SHIPPED_NLI) if folder is None else OnnxEncoder(folder)
        self.name = f"onnx:{self.encoder.folder.name}"
        self.batch_size = batch_size
        self._perm = _label_permutation(self.encoder.config["labels"])
        self.calibration: dict[str, Any] = dict(self.encoder.config.get("calibration", {}))
        """Decision thresholds fitted for this model (violation, support, topic gate and its embedder)."""
        self.memo_size = memo
        """Pairs whose probabilities are remembered (`NLI_MEMO`; 0: none)."""
        self._memo: OrderedDict[Pair, FloatArray] = OrderedDict()
        self._memo_lock = threading.Lock()

    def predict(self, pairs: Sequence[Pair]) -> FloatArray:
        """Batched, length-sorted forward passes, each distinct pair once and only if not remembered (`NLI_MEMO`)."""
        if not pairs:
            return np.zeros((0, 3), dtype=np.float32)
        keys = [(premise, hypothesis) for premise, hypothesis in pairs]  # hashable, whatever sequence a pair came as
        unique = list(dict.fromkeys(keys))
        with self._memo_lock:
            known = {key: self._memo[key] for key in unique if key in self._memo}
            for key in known:
                self._memo.move_to_end(key)
        todo = [key for key in unique if key not in known]
        if todo:
            outputs = self.encoder.run(pairs_with_digits(todo), batch_size=self.batch_size)
            probs = softmax(np.stack([out for out, _ in outputs]))[:, self._perm]
            fresh = dict(zip(todo, probs, strict=True))
            known.update(fresh)
            with self._memo_lock:
                self._memo.update(fresh)
                while len(self._memo) > self.memo_size:
                    self._memo.popitem(last=False)
        return np.stack([known[key] for key in keys]).astype(np.float32, copy=False)

    def forget(self) -> None:
        """Drop the remembered pairs (benchmarks that time the model, not the memo, start here)."""
        with self._memo_lock:
            self._memo.clear()

    def predict_unbatched(self, pairs: Sequence[Pair]) -> FloatArray:
        """One forward pass per pair: the naive reference for the throughput benchmark."""
        rows = [softmax(self.encoder.run_one(pair)[0][None, :])[0] for pair in pairs_with_digits(pairs)]
        return np.stack(rows)[:, self._perm] if rows else np.zeros((0, 3), dtype=np.float32)


class HFCrossEncoderNLI:
    """Any Hugging Face sequence-classification NLI model (id or local path); needs `personae[train]`."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError:
            raise ScoringModelError("a Hugging Face NLI model needs torch: pip install 'personae[train]'") from None
        self._torch = torch
        self.name = f"hf:{model}"
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForSequenceClassification.from_pretrained(model).eval()
        id2label = self.model.config.id2label
        self._perm = _label_permutation([id2label[i] for i in range(len(id2label))])
        self.batch_size = batch_size

    def predict(self, pairs: Sequence[Pair]) -> FloatArray:
        """Batched forward passes in torch."""
        rows: list[FloatArray] = []
        pairs = pairs_with_digits(pairs)
        for start in range(0, len(pairs), self.batch_size):
            chunk = pairs[start : start + self.batch_size]
            enc = self.tokenizer(
                [p for p, _ in chunk], [h for _, h in chunk], padding=True, truncation=True, return_tensors="pt"
            )
            with self._torch.no_grad():
                logits = self.model(**enc).logits.float().numpy()
            rows.append(softmax(logits)[:, self._perm])
        return np.concatenate(rows) if rows else np.zeros((0, 3), dtype=np.float32)


_JUDGE_PROMPT = (
    "Premise: {premise}\nHypothesis: {hypothesis}\n\n"
    "Does the hypothesis entail the premise's fact, contradict it, or neither? "
    "Answer with one word: entailment, neutral or contradiction."
)
_LABEL_WORD = re.compile(r"\b(entail\w*|neutral|contradict\w*)\b", re.IGNORECASE)


class LLMJudgeNLI:
    """An LLM backend as NLI judge: label probabilities from the share of k sampled answers.

    Answers that name no label are left out of the count; a pair with no parsable answer gets
    uniform probabilities (no evidence either way) and is counted in `failures`.
    """

    def __init__(self, backend: Backend | str, samples: int = 5, temperature: float = 0.8) -> None:
        self.backend = get_backend(backend) if isinstance(backend, str) else backend
        self.name = f"llm:{self.backend.address}"
        self.config = GenerateConfig(temperature=temperature, n=samples, max_tokens=8, seed=0, cache=True)
        self.failures = 0

    async def apredict(self, pairs: Sequence[Pair]) -> FloatArray:
        """Ask the judge about every pair concurrently (the backend bounds concurrency)."""

        async def one(premise: str, hypothesis: str) -> list[float]:
            prompt = _JUDGE_PROMPT.format(premise=premise, hypothesis=hypothesis)
            output = await self.backend.generate([{"role": "user", "content": prompt}], self.config)
            counts = [0, 0, 0]
            for text in output.texts:
                match = _LABEL_WORD.search(text)
                if match:
                    word = match.group(1).lower()
                    counts[0 if word.startswith("entail") else 1 if word == "neutral" else 2] += 1
            total = sum(counts)
            if total == 0:
                self.failures += 1
                return [1 / 3, 1 / 3, 1 / 3]
            return [c / total for c in counts]

        rows = await asyncio.gather(*(one(p, h) for p, h in pairs))
        return np.asarray(rows, dtype=np.float32).reshape(len(pairs), 3)

    def predict(self, pairs: Sequence[Pair]) -> FloatArray:
        """Blocking wrapper; safe to call from inside a running event loop (runs in a helper thread)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.apredict(pairs))
        box: list[FloatArray] = []
        thread = threading.Thread(target=lambda: box.append(asyncio.run(self.apredict(pairs))))
        thread.start()
        thread.join()
        return box[0]


_WORD = re.compile(r"[a-z0-9']+")
_NEGATIONS = frozenset(
    {"not", "never", "no", "don't", "doesn't", "didn't", "cannot", "can't", "isn't", "wasn't", "won't", "hate", "hates"}
)
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "am",
        "be",
        "been",
        "i",
        "me",
        "my",
        "you",
        "your",
        "he",
        "she",
        "his",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "we",
        "our",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "and",
        "or",
        "but",
        "with",
        "as",
        "by",
        "from",
        "that",
        "this",
        "what",
        "who",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "so",
        "very",
        "really",
        "just",
    ]
)


class FakeNLI:
    """Deterministic rule-based NLI for tests; never use it to measure anything.

    Content-word overlap decides whether the pair is on topic, a negation mismatch decides contradiction.
    """

    __test__ = False
    name = "fake"
    light = True
    """Pure Python in microseconds: callers may run it where they are instead of in a worker thread."""

    @staticmethod
    def _words(text: str) -> set[str]:
        return set(_WORD.findall(text.lower()))

    def predict(self, pairs: Sequence[Pair]) -> FloatArray:
        """Rule-based probabilities."""
        rows = []
        for premise, hypothesis in pairs:
            p_words, h_words = self._words(premise), self._words(hypothesis)
            p_content, h_content = p_words - _STOP - _NEGATIONS, h_words - _STOP - _NEGATIONS
            overlap = len(p_content & h_content) / max(1, min(len(p_content), len(h_content)))
            negation_mismatch = bool(p_words & _NEGATIONS) != bool(h_words & _NEGATIONS)
            if overlap >= 0.5 and negation_mismatch:
                rows.append([0.05, 0.1, 0.85])
            elif overlap >= 0.5:
                rows.append([0.85, 0.1, 0.05])
            else:
                rows.append([0.1, 0.8, 0.1])
        return np.asarray(rows, dtype=np.float32).reshape(len(pairs), 3)


NLIFactory = Callable[[str], NLIModel]
"""Builds an NLI model from the argument of a binding: `onnx:DIR` calls the `onnx` factory with `DIR` ("" if none)."""


def register_nli(kind: str, factory: NLIFactory) -> None:
    """Make `get_nli("kind:argument")` call `factory(argument)` (also a plugin's `register_nli_models` callback)."""
    if ":" in kind or not kind:
        raise ScoringModelError(f"an NLI kind is a non-empty name without ':', not {kind!r}")
    _NLI.add(kind, factory)


def _needs_argument(kind: str, placeholder: str, what: str, build: Callable[[str], NLIModel]) -> NLIFactory:
    """`build` as a factory that refuses an empty argument, saying what `kind:` needs."""

    def factory(arg: str) -> NLIModel:
        if not arg:
            raise ScoringModelError(f"the '{kind}' NLI binding needs {what}: use {kind}:{placeholder}")
        return build(arg)

    return factory


_BUILTIN_KINDS = ("shipped", "fake", "onnx", "hf", "llm")


def register_builtin(register: Callable[[str, NLIFactory], object]) -> None:
    """Register the built-in NLI bindings (the hook signature plugins implement as `register_nli_models`)."""
    register("shipped", lambda _arg: OnnxNLI())
    register("fake", lambda _arg: FakeNLI())
    register("onnx", _needs_argument("onnx", "DIR", "a model folder", lambda arg: OnnxNLI(Path(arg))))
    register("hf", _needs_argument("hf", "MODEL", "a Hugging Face model id or path", HFCrossEncoderNLI))
    register("llm", _needs_argument("llm", "BACKEND", "a backend address", LLMJudgeNLI))


_NLI: Registry[NLIFactory] = Registry(
    "NLI model", "register_nli_models", builtins=register_builtin, callback=register_nli
)


def list_nli() -> list[str]:
    """The registered NLI kinds: `shipped`, `fake`, `onnx`, `hf`, `llm` and any a plugin adds."""
    return _NLI.names()


def get_nli(spec: str = "shipped") -> NLIModel:
    """Bind the `nli` role: `shipped` (default), `fake`, `onnx:<folder>`, `hf:<model id or path>`, `llm:<backend>`.

    Plugins add kinds through `register_nli_models` (see `personae.plugins`): `get_nli("myplugin:argument")`.
    """
    kind, _, arg = spec.partition(":")
    factory = _NLI.get(kind)
    if factory is None:
        others = [name for name in _NLI.names() if name not in _BUILTIN_KINDS]
        more = f", or a plugin's: {', '.join(others)}" if others else ""
        raise ScoringModelError(
            f"unknown NLI binding '{spec}' (use shipped, fake, onnx:DIR, hf:MODEL or llm:BACKEND{more})"
        )
    return factory(arg)
