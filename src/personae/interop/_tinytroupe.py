"""TinyTroupe agent specs (`{"type": "TinyPerson", "persona": {...}}`) and fragments ↔ `Persona`."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from personae.interop._text import extract_statements
from personae.persona import Persona, PersonaFormatError, persona_from_data

KEEP = "tinytroupe"
"""Key in `Persona.extensions` holding the merged TinyTroupe persona, so export writes back every field."""

_LEVELS = (("very high", 0.9), ("very low", 0.1), ("high", 0.8), ("medium", 0.5), ("moderate", 0.5), ("low", 0.2))


def is_tinytroupe(obj: Any) -> bool:
    """Whether `obj` looks like a TinyTroupe agent or fragment."""
    if not isinstance(obj, dict):
        return False
    return obj.get("type") in ("TinyPerson", "Fragment") and isinstance(obj.get("persona"), dict)


def deep_merge(base: Any, overlay: Any) -> Any:
    """TinyTroupe's fragment merge: mappings merge by key, lists concatenate without repeats, scalars are replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(overlay, list):
        out = list(base)
        out.extend(item for item in overlay if item not in base)
        return out
    return copy.deepcopy(overlay)


def _level(text: Any) -> float | None:
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text) if 0 <= text <= 1 else None
    if not isinstance(text, str):
        return None
    lower = text.strip().lower()
    for word, value in _LEVELS:
        if lower.startswith(word):
            return value
    return None


def _strings(value: Any) -> list[str]:
    """Every string in a nested list/dict structure, in order."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [str(value)]
    return []


_PREDICATE = re.compile(r"^(?P<verb>[A-Z][a-z]+s)\b(?! (?:is|are|was|were)\b)")
_ADJECTIVE = re.compile(r"^(?:Proficient|Familiar|Skilled|Experienced|Fluent|Good|Able|Expert|Adept)\b")


def _subject(item: str, name: str) -> str:
    """Give a subject-less list item the character as subject ("Wakes at 6." → "Ada wakes at 6.")."""
    item = item.strip()
    if _PREDICATE.match(item) or _ADJECTIVE.match(item):
        verb = "is " if _ADJECTIVE.match(item) else ""
        return f"{name} {verb}{item[0].lower()}{item[1:]}"
    return item


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


def _statements(p: dict[str, Any], name: str) -> list[str]:
    out: list[str] = []

    def add(texts: list[str], template: str = "{}") -> None:
        for text in texts:
            filled = _subject(text, name) if template == "{}" else template.format(_lower_first(text.rstrip(".")))
            for statement in extract_statements(filled, name, second_person=True):
                if statement not in out:
                    out.append(statement)

    facts = [
        ("age", "{n} is {v} years old."),
        ("gender", "{n}'s gender is {v}."),
        ("nationality", "{n}'s nationality is {v}."),
        ("residence", "{n} lives in {v}."),
        ("education", "{n}'s education: {v}"),
    ]
    for key, template in facts:
        if isinstance(p.get(key), str | int) and not isinstance(p.get(key), bool):
            add([template.format(n=name, v=str(p[key]).rstrip("."))])
    occupation = p.get("occupation")
    if isinstance(occupation, dict):
        title, org = occupation.get("title"), occupation.get("organization")
        if isinstance(title, str):
            add([f"{name} works as {title}" + (f" at {org}" if isinstance(org, str) else "") + "."])
        add(_strings(occupation.get("description")))
    elif isinstance(occupation, str):
        add([f"{name}'s occupation: {occupation}"])
    personality = p.get("personality")
    if isinstance(personality, dict):
        add(_strings(personality.get("traits")))
    prefs: dict[str, Any] = p["preferences"] if isinstance(p.get("preferences"), dict) else {}
    add(_strings(prefs.get("interests")), f"{name} is interested in {{}}.")
    add(_strings(prefs.get("likes")), f"{name} likes {{}}.")
    add(_strings(prefs.get("dislikes")), f"{name} dislikes {{}}.")
    add(_strings(p.get("skills")))
    add([b for b in _strings(p.get("beliefs")) if name in b or b.lower().startswith(("you ", "i "))])
    add(
        [b for b in _strings(p.get("beliefs")) if not (name in b or b.lower().startswith(("you ", "i ")))],
        f"{name} believes that {{}}.",
    )
    add(_strings(p.get("behaviors")))
    add(_strings(p.get("health")), f"{name}'s health: {{}}.")
    projects: list[Any] = p["projects"] if isinstance(p.get("projects"), list) else []
    for project in projects:
        if isinstance(project, dict) and isinstance(project.get("title"), str):
            add([f"{name} worked on {project['title']}."])
            add(_strings(project.get("description")))
    add(_strings(p.get("other_facts")))
    return out


def persona_from_tinytroupe(obj: Any, source: Path | str | None, fragments: Sequence[Any] = ()) -> Persona:
    """A TinyTroupe agent, with `fragments` deep-merged into it in order, → `Persona`."""
    if not is_tinytroupe(obj):
        raise PersonaFormatError(source, 'not a TinyTroupe agent (needs "type" and a "persona" mapping)')
    if obj["type"] == "Fragment":
        raise PersonaFormatError(source, "a TinyTroupe fragment is not an agent; pass it with --fragment")
    merged = copy.deepcopy(obj)
    for index, fragment in enumerate(fragments):
        if not is_tinytroupe(fragment):
            raise PersonaFormatError(source, f"fragment {index + 1} is not a TinyTroupe fragment")
        merged["persona"] = deep_merge(merged["persona"], fragment["persona"])
    p: dict[str, Any] = merged["persona"]
    name = p.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PersonaFormatError(source, "expected a non-empty string", field="persona.name")
    name = name.strip()
    fields: dict[str, Any] = {"name": name, "statements": _statements(p, name)}
    personality = p.get("personality")
    big_five = personality.get("big_five") if isinstance(personality, dict) else None
    if isinstance(big_five, dict):
        traits = {k: _level(v) for k, v in big_five.items() if k in _TRAITS and _level(v) is not None}
        if traits:
            fields["traits"] = traits
    if isinstance(p.get("style"), str):
        fields["speaking_style"] = p["style"]
    goals = p.get("long_term_goals")
    if isinstance(goals, list):
        fields["goals"] = [g for g in goals if isinstance(g, str)]
    relationships = []
    rels: list[Any] = p["relationships"] if isinstance(p.get("relationships"), list) else []
    for rel in rels:
        if isinstance(rel, dict) and isinstance(rel.get("name"), str):
            desc = rel.get("description") if isinstance(rel.get("description"), str) else None
            relationships.append({"name": rel["name"], "relation": _relation(desc), "description": desc})
    fields["relationships"] = relationships
    fields["extensions"] = {KEEP: merged}
    return persona_from_data(fields, source)


_RELATION = re.compile(r"\s*(?:your|my|his|her)\s+([\w -]{1,40}?)(?:[,.;]|\s+(?:at|from|who|and|in)\b|$)", re.I)
_TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


def _relation(description: str | None) -> str:
    """A short relation label from TinyTroupe's free-text description ("Your colleague, ..." → "colleague")."""
    if not description:
        return "acquaintance"
    match = _RELATION.match(description)
    return match.group(1).strip().lower() if match else "acquaintance"


