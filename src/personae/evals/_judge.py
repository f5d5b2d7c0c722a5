"""Reading judge outputs robustly: structured JSON, then a repaired JSON, then a pattern, else a recorded failure."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from personae.evals._errors import JudgeParseError

ParseMethod = Literal["json", "repair", "pattern"]

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class ParsedObject(NamedTuple):
    """A JSON object read from a judge's text, and which step of the ladder read it."""

    value: dict[str, Any]
    method: ParseMethod


class ParsedScore(NamedTuple):
    """A rubric score with the judge's rationale."""

    score: float
    rationale: str
    method: ParseMethod


def _candidates(text: str) -> list[str]:
    """The whole text, fenced blocks, and the outermost brace span: where a JSON object may sit."""
    out = [text.strip()]
    out += [m.group(1).strip() for m in _FENCE.finditer(text)]
    match = _OBJECT.search(text)
    if match:
        out.append(match.group(0))
    return out


def _repair(text: str) -> str:
    """Fix the usual LLM JSON slips: single quotes, trailing commas, bare keys, Python literals, a cut-off end."""
    fixed = text.strip()
    if fixed.startswith("{") and len(re.findall(r'(?<!\\)"', fixed)) % 2:
        fixed += '"'  # output cut off inside a string (max_tokens reached)
    if fixed.startswith("{") and fixed.count("{") > fixed.count("}"):
        fixed += "}" * (fixed.count("{") - fixed.count("}"))
    fixed = re.sub(r"(?<![\w\"])'([^'\n]*)'", r'"\1"', fixed)
    fixed = re.sub(r",\s*([}\]])", r"\1", fixed)
    fixed = re.sub(r"([{,]\s*)([A-Za-z_][\w ]*?)\s*:", r'\1"\2":', fixed)
    fixed = re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", re.sub(r"\bNone\b", "null", fixed)))
    return fixed


def parse_object(text: str) -> ParsedObject | None:
    """The first JSON object in `text`, strictly then after repair; None if there is none."""
    candidates = _candidates(text)
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return ParsedObject(value, "json")
    for candidate in candidates:
        if "{" not in candidate:
            continue
        try:
            value = json.loads(_repair(candidate[candidate.index("{") :]))
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return ParsedObject(value, "repair")
    return None


_SCORE_PATTERNS = (
    re.compile(r"\bscore\W{0,5}(\d+(?:\.\d+)?)", re.IGNORECASE),
    re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:/|out of)\s*5\b", re.IGNORECASE),
    re.compile(r"^\s*(\d)\s*(?:$|[.:)\-])", re.MULTILINE),
)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*5)?\s*", value)
        return float(match.group(1)) if match else None
    return None


def parse_score(text: str, low: float = 1, high: float = 5) -> ParsedScore:
    """A score in [low, high] with rationale from `{"score": n, "rationale": "..."}` or a recognisable pattern."""
    parsed = parse_object(text)
    if parsed is not None:
        keys = {k.lower(): v for k, v in parsed.value.items()}
        score = _number(keys.get("score", keys.get("rating")))
        if score is None:
            raise JudgeParseError("JSON object without a numeric `score`", text)
        if not low <= score <= high:
            raise JudgeParseError(f"score {score:g} outside {low:g}..{high:g}", text)
        rationale = keys.get("rationale", keys.get("reason", keys.get("explanation", "")))
        return ParsedScore(score, str(rationale), parsed.method)
    for pattern in _SCORE_PATTERNS:
        match = pattern.search(text)
        if match:
            score = float(match.group(1))
            if not low <= score <= high:
                raise JudgeParseError(f"score {score:g} outside {low:g}..{high:g}", text)
            return ParsedScore(score, text.strip()[:500], "pattern")
    if not text.strip():
        raise JudgeParseError("empty judge output", text)
    raise JudgeParseError("no JSON object and no score pattern found", text)


def parse_anchors(text: str) -> dict[int, str]:
    """Score anchors `{"1": "...", ..., "5": "..."}` (all five levels needed)."""
    parsed = parse_object(text)
    if parsed is None:
        raise JudgeParseError("no JSON object with score anchors found", text)
    value = parsed.value.get("anchors", parsed.value)
    if not isinstance(value, dict):
        raise JudgeParseError("`anchors` is not an object", text)
    anchors: dict[int, str] = {}
    for key, desc in value.items():
        if str(key).strip().isdigit() and isinstance(desc, str) and desc.strip():
            anchors[int(str(key).strip())] = desc.strip()
    missing = [level for level in range(1, 6) if level not in anchors]
    if missing:
        raise JudgeParseError(f"anchors missing for levels {missing}", text)
    return {level: anchors[level] for level in range(1, 6)}


def parse_probabilities(text: str, options: Sequence[str]) -> dict[str, float]:
    """Probabilities over named `options` from `{"probabilities": {name: p}}`, renormalised to sum to 1."""
    parsed = parse_object(text)
    probs: dict[str, float] = {}
    if parsed is not None:
        value = parsed.value.get("probabilities", parsed.value)
        if isinstance(value, dict):
            lookup = {str(k).strip().lower(): v for k, v in value.items()}
            for option in options:
                number = _number(lookup.get(option.lower()))
                if number is not None:
                    probs[option] = number
    else:
        for option in options:
            match = re.search(re.escape(option) + r"\W{0,4}(\d*\.?\d+)", text, re.IGNORECASE)
            if match:
                probs[option] = float(match.group(1))
    if not probs:
        raise JudgeParseError("no probability for any candidate found", text)
    if any(p < 0 for p in probs.values()):
        raise JudgeParseError("negative probability", text)
    total = sum(probs.values())
    if total <= 0:
        raise JudgeParseError("probabilities sum to zero", text)
    if max(probs.values()) > 1.0 and total > 1.5 * len(options):
        raise JudgeParseError("values are not probabilities", text)
    return {option: probs.get(option, 0.0) / total for option in options}
