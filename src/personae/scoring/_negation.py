"""Reading a denial against its positive: "I am not a knight." cannot contradict what "I am a knight." contradicts.

NLI models trained on SNLI read any sentence on the statement's topic that differs from it as a contradiction, and a
denial is such a sentence: "I am not a knight." against "Brother Anselm is a Benedictine monk." (0.98), "No, Captain
Vega does not take milk or sugar." against "drinks her coffee black" (0.98). Logic gives a second question to ask:
if the statement contradicts the positive ("I am a knight."), it entails the denial, so the denial contradicts
nothing; and if it says nothing of the positive ("I am a knight." against a monk: neutral), the denial contradicts
nothing either: a denial contradicts a statement only as far as the statement entails what is denied. `positive`
turns a sentence with exactly one negation back into its positive (English rules; a sentence with none or several
gives None, and nothing is changed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from personae.scoring._onnx import FloatArray
from personae.scoring._types import CON, ENT

MAX_SENTENCE = 400
"""Characters of a sentence the rules read (a longer one gives None)."""

_INTERJECTION = re.compile(r"^\W*(?:oh\s+)?(?:no|nope|nah|not at all|not really)\b\s*[,.!;:-]+\s*", re.IGNORECASE)
"""A leading "No," answers the question; it does not negate the clause after it."""

_CONNECTIVE = re.compile(r"^(?:however|but|still|yet|though|although|well|so|and|mind you)\b\s*,?\s*", re.IGNORECASE)
"""A leading connective: the model reads "However, I trust it." as contrasting with the statement (0.79)."""
_EMPHATIC = re.compile(r"\bI do (?=[a-z])")
"""The "do" a removed "don't" leaves: "I do trust it entirely." read as 0.43 contradiction, without "do" 0.24."""

_CONTRACTED = {
    "can't": "can",
    "won't": "will",
    "shan't": "shall",
    "ain't": "am",
    "cannot": "can",
}
_NEGATION = re.compile(
    r"\b(?:not|never|no|cannot|can't|won't|shan't|ain't|[a-z]+n't|nobody|nothing|none|nowhere|neither|nor)\b",
    re.IGNORECASE,
)
_SUBJECT_BEFORE = re.compile(
    r"(?:^|[,;:]\s*|\b(?:and|but|so|because|though)\s+)"
    r"(?:I|I'm|I've|I'd|I'll|we|we're|we've|he|she|they|(?:[A-Z][\w'-]*\s+){0,3}[A-Z][\w'-]*)\s+"
    r"(?:(?:am|is|are|was|were|do|does|did|have|has|had|would|will|could|can|should|shall|must|might|may|"
    r"really|just|still|ever|truly|certainly|also|definitely|absolutely|simply|honestly)\s+){0,2}$"
)
"""What stands right before the negation of a denial about someone: its subject (the speaker, a pronoun or a name) and
at most two auxiliaries or adverbs ("I would never", "Captain Vega does not", "I've no"). Fixed phrases whose
negation denies nothing ("Can't beat a bacon butty", "a pie is no trouble at all") have none, and are left alone."""

_EMPHASIS = re.compile(
    r"\b(?:can't|cannot|can not|couldn't)\s+wait\b|\bcouldn't\s+(?:be\s+)?(?:happier|prouder|better|agree\s+more)\b"
    r"|\bcan't\s+thank\s+\w+\s+enough\b|\bwouldn't\s+miss\b|\bnever\s+(?:been\s+)?better\b|\bno\s+doubt\b",
    re.IGNORECASE,
)
"""Negations that affirm ("I can't wait to give the speech.", "I couldn't be happier."): no denial, so no positive.
Read as "I can wait to give the speech.", the Admiralty hater's eager speech lost its contradiction (0.96 -> 0.01)."""

_UNREADABLE = {"nobody", "nothing", "none", "nowhere", "neither", "nor"}
"""Negations whose positive the rules do not build ("nothing" → "something"?): the sentence gives None."""


def _positive_word(word: str, following: str) -> str:
    """The replacement of one negation `word`, given the text after it."""
    low = word.lower()
    if low in _CONTRACTED:
        out = _CONTRACTED[low]
    elif low.endswith("n't"):
        out = word[:-3]
    elif low == "no":
        nxt = re.match(r"\s*([A-Za-z]+)", following)
        plural = nxt is not None and nxt.group(1).lower().endswith("s") and not nxt.group(1).lower().endswith("ss")
        out = "" if plural else "a"
    else:  # not, never
        out = ""
    return out.capitalize() if word[:1].isupper() and out else out


def positive(sentence: str) -> str | None:
    """The sentence with its one negation removed ("I never lost a ship." → "I lost a ship."), or None.

    A leading "No," is dropped first; a sentence with no negation or more than one, with "nothing", "nobody" and
    the like, or with a negation that affirms ("can't wait", `_EMPHASIS`) gives None.
    """
    if len(sentence) > MAX_SENTENCE:
        return None
    text = _INTERJECTION.sub("", sentence.replace("’", "'"))
    if _EMPHASIS.search(text):
        return None
    found = list(_NEGATION.finditer(text))
    if len(found) != 1 or found[0].group(0).lower() in _UNREADABLE:
        return None
    m = found[0]
    if not _SUBJECT_BEFORE.search(text[: m.start()]):
        return None  # "Can't beat a bacon butty", "a pie is no trouble": not a denial about someone
    replaced = _positive_word(m.group(0), text[m.end() :])
    out = f"{text[: m.start()]}{replaced}{text[m.end() :]}"
    out = re.sub(r"\s{2,}", " ", out).strip()
    out = re.sub(r"\s+([,.!?;:])", r"\1", out)
    out = _EMPHATIC.sub("I ", _CONNECTIVE.sub("", out))
    return out[:1].upper() + out[1:] if out else None


def read_denials(
    pairs: Sequence[tuple[str, str]], probs: FloatArray, predict: Callable[[Sequence[tuple[str, str]]], FloatArray]
) -> FloatArray:
    """`probs` of (statement, sentence) `pairs` with every denial that the model reads as a contradiction re-read.

    For each pair the model reads as a contradiction whose sentence has a `positive`, the model is asked about the
    positive too (one `predict` call for all), and the denial's contradiction is bounded by the positive's entailment
    (a statement contradicts a denial only as far as it entails what is denied); the rest goes to neutral. The bound
    once applied only when the statement contradicted the positive; a positive the statement says nothing of ("I am
    not a knight." against a monk, 0.98) was left a contradiction.
    """
    asked: list[tuple[int, str]] = []
    for k in (int(i) for i in np.flatnonzero(probs[:, CON] > 0.5)) if len(probs) else ():
        text = positive(pairs[k][1])
        if text:
            asked.append((k, text))
    if not asked:
        return probs
    again = predict([(pairs[k][0], text) for k, text in asked])
    out = probs.copy()
    for (k, _), row in zip(asked, again, strict=True):
        bound = min(float(out[k, CON]), float(row[ENT]))
        out[k] = (out[k, ENT], 1.0 - float(out[k, ENT]) - bound, bound)
    return out
