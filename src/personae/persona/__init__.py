"""Personas: the typed character model, its files, and the prompt that puts a model in character."""

from personae.persona._errors import PersonaError, PersonaFormatError
from personae.persona._load import (
    dump_persona,
    format_location,
    load_persona,
    parse_persona_text,
    persona_from_data,
)
from personae.persona._model import (
    DialogueLine,
    Lorebook,
    LorebookEntry,
    Persona,
    Relationship,
    Traits,
    slugify,
)
from personae.persona._prompt import (
    example_block,
    expand_macros,
    intro_block,
    profile_block,
    render_system_prompt,
    rules_block,
    statements_block,
)

__all__ = [
    "DialogueLine",
    "Lorebook",
    "LorebookEntry",
    "Persona",
    "PersonaError",
    "PersonaFormatError",
    "Relationship",
    "Traits",
    "dump_persona",
    "example_block",
    "expand_macros",
    "format_location",
    "intro_block",
    "load_persona",
    "parse_persona_text",
    "persona_from_data",
    "profile_block",
    "render_system_prompt",
    "rules_block",
    "slugify",
    "statements_block",
]
