"""`lint`: what a persona is missing, what is malformed, and which statements contradict each other."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from personae.interop._card import KEEP
from personae.persona import Persona
from personae.scoring import LABELS, Embedder, NLIModel, split_sentences

MAX_NLI_STATEMENTS = 120
"""Contradiction checks cover at most this many statements (the pair count grows quadratically)."""

Level = Literal["error", "warning", "info"]
_PRONOUN_START = re.compile(r"^(?:he|she|they|i|you|his|her|their|my|your|it)\b", re.IGNORECASE)
_MACRO = re.compile(r"\{\{\s*char\s*\}\}|<bot>", re.IGNORECASE)


@dataclass(frozen=True)
class LintIssue:
    """One finding: how bad it is, where (a field path) and what."""

    level: Level
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.level} {self.field}: {self.message}"


def _names(persona: Persona) -> list[str]:
    tokens = [t for t in re.split(r"\s+", persona.name) if len(t) > 1]
    return [persona.name.lower(), *(t.lower() for t in tokens)]


def _structure(persona: Persona) -> list[LintIssue]:
    issues: list[LintIssue] = []
    if not persona.statements:
        issues.append(LintIssue("error", "statements", "none: the persona has no facts to stay faithful to"))
    if not persona.greetings:
        issues.append(LintIssue("info", "greetings", "none: chats start without an in-character opening"))
    if not persona.example_dialogues:
        issues.append(LintIssue("info", "example_dialogues", "none: nothing shows the character's voice"))
    if persona.traits is None:
        issues.append(LintIssue("info", "traits", "no Big Five targets"))
    names = _names(persona)
    seen: dict[str, int] = {}
    for index, statement in enumerate(persona.statements):
        where = f"statements[{index}]"
        lower = statement.lower()
        if lower in seen:
            issues.append(LintIssue("warning", where, f"repeats statements[{seen[lower]}]"))
            continue
        seen[lower] = index
        if _MACRO.search(statement):
            issues.append(LintIssue("warning", where, "contains a {{char}} macro; write the name"))
        if _PRONOUN_START.match(statement):
            issues.append(LintIssue("warning", where, "starts with a pronoun; statements should name the character"))
        elif not any(re.search(rf"\b{re.escape(n)}\b", lower) for n in names):
            issues.append(LintIssue("warning", where, f"does not name {persona.name}"))
        if len(split_sentences(statement)) > 2:
            issues.append(LintIssue("warning", where, "holds several sentences; one fact per statement"))
    if persona.lorebook is not None:
        for index, entry in enumerate(persona.lorebook.entries):
            if not entry.content.strip():
                issues.append(LintIssue("warning", f"lorebook.entries[{index}].content", "empty"))
    kept = persona.extensions.get(KEEP)
    assets = (
        kept.get("data", {}).get("assets") if isinstance(kept, dict) and isinstance(kept.get("data"), dict) else None
    )
    for index, asset in enumerate(assets if isinstance(assets, list) else []):
        uri = asset.get("uri") if isinstance(asset, dict) else None
        if isinstance(uri, str) and re.match(r"^[a-z][a-z0-9+.-]*://", uri, re.I) and not uri.startswith("embeded://"):
            issues.append(
                LintIssue("info", f"extensions.{KEEP}.data.assets[{index}]", f"remote URI {uri!r} is never fetched")
            )
    return issues


def contradictions(
    persona: Persona,
    nli: NLIModel,
    threshold: float = 0.8,
    embedder: Embedder | None = None,
    min_similarity: float = 0.35,
) -> list[LintIssue]:
    """Statement pairs the NLI model labels contradictory in both directions (each probability ≥ `threshold`).

    With an `embedder`, only pairs on a shared topic (cosine ≥ `min_similarity`) are judged: the NLI model is
    trained on statement/reply pairs and over-reports contradictions between unrelated facts.
    """
    statements = list(persona.statements[:MAX_NLI_STATEMENTS])
    issues: list[LintIssue] = []
    if len(persona.statements) > MAX_NLI_STATEMENTS:
        issues.append(
            LintIssue(
                "info", "statements", f"only the first {MAX_NLI_STATEMENTS} statements were checked for contradictions"
            )
        )
    pairs = [(i, j) for i in range(len(statements)) for j in range(i + 1, len(statements))]
    if embedder is not None and pairs:
        vectors = embedder.embed(statements)
        pairs = [(i, j) for i, j in pairs if float(vectors[i] @ vectors[j]) >= min_similarity]
    if not pairs:
        return issues
    texts = [(statements[i], statements[j]) for i, j in pairs] + [(statements[j], statements[i]) for i, j in pairs]
    probs = nli.predict(texts)
    column = LABELS.index("contradiction")
    for k, (i, j) in enumerate(pairs):
        p = min(float(probs[k, column]), float(probs[k + len(pairs), column]))
        if p >= threshold:
            issues.append(
                LintIssue("warning", f"statements[{i}]", f"contradicts statements[{j}] (p={p:.2f}): {statements[j]!r}")
            )
    return issues


def lint_persona(
    persona: Persona, nli: NLIModel | None = None, threshold: float = 0.8, embedder: Embedder | None = None
) -> list[LintIssue]:
    """Every finding, structural first; contradictions only when an NLI model is given."""
    issues = _structure(persona)
    if nli is not None:
        issues.extend(contradictions(persona, nli, threshold, embedder))
    return issues


def lint_summary(issues: list[LintIssue]) -> dict[str, Any]:
    """Counts by level, for the one-line summary."""
    return {level: sum(1 for i in issues if i.level == level) for level in ("error", "warning", "info")}
