"""Training and measuring personae's own scoring models: the recipes behind `personae train-nli` and its siblings.

Importing this module is cheap and never imports torch: each name loads its private module on first use, and
torch, transformers and onnx are imported only inside the functions that need them (`train_cross_encoder`,
`export_model`). Call `missing_training_dependencies()` first to tell the user what to install.

    from personae.scoring import training

    if missing := training.missing_training_dependencies():
        raise SystemExit(f"pip install 'personae[train]' (missing: {', '.join(missing)})")
    stats = training.train_cross_encoder(training.read_pairs(path), out, training.TrainConfig())
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personae.scoring._assembly import BASE_WEIGHTS, base_weights_file, is_assembled
    from personae.scoring._quality import load_alice_nli, nli_accuracy, relevance_accuracy, sentence_max_accuracy
    from personae.scoring._training.calibrate import CalibrationData, calibrate, refit_support, score_all
    from personae.scoring._training.delta import export_delta_model
    from personae.scoring._training.export import checkpoint_from_onnx, export_model, sha256_of
    from personae.scoring._training.gate_train import train_gate, write_gate_card
    from personae.scoring._training.model_card import write_model_card
    from personae.scoring._training.ooc_train import train_ooc, write_ooc_card
    from personae.scoring._training.persona_nli_data import generate_persona_dev, generate_persona_nli
    from personae.scoring._training.roleplay_data import (
        pairs_past_the_gate,
        read_roleplay,
        roleplay_pairs,
        split_by_persona,
    )
    from personae.scoring._training.snli import SnliSplit, load_snli
    from personae.scoring._training.train import (
        TrainConfig,
        TrainingDataError,
        delta_base,
        limit_label,
        read_pairs,
        resolve_base_model,
        sample,
        save_config,
        train_cross_encoder,
    )

_HOME = {
    "CalibrationData": "personae.scoring._training.calibrate",
    "calibrate": "personae.scoring._training.calibrate",
    "refit_support": "personae.scoring._training.calibrate",
    "score_all": "personae.scoring._training.calibrate",
    "read_roleplay": "personae.scoring._training.roleplay_data",
    "roleplay_pairs": "personae.scoring._training.roleplay_data",
    "pairs_past_the_gate": "personae.scoring._training.roleplay_data",
    "split_by_persona": "personae.scoring._training.roleplay_data",
    "TrainConfig": "personae.scoring._training.train",
    "TrainingDataError": "personae.scoring._training.train",
    "read_pairs": "personae.scoring._training.train",
    "limit_label": "personae.scoring._training.train",
    "sample": "personae.scoring._training.train",
    "resolve_base_model": "personae.scoring._training.train",
    "delta_base": "personae.scoring._training.train",
    "save_config": "personae.scoring._training.train",
    "train_cross_encoder": "personae.scoring._training.train",
    "export_model": "personae.scoring._training.export",
    "sha256_of": "personae.scoring._training.export",
    "export_delta_model": "personae.scoring._training.delta",
    "BASE_WEIGHTS": "personae.scoring._assembly",
    "base_weights_file": "personae.scoring._assembly",
    "is_assembled": "personae.scoring._assembly",
    "checkpoint_from_onnx": "personae.scoring._training.export",
    "write_model_card": "personae.scoring._training.model_card",
    "train_gate": "personae.scoring._training.gate_train",
    "write_gate_card": "personae.scoring._training.gate_train",
    "train_ooc": "personae.scoring._training.ooc_train",
    "write_ooc_card": "personae.scoring._training.ooc_train",
    "generate_persona_nli": "personae.scoring._training.persona_nli_data",
    "generate_persona_dev": "personae.scoring._training.persona_nli_data",
    "SnliSplit": "personae.scoring._training.snli",
    "load_snli": "personae.scoring._training.snli",
    "nli_accuracy": "personae.scoring._quality",
    "sentence_max_accuracy": "personae.scoring._quality",
    "relevance_accuracy": "personae.scoring._quality",
    "load_alice_nli": "personae.scoring._quality",
}
"""Where each public name lives; loaded on first attribute access."""

TRAINING_MODULES = ("torch", "transformers", "onnx")
"""Modules the NLI training recipe needs, all from `personae[train]`."""


def missing_training_dependencies() -> list[str]:
    """The training modules that are not installed (found without importing them, so this stays cheap)."""
    return [name for name in TRAINING_MODULES if importlib.util.find_spec(name) is None]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


__all__ = [
    "BASE_WEIGHTS",
    "TRAINING_MODULES",
    "CalibrationData",
    "SnliSplit",
    "TrainConfig",
    "TrainingDataError",
    "base_weights_file",
    "calibrate",
    "checkpoint_from_onnx",
    "delta_base",
    "export_delta_model",
    "export_model",
    "generate_persona_dev",
    "generate_persona_nli",
    "is_assembled",
    "limit_label",
    "load_alice_nli",
    "load_snli",
    "missing_training_dependencies",
    "nli_accuracy",
    "pairs_past_the_gate",
    "read_pairs",
    "read_roleplay",
    "refit_support",
    "relevance_accuracy",
    "resolve_base_model",
    "roleplay_pairs",
    "sample",
    "save_config",
    "score_all",
    "sentence_max_accuracy",
    "sha256_of",
    "split_by_persona",
    "train_cross_encoder",
    "train_gate",
    "train_ooc",
    "write_gate_card",
    "write_model_card",
    "write_ooc_card",
]
