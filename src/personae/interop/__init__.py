"""Interoperability: Character Cards V1/V2/V3 (JSON, PNG, CHARX), lorebooks, TinyTroupe, PersonaGym, text.

imported = read_file("card.png")               # any supported format, recognised by content
persona = imported.personas[0]
Path("out.png").write_bytes(card_png(persona))  # V2 + V3 chunks in one PNG
"""

from personae.interop._card import (
    Extractor,
    card_kind,
    card_v2,
    card_v3,
    lorebook_from_card,
    lorebook_from_world_info,
    lorebook_v3,
    parse_mes_example,
    persona_from_card,
    render_mes_example,
)
from personae.interop._charx import read_charx, safe_member_name, write_charx
from personae.interop._importers import Importer, list_importers, register_importer
from personae.interop._io import (
    CARD_IMAGE,
    Imported,
    card_charx,
    card_from_png,
    card_json,
    card_png,
    read_bytes,
    read_file,
)
from personae.interop._limits import (
    MAX_CHUNK_BYTES,
    MAX_FILE_BYTES,
    MAX_TEXT_BYTES,
    MAX_ZIP_MEMBERS,
    MAX_ZIP_RATIO,
    MAX_ZIP_TOTAL_BYTES,
    read_limited,
)
from personae.interop._lint import LintIssue, contradictions, lint_persona, lint_summary
from personae.interop._llm import LLMExtractor, dedupe_by_embedding, extract_statements_llm, parse_statement_lines
from personae.interop._png import PNG_SIGNATURE, blank_png, read_chunks, read_text_chunks, write_text_chunks
from personae.interop._text import extract_statements, strip_wiki, with_subject
from personae.interop._tinytroupe import deep_merge, is_tinytroupe, persona_from_tinytroupe, persona_to_tinytroupe

__all__ = [
    "CARD_IMAGE",
    "MAX_CHUNK_BYTES",
    "MAX_FILE_BYTES",
    "MAX_TEXT_BYTES",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_RATIO",
    "MAX_ZIP_TOTAL_BYTES",
    "PNG_SIGNATURE",
    "Extractor",
    "Imported",
    "Importer",
    "LLMExtractor",
    "LintIssue",
    "blank_png",
    "card_charx",
    "card_from_png",
    "card_json",
    "card_kind",
    "card_png",
    "card_v2",
    "card_v3",
    "contradictions",
    "dedupe_by_embedding",
    "deep_merge",
    "extract_statements",
    "extract_statements_llm",
    "is_tinytroupe",
    "lint_persona",
    "lint_summary",
    "list_importers",
    "lorebook_from_card",
    "lorebook_from_world_info",
    "lorebook_v3",
    "parse_mes_example",
    "parse_statement_lines",
    "persona_from_card",
    "persona_from_tinytroupe",
    "persona_to_tinytroupe",
    "read_bytes",
    "read_charx",
    "read_chunks",
    "read_file",
    "read_limited",
    "read_text_chunks",
    "register_importer",
    "render_mes_example",
    "safe_member_name",
    "strip_wiki",
    "with_subject",
    "write_charx",
    "write_text_chunks",
]
