"""Summary statistics of eval scores: means with bootstrap intervals, calibration."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel


class Stat(BaseModel):
    """A mean with its bootstrap 95 % interval."""

    mean: float
    """Mean over scored items."""
    ci_low: float
    """2.5th percentile of bootstrap means."""
    ci_high: float
    """97.5th percentile of bootstrap means."""
    n: int
    """Scored items (failures excluded)."""


def bootstrap_mean(values: Sequence[float], seed: int = 0, resamples: int = 1000) -> Stat | None:
    """Mean of `values` with a percentile-bootstrap 95 % interval; None for no values."""
    if not values:
        return None
    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    if len(data) == 1:
        return Stat(mean=mean, ci_low=mean, ci_high=mean, n=1)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Stat(mean=mean, ci_low=float(low), ci_high=float(high), n=len(data))


def brier(probs: Sequence[float], truth_index: int) -> float:
    """Multi-class Brier score of one prediction: Σ (p_i − y_i)², 0 best, 2 worst."""
    return float(sum((p - (1.0 if i == truth_index else 0.0)) ** 2 for i, p in enumerate(probs)))


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool] | Sequence[float], bins: int = 10
) -> float | None:
    """ECE over equal-width confidence bins: Σ_b |acc_b − conf_b| · n_b / n (`correct` may be expected accuracy)."""
    if not confidences:
        return None
    conf = np.asarray(confidences, dtype=float)
    hits = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += abs(float(hits[mask].mean()) - float(conf[mask].mean())) * int(mask.sum()) / len(conf)
    return total
