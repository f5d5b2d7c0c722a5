"""Prompt assembly under a token budget: persona core, retrieved statements, lorebook, memory, recent turns.

Fixed parts (persona core, rules, the new user message) always go in. The rest compete for the remaining budget in
a fixed order of importance: the last two exchanges, the persona statements most relevant to the user's message,
lorebook entries by descending priority, what the character knows about the user from earlier sessions (facts,
then episodes), the latest memory summary, retrieved past events, older recent turns (newest first), then example
dialogues. Whatever does not fit is kept in the record as dropped, so `/prompt` can
show what was left out and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from personae.backends import Message, approx_tokens
from personae.persona import (
    Persona,
    example_block,
    expand_macros,
    intro_block,
    profile_block,
    rules_block,
    statements_block,
)
from personae.prompting._lorebook import triggered_entries
from personae.scoring import RelevanceModel, aliases

Section = Literal[
    "core",
    "greeting",
    "statement",
    "lorebook",
    "user_fact",
    "episode",
    "summary",
    "event",
    "turn",
    "example",
    "rules",
    "premise",
    "user",
]

TokenCounter = Callable[[str], int]
PremiseCheck = Callable[[str], Sequence[str]]
"""User message → the persona statements that what it takes for granted contradicts (`APCScorer.premise_conflicts`)."""


class PromptSettings(BaseModel):
    """How big the prompt may get and how much of each kind of context to retrieve."""

    budget_tokens: int = Field(default=3072, ge=64)
    """Upper bound on prompt tokens (leave room for the reply within the model's context)."""
    top_k_statements: int = Field(default=8, ge=0)
    """Persona statements retrieved for the latest user message."""
    recent_turns: int = Field(default=8, ge=0)
    """Exchanges kept verbatim at most."""
    memory_events: int = Field(default=3, ge=0)
    """Older exchanges retrieved from memory by similarity to the latest user message."""
    lorebook_budget_tokens: int | None = Field(default=None, ge=0)
    """Cap on lorebook tokens; the lorebook's own `token_budget` wins when set."""
    user_facts: int = Field(default=8, ge=0)
    """Facts about the user (from earlier sessions too) retrieved for the latest user message."""
    episodes: int = Field(default=2, ge=0)
    """Episodes of earlier sessions retrieved for the latest user message."""
    premise_cue: bool = True
    """When the user's message takes for granted something a persona statement contradicts ("What do you feed your
    cat?" to the owner of a dog), end the system prompt with that statement and ask the character to set it right
    (needs scoring models)."""


class PromptPart(BaseModel):
    """One candidate piece of the prompt, included or dropped."""

    section: Section
    """What kind of context it is."""
    text: str
    """The text as it would appear."""
    tokens: int
    """Its estimated cost."""
    included: bool
    """Whether it made it into the prompt."""
    note: str | None = None
    """Why it was chosen (relevance, trigger key) or dropped."""


class AssembledPrompt(BaseModel):
    """The messages sent to the backend and the record of how they were put together."""

    messages: list[Message]
    """System prompt, recent turns, the new user message."""
    parts: list[PromptPart]
    """Every piece considered, in consideration order."""
    budget_tokens: int
    """The budget it was assembled under."""

    @property
    def tokens(self) -> int:
        """Estimated tokens of the included parts."""
        return sum(p.tokens for p in self.parts if p.included)

    def render(self) -> str:
        """Human-readable view for `/prompt`: the messages, then what was dropped."""
        lines = [f"# prompt: about {self.tokens} of {self.budget_tokens} tokens"]
        for message in self.messages:
            lines.append(f"--- {message.role} ---")
            lines.append(message.content)
        dropped = [p for p in self.parts if not p.included]
        if dropped:
            lines.append("--- dropped (over budget) ---")
            lines.extend(f"[{p.section}] {p.text[:100]}" for p in dropped)
        return "\n".join(lines)


class Exchange(BaseModel):
    """One past exchange as the assembler sees it."""

    index: int
    """Turn number in the session."""
    user: str
    """The user's message."""
    reply: str
    """The character's shown reply."""

    def transcript(self, char: str, user: str) -> str:
        """The exchange as two speaker-labelled lines."""
        return f"{user}: {self.user}\n{char}: {self.reply}"


class MemoryContext(BaseModel):
    """What long-term memory offers for this prompt."""

    summary: str | None = None
    """The rolling summary of turns that left the verbatim window."""
    events: list[tuple[Exchange, float]] = Field(default_factory=list)
    """Older exchanges ranked by similarity to the user's message."""
    user_facts: list[tuple[str, float]] = Field(default_factory=list)
    """What the character knows about the user (dated), most relevant first, with relevance."""
    episodes: list[tuple[str, float]] = Field(default_factory=list)
    """Dated summaries of earlier sessions, most relevant first, with relevance."""
    known_user: bool = False
    """Whether the character has talked with this user before this session."""
    last_seen: str | None = None
    """When they last talked, as the prompt says it ("08 May 2023")."""


_ABOUT_THEMSELVES = re.compile(r"\b(?:i|my|me|mine|myself)\b[^.!?]*\?", re.IGNORECASE)
"""A question in the user's first person ("Where do I live these days?", "What is my job?")."""
SELF_QUESTION_RELEVANCE = 0.5
"""A persona statement at least this relevant to a question about the user's own life is ranked last."""


_IRREGULAR = {"is": "are", "was": "were", "has": "have", "does": "do", "goes": "go", "isn't": "aren't"}
_IRREGULAR |= {"wasn't": "weren't", "hasn't": "haven't", "doesn't": "don't"}
_ADVERBS = "usually|often|always|never|still|sometimes|rarely|also|now"
_PRONOUNS = {"she": "you", "he": "you", "her": "your", "his": "your", "herself": "yourself", "himself": "yourself"}


def _base_form(verb: str) -> str:
    """A third-person present verb as "you" takes it ("plays" → "play", "carries" → "carry"); others as they are."""
    low = verb.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low.endswith("ies") and len(low) > 4:
        return verb[:-3] + "y"
    if re.search(r"(?:ss|sh|ch|x|z)es$", low):
        return verb[:-2]
    if low.endswith("s") and not low.endswith("ss") and len(low) > 3:
        return verb[:-1]
    return verb


def in_second_person(statement: str, name: str) -> str:
    """A persona statement that opens with the character's name, told to the character; others unchanged.

    "Ada Quint is a widow; her husband died" → "You are a widow; your husband died".

    The premise cue speaks to the character: given its facts in the third person, the embedded model answered in the
    third person too ("No, Captain Iris Vega does not take three sugars in her coffee.").
    """
    names = "|".join(re.escape(a) for a in aliases(name, [name]))
    m = re.match(rf"^(?:{names})(?P<own>['’]s)?\s+(?P<verb>[\w'’]+)", statement)
    if m is None:
        return statement
    # "Ada Quint's husband died" → "Your husband died"
    head = f"Your {m['verb']}" if m["own"] else f"You {_base_form(m['verb'])}"
    rest = statement[m.end() :]

    rest = re.sub(r"\b(?:she|he|her|his|herself|himself)\b", lambda w: _PRONOUNS[w[0].lower()], rest, flags=re.I)
    # the verbs that now have "you" for subject: after a pronoun ("which you finds" → "find"), and a second verb of
    # the same subject ("reads and writes Latin", "and usually loses"; not a last plural noun: "dogs and cats.")
    rest = re.sub(r"\byou\s+([a-z]+)\b", lambda v: f"you {_base_form(v[1])}", rest)
    rest = re.sub(rf"\band\s+({_ADVERBS})\s+([a-z]+)\b", lambda v: f"and {v[1]} {_base_form(v[2])}", rest)
    rest = re.sub(r"\band\s+([a-z]+s)\b(?=\s+\w)", lambda v: f"and {_base_form(v[1])}", rest)
    return head + rest


_FIRST_PERSON = {"you are": "I am", "you were": "I was", "you aren't": "I'm not", "you weren't": "I wasn't"}
_FIRST_PERSON |= {"yourself": "myself", "your": "my", "you": "I"}
_SECOND_PERSON = re.compile(r"\b(?:you are|you were|you aren't|you weren't|yourself|your|you)\b", re.IGNORECASE)


def in_first_person(statement: str, name: str) -> str | None:
    """A persona statement that opens with the character's name, as the character says it; None for any other.

    "Ada Quint is a widow; her husband died" → "I am a widow; my husband died". The guard opens a corrective reply
    with it when the user's message takes for granted what the statement rules out.
    """
    told = in_second_person(statement, name)
    if told == statement:
        return None

    def first(m: re.Match[str]) -> str:
        said = _FIRST_PERSON[m[0].lower()]
        return said[0].upper() + said[1:] if m.start() == 0 else said

    return _SECOND_PERSON.sub(first, told)


class PromptAssembler:
    """Builds the messages for the next reply of one persona."""

    def __init__(
        self,
        persona: Persona,
        user_name: str = "User",
        settings: PromptSettings | None = None,
        relevance: RelevanceModel | None = None,
        count_tokens: TokenCounter = approx_tokens,
        premises: PremiseCheck | None = None,
        heard: bool = False,
    ) -> None:
        self.persona = persona
        self.heard = heard
        """The message answered is what the character heard in a scene (other characters' lines, events), not one
        user's words: the premise cue speaks of "what you just heard"."""
        self.user_name = user_name
        self.settings = settings or PromptSettings()
        self.relevance = relevance
        self.count_tokens = count_tokens
        self.premises = premises if self.settings.premise_cue else None

    def _x(self, text: str) -> str:
        return expand_macros(text, char=self.persona.name, user=self.user_name)

    def ranked_statements(self, user_text: str) -> list[tuple[str, float | None]]:
        """Persona statements, most relevant to `user_text` first (file order without a relevance model)."""
        statements = self.persona.statements
        if self.relevance is None or not statements:
            return [(s, None) for s in statements]
        probs = self.relevance.probability(statements, [user_text], [self.persona.name])[0]
        order = np.argsort(-probs, kind="stable")
        return [(statements[int(i)], float(probs[int(i)])) for i in order]

    def _known_block(self, memory: MemoryContext, facts: list[str], episodes: list[str], first_turn: bool) -> str:
        """The "What {{char}} knows about {{user}}" block: facts, earlier conversations, and a returning user's cue."""
        char, user = self.persona.name, self.user_name
        lines: list[str] = []
        if memory.known_user and first_turn:
            when = f" (last on {memory.last_seen})" if memory.last_seen else ""
            lines.append(f"{char} has talked with {user} before{when}: greet {user} as someone {char} knows.")
        if facts:
            # A small model answered "Where do I live these days?" with the character's own home: say whose facts
            # these are and what a question in the user's first person asks for.
            lines.append(f"These are facts about {user}, not about {char}. When {user} asks about {user}'s own life")
            lines.append('("Where do I live?", "What is my job?"), answer from them: "you live …", "your job …".')
            lines.append("\n".join(f"- {t}" for t in facts))
        if episodes:
            lines.append(f"Earlier conversations with {user}:\n" + "\n".join(f"- {t}" for t in episodes))
        return f"What {char} knows about {user}:\n" + "\n".join(lines) if lines else ""

    def _premise_cue(self, user_text: str) -> str:
        """The closing cue for a message whose premise a persona statement contradicts ("" for none).

        A small model goes along with a false premise though the statement is in the prompt ("How is your husband
        keeping?" to a widow: "He's doing well!"); named last, where it attends most, the statement is set against
        it. Worded as a reminder, not a verdict: when the check is wrong, the reply still says only what is true.
        """
        if self.premises is None:
            return ""
        char, user = self.persona.name, self.user_name
        statements = list(dict.fromkeys(in_second_person(self._x(s), char) for s in self.premises(user_text)))
        if not statements:
            return ""
        facts = "\n".join(f"- {s}" for s in statements)
        said, whom = ("What you just heard", "them") if self.heard else (f"{user}'s message", user)
        return (
            f"{said} takes for granted something your facts rule out:\n{facts}\nDo not go along with it: "
            f'put {whom} right in your own voice ("I …"), in character.'
        )

    def assemble(
        self,
        history: Sequence[Exchange],
        user_text: str,
        memory: MemoryContext | None = None,
        premise: bool = True,
    ) -> AssembledPrompt:
        """Assemble the prompt for replying to `user_text` after `history` (oldest first).

        `premise=False` leaves out the premise cue: for a `user_text` that is no message of the user's (an
        instruction such as Impersonate's), whose "premise" nobody holds.
        """
        cfg, persona, user = self.settings, self.persona, self.user_name
        memory = memory or MemoryContext()
        parts: list[PromptPart] = []
        used = 0

        def fixed(section: Section, text: str) -> PromptPart:
            nonlocal used
            part = PromptPart(section=section, text=text, tokens=self.count_tokens(text), included=True)
            used += part.tokens
            parts.append(part)
            return part

        def offer(section: Section, text: str, note: str | None = None, cap: list[int] | None = None) -> PromptPart:
            nonlocal used
            tokens = self.count_tokens(text)
            fits = used + tokens <= cfg.budget_tokens and (cap is None or tokens <= cap[0])
            part = PromptPart(section=section, text=text, tokens=tokens, included=fits, note=note)
            if fits:
                used += tokens
                if cap is not None:
                    cap[0] -= tokens
            else:
                part.note = f"{note}; dropped: over budget" if note else "dropped: over budget"
            parts.append(part)
            return part

        core = self._x("\n\n".join(b for b in (intro_block(persona, user), profile_block(persona)) if b))
        fixed("core", core)
        fixed("rules", self._x(rules_block(persona, user)))
        premise_cue = self._premise_cue(user_text) if premise else ""
        if premise_cue:
            fixed("premise", premise_cue)
        fixed("user", user_text)
        greeting = None
        # A first-meeting greeting would tell a returning user that the character has forgotten them.
        if persona.greetings and len(history) <= cfg.recent_turns and not memory.known_user:
            greeting = fixed("greeting", self._x(persona.greetings[0])).text

        recent = list(history[-cfg.recent_turns :]) if cfg.recent_turns else []
        turn_parts: dict[int, PromptPart] = {}
        for exchange in reversed(recent[-2:]):
            turn_parts[exchange.index] = offer("turn", exchange.transcript(persona.name, user))

        ranked = self.ranked_statements(user_text)
        notes = {s: None if p is None else f"relevance {p:.2f}" for s, p in ranked}
        if memory.user_facts and _ABOUT_THEMSELVES.search(user_text):
            # "Where do I live these days?" finds the character's own home most relevant, and the embedded model
            # answered with it ("I live in a stone cottage in Uig") though the prompt held the user's new city.
            tempting = {s for s, p in ranked if p is not None and p >= SELF_QUESTION_RELEVANCE}
            ranked.sort(key=lambda pair: pair[0] in tempting)  # stable: by relevance within each group
            notes.update({s: f"{notes[s]}; ranked last: {user} asks about {user}'s own life" for s in tempting})
        statement_parts = [offer("statement", self._x(s), notes[s]) for s, _ in ranked[: cfg.top_k_statements]]

        scan = [m for e in recent for m in (e.user, e.reply)] + [user_text]
        budget = persona.lorebook.token_budget if persona.lorebook and persona.lorebook.token_budget else None
        cap = [budget if budget is not None else (cfg.lorebook_budget_tokens or cfg.budget_tokens)]
        triggers = triggered_entries(persona.lorebook, scan)
        by_priority = sorted(range(len(triggers)), key=lambda i: (-triggers[i].entry.priority, i))
        lore_parts: dict[int, PromptPart] = {}
        for i in by_priority:
            lore_parts[i] = offer("lorebook", self._x(triggers[i].entry.content), triggers[i].reason, cap)

        fact_parts = [offer("user_fact", text, f"relevance {p:.2f}") for text, p in memory.user_facts[: cfg.user_facts]]
        episode_parts = [offer("episode", text, f"relevance {p:.2f}") for text, p in memory.episodes[: cfg.episodes]]
        summary_part = offer("summary", memory.summary, "rolling summary") if memory.summary else None
        in_window = {e.index for e in recent}
        event_parts = [
            offer("event", e.transcript(persona.name, user), f"turn {e.index}, similarity {sim:.2f}")
            for e, sim in memory.events[: cfg.memory_events]
            if e.index not in in_window
        ]
        for exchange in reversed(recent[:-2]):
            turn_parts[exchange.index] = offer("turn", exchange.transcript(persona.name, user))
        example_parts = [
            offer("example", self._x(example_block(persona, d, user))) for d in persona.example_dialogues[:2]
        ]

        system_blocks = [core]
        kept_statements = [p.text for p in statement_parts if p.included]
        if kept_statements:
            system_blocks.append(statements_block(persona, kept_statements))
        lore = [lore_parts[i].text for i in range(len(triggers)) if lore_parts[i].included]
        if lore:
            system_blocks.append("What you know about your world:\n" + "\n".join(f"- {t}" for t in lore))
        kept_facts = [p.text for p in fact_parts if p.included]
        known = self._known_block(
            memory,
            kept_facts,
            [p.text for p in episode_parts if p.included],
            first_turn=not history,
        )
        if known:
            system_blocks.append(known)
        memory_lines = []
        if summary_part is not None and summary_part.included:
            memory_lines.append(f"Earlier in this conversation: {summary_part.text}")
        events = [p.text for p in event_parts if p.included]
        if events:
            memory_lines.append("Things said earlier that may matter now:\n" + "\n".join(events))
        if memory_lines:
            system_blocks.append("\n\n".join(memory_lines))
        system_blocks.extend(p.text for p in example_parts if p.included)
        system_blocks.append(self._x(rules_block(persona, user)))
        if kept_facts and _ABOUT_THEMSELVES.search(user_text):
            # Last, where a small model attends most: it read "Where do I live?" as asking about the character.
            # Naming whose life it is was not enough: 23 of 54 re-asked probes still answered "I work as a baker.";
            # with the answer's form given, 3 of 54 (same memories and seeds).
            cue = (
                f"{user} is asking about {user}'s own life, not about yours. Answer from what you know about {user}, "
                f'speaking to {user} as "you": "You live in …", "You work as …", "Your …".'
            )
            system_blocks.append(cue)
        if premise_cue:
            system_blocks.append(premise_cue)

        messages = [Message(role="system", content="\n\n".join(system_blocks))]
        if greeting is not None:
            messages.append(Message(role="assistant", content=greeting))
        for exchange in recent:
            if turn_parts[exchange.index].included:
                messages.append(Message(role="user", content=exchange.user))
                messages.append(Message(role="assistant", content=exchange.reply))
        messages.append(Message(role="user", content=user_text))
        return AssembledPrompt(messages=messages, parts=parts, budget_tokens=cfg.budget_tokens)
