"""PersonaGym benchmark personas: one JSON object per line with a one-sentence `persona` description."""

from __future__ import annotations

from pathlib import Path

from personae.interop._card import Extractor
from personae.interop._json import parse_json
from personae.persona import Persona, PersonaFormatError, persona_from_data

KEEP = "personagym"
"""Key in `Persona.extensions` holding the original record minus the description (e.g. its questions)."""


def personas_from_personagym(data: bytes, source: Path | str, extract: Extractor) -> list[Persona]:
    """Every line → a persona named "Persona <id>" whose statements come from the description."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PersonaFormatError(source, f"not UTF-8 text (byte {exc.start})") from None
    personas: list[Persona] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        record = parse_json(line, where, "JSON line")
        if not isinstance(record, dict):
            raise PersonaFormatError(where, "expected a JSON object")
        description = record.get("persona")
        if not isinstance(description, str) or not description.strip():
            raise PersonaFormatError(where, "expected a non-empty string", field="persona")
        ident = record.get("id", number - 1)
        name: str = record["name"] if isinstance(record.get("name"), str) else f"Persona {ident}"
        sentence = description.strip()
        if sentence[:2].lower() in ("a ", "an") or sentence.lower().startswith("the "):
            sentence = f"{name} is {sentence[0].lower()}{sentence[1:]}"
        keep = {k: v for k, v in record.items() if k != "persona"}
        personas.append(
            persona_from_data(
                {
                    "name": name,
                    "summary": description.strip(),
                    "statements": extract(sentence, name),
                    "extensions": {KEEP: keep},
                },
                where,
            )
        )
    return personas
