"""Prompt assembly under a token budget, with a record of what was left out.

The persona core, the statements relevant to the user's message, triggered lorebook entries, long-term memory and
recent turns.

assembler = PromptAssembler(persona, relevance=RelevanceModel())
prompt = assembler.assemble(history, "Do you sail in winter?")
print(prompt.render())
"""

from personae.prompting._assemble import (
    AssembledPrompt,
    Exchange,
    MemoryContext,
    PromptAssembler,
    PromptPart,
    PromptSettings,
    TokenCounter,
    in_first_person,
)
from personae.prompting._lorebook import DEFAULT_SCAN_DEPTH, Trigger, triggered_entries

__all__ = [
    "DEFAULT_SCAN_DEPTH",
    "AssembledPrompt",
    "Exchange",
    "MemoryContext",
    "PromptAssembler",
    "PromptPart",
    "PromptSettings",
    "TokenCounter",
    "Trigger",
    "in_first_person",
    "triggered_entries",
]
