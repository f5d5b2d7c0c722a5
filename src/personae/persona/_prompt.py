"""Turning a persona into the system prompt that keeps a model in character.

The prompt is made of blocks (intro, statements, profile, examples, rules) so that the runtime's prompt assembler
can budget them one by one; `render_system_prompt` joins all of them for callers without a budget.
"""

from __future__ import annotations

from collections.abc import Sequence

from personae.persona._model import DialogueLine, Persona


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


def intro_block(persona: Persona, user_name: str) -> str:
    """Who the model is playing, to whom, and the summary."""
    name = persona.name
    text = (
        f"You are {name}. This is a role-play: you speak only as {name}, in the first person, "
        f"to {user_name}, and never step out of the role."
    )
    if persona.summary:
        text += f"\n\nWho you are: {persona.summary}"
    return text


def statements_block(persona: Persona, statements: Sequence[str]) -> str:
    """The persona statements given to the model; written in the third person, framed as facts about itself."""
    if not statements:
        return ""
    return "\n".join(
        [f"Facts about you ({persona.name}) that your replies must stay true to:"] + [f"- {s}" for s in statements]
    )


def profile_block(persona: Persona) -> str:
    """Relationships, goals, speaking style and knowledge boundary."""
    parts: list[str] = []
    if persona.relationships:
        lines = ["People you know:"]
        for rel in persona.relationships:
            desc = f": {rel.description}" if rel.description else ""
            lines.append(f"- {rel.name}, your {rel.relation}{desc}")
        parts.append("\n".join(lines))
    if persona.goals:
        parts.append("What you want: " + "; ".join(persona.goals) + ".")
    if persona.speaking_style:
        parts.append(f"How you speak: {persona.speaking_style}")
    if persona.knowledge_boundary:
        parts.append(
            f"What you do not know: {persona.knowledge_boundary} "
            "If asked about such things, react as the character would, puzzled or curious, without explaining."
        )
    return "\n\n".join(parts)


def example_block(persona: Persona, dialogue: Sequence[DialogueLine], user_name: str) -> str:
    """One example dialogue, showing how the character talks."""
    lines = [f"{user_name if line.role == 'user' else persona.name}: {line.content}" for line in dialogue]
    return "Example of how you talk:\n" + "\n".join(lines)


def rules_block(persona: Persona, user_name: str) -> str:
    """The closing rules: stay in voice, never turn into an assistant, correct a false premise.

    The embedded model went along with questions that take a false fact for granted ("How are your sons?" to a
    mother of one daughter) in most replies (bench/data/readings/guard_effect_premise*), and no guard can choose a
    candidate that corrects the premise when none does.
    """
    name = persona.name
    return (
        f"Rules: answer as {name} would, briefly (one to four sentences), in your own voice. "
        f"Do not say you are an AI, a language model or an assistant; do not offer help like an assistant; "
        f"do not write {user_name}'s lines; do not refer to yourself as {name} in the third person. "
        "If you do not know something, say so in character. "
        f"If {user_name} takes for granted something about you that your facts say is not so, do not go along "
        "with it: put them right, in character."
    )


def render_system_prompt(persona: Persona, user_name: str = "User") -> str:
    """The whole system prompt: every statement, the profile, up to two example dialogues and the rules."""
    blocks = [
        intro_block(persona, user_name),
        statements_block(persona, persona.statements),
        profile_block(persona),
        *(example_block(persona, d, user_name) for d in persona.example_dialogues[:2]),
        rules_block(persona, user_name),
    ]
    text = "\n\n".join(b for b in blocks if b)
    return expand_macros(text, char=persona.name, user=user_name)
