"""Preference data for training: DPO pairs from the guard's scored candidates.

pairs = list(preference_pairs(store.load(sid) for sid in ids, margin=0.2))
"""

from personae.preference._pairs import PairStrategy, PreferencePair, preference_pairs

__all__ = ["PairStrategy", "PreferencePair", "preference_pairs"]