def _level_word(value: float) -> str:
    return "High" if value >= 0.65 else "Low" if value <= 0.35 else "Medium"


def persona_to_tinytroupe(persona: Persona) -> dict[str, Any]:
    """`Persona` → a TinyTroupe agent spec; the kept original (if any) is the base, persona fields overlay it."""
    kept = persona.extensions.get(KEEP)
    original: dict[str, Any] | None = kept if isinstance(kept, dict) and is_tinytroupe(kept) else None
    agent: dict[str, Any] = copy.deepcopy(original) if original else {"type": "TinyPerson", "persona": {}}
    p: dict[str, Any] = agent["persona"]
    p["name"] = persona.name
    if persona.speaking_style is not None:
        p["style"] = persona.speaking_style
    if persona.goals:
        p["long_term_goals"] = list(persona.goals)
    if persona.traits is not None:
        # A kept value of the wrong shape cannot hold the traits; TinyTroupe could not have read it either.
        if not isinstance(p.get("personality"), dict):
            p["personality"] = {}
        personality = p["personality"]
        if not isinstance(personality.get("big_five"), dict):
            personality["big_five"] = {}
        big_five = personality["big_five"]
        for trait in _TRAITS:
            value = getattr(persona.traits, trait)
            if value is not None and _level(big_five.get(trait)) != value:
                big_five[trait] = _level_word(value)
    if original is None:
        if persona.statements:
            p["other_facts"] = list(persona.statements)
        if persona.relationships:
            p["relationships"] = [
                {"name": r.name, "description": r.description or r.relation} for r in persona.relationships
            ]
    else:
        known = set(_statements(original["persona"], persona.name))
        extra = [s for s in persona.statements if s not in known]
        if extra:
            earlier = p.get("other_facts")
            p["other_facts"] = [*(earlier if isinstance(earlier, list) else _strings(earlier)), *extra]
    return agent
