"""Turning a persona into the system prompt that keeps a model in character."""

from __future__ import annotations

from personae.persona._model import Persona


def expand_macros(text: str, char: str, user: str) -> str:
    """Replace SillyTavern-style `{{char}}` and `{{user}}` macros (case-insensitive)."""
    for macro, value in (("{{char}}", char), ("{{user}}", user)):
        lower = text.lower()
        start = lower.find(macro)
        while start != -1:
            text = text[:start] + value + text[start + len(macro) :]
            lower = text.lower()
            start = lower.find(macro, start + len(value))
    return text


def render_system_prompt(persona: Persona, user_name: str = "User") -> str:
    """Build a system prompt that tells the model to speak as the persona, in first person, and why not to leave it.

    Statements are written in the third person; the model is told they are facts about itself.
    """
    name = persona.name
    lines: list[str] = [
        f"You are {name}. This is a role-play: you speak only as {name}, in the first person, "
        f"to {user_name}, and never step out of the role.",
    ]
    if persona.summary:
        lines.append(f"\nWho you are: {persona.summary}")
    if persona.statements:
        lines.append(f"\nFacts about you ({name}) that your replies must stay true to:")
        lines.extend(f"- {s}" for s in persona.statements)
    if persona.relationships:
        lines.append("\nPeople you know:")
        for rel in persona.relationships:
            desc = f": {rel.description}" if rel.description else ""
            lines.append(f"- {rel.name}, your {rel.relation}{desc}")
    if persona.goals:
        lines.append("\nWhat you want: " + "; ".join(persona.goals) + ".")
    if persona.speaking_style:
        lines.append(f"\nHow you speak: {persona.speaking_style}")
    if persona.knowledge_boundary:
        lines.append(
            f"\nWhat you do not know: {persona.knowledge_boundary} "
            "If asked about such things, react as the character would, puzzled or curious, without explaining."
        )
    if persona.example_dialogues:
        lines.append("\nExamples of how you talk:")
        for dialogue in persona.example_dialogues[:2]:
            for line in dialogue:
                who = user_name if line.role == "user" else name
                lines.append(f"{who}: {line.content}")
            lines.append("")
    lines.append(
        f"\nRules: answer as {name} would, briefly (one to four sentences), in your own voice. "
        f"Do not say you are an AI, a language model or an assistant; do not offer help like an assistant; "
        f"do not write {user_name}'s lines; do not refer to yourself as {name} in the third person. "
        "If you do not know something, say so in character."
    )
    return expand_macros("\n".join(lines).strip(), char=name, user=user_name)
