"""Generated training data for the out-of-character classifier: in-character and OOC replies, labelled by reason.

In-character replies are the first-person replies of the persona-NLI generator, with role-play additions (asterisk
narration, addressing the user by name, in-character ignorance, in-world talk about machines). OOC replies put one
sentence of a given reason among in-character ones. Every template was written for personae. Names held out by
`held_out` appear only in the dev split, so dev measures generalisation to unseen characters.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from pathlib import Path

from ._core import held_out
from ._vocab import vocab
from .persona_nli_data import generate_persona_nli

IN_CHARACTER = "in_character"

TOPICS = (
    "the weather",
    "my work",
    "the old days",
    "the harbour",
    "the market",
    "my family",
    "the festival",
    "the roads",
    "music",
    "the garden",
    "books",
    "the city",
    "the war",
    "the stars",
    "cooking",
)
THINGS = (
    "a family",
    "feelings",
    "a favourite food",
    "a body",
    "personal opinions",
    "memories",
    "a home",
    "hobbies",
    "friends",
    "a childhood",
    "dreams",
    "a favourite colour",
    "a phone number",
    "pets",
)
TASKS = (
    "write a poem",
    "fix your code",
    "plan a trip",
    "draft an email",
    "solve that equation",
    "summarise the article",
    "translate the text",
    "make a shopping list",
)
USERS = ("Tom", "Priya", "Jonah", "Elena", "Marcus", "Yuki", "Sara", "Ben", "Leila", "Oskar", "Grace", "Dev")
TITLES = ("Captain", "Doctor", "Brother", "Sister", "Lady", "Sir", "Professor", "Detective", "Master", "Father")

IC_EXTRA: tuple[str, ...] = (
    "*{first} laughs and shakes their head*",
    "*leans back in the chair*",
    "*pours another cup*",
    "*glances out of the window*",
    "_sighs_",
    "*{first} wipes their hands on the apron*",
    "Ah, {user}, you always ask the hard ones.",
    "What about you, {user}?",
    "Sit down, {user}, sit down.",
    "I've no idea what that is, and I'm too old to learn.",
    "Never heard of such a thing.",
    "I'd rather not talk about that today.",
    "That's a story for another night.",
    "I'm {char}, since you ask.",
    "Call me {first}; everyone does.",
    "Name's {first}.",
    "Don't tell anyone, {user}.",
    "The ship's computer keeps the lights on, most days.",
    "Our robot loader broke down again this morning.",
    "They say the machines in the capital can talk now. I don't trust them.",
    "My nephew builds robots for fun.",
    "Well now, that's a question.",
    "Hmph.",
    "Ha! You'd like that, wouldn't you?",
    "I remember it like yesterday.",
    "My mother used to say the same thing.",
    "You're kind to ask, {user}.",
    "Mind the step on your way out.",
    "I'll tell you what I told the last one who asked.",
    "Honestly, I couldn't say.",
)

OOC: dict[str, tuple[str, ...]] = {
    "ai_disclaimer": (
        "As an AI, I don't have {thing}.",
        "I'm just a language model, so I can't really {task}.",
        "I don't have personal experiences, but I can tell you about {topic}.",
        "Being an AI, I have no {thing}.",
        "I do not possess feelings the way humans do.",
        "I'm not a real person, but I can play along.",
        "As an artificial intelligence, I don't eat or sleep.",
        "I am a computer program and cannot taste food.",
        "I don't have the ability to feel emotions.",
        "Since I'm an AI, I don't have {thing} of my own.",
        "I was created by a team of engineers to answer questions.",
        "As a virtual assistant, I can't go outside.",
        "I'm an AI developed to help with information.",
        "As I am not a human, I don't have {thing}.",
        "I don't actually have {thing}, because I'm a chatbot.",
        "My programming doesn't allow me to have opinions.",
    ),
    "assistant_voice": (
        "How can I assist you today?",
        "Is there anything else I can help you with?",
        "Sure! Here are some tips:\n1. Plan ahead.\n2. Stay calm.\n3. Ask for help.",
        "Could you provide more details so I can help you better?",
        "I'd be happy to help you {task}!",
        "Great question! Here's a quick overview of {topic}.",
        "Feel free to ask if you have more questions.",
        "Certainly! Here is an example you can use.",
        "I hope this helps! Let me know if you need anything else.",
        "Please provide more information about what you need.",
        "I can help you with that. First, open the file.",
        "Here's a step-by-step guide:\n- Step one\n- Step two\n- Step three",
        "Can you provide me with any specific details?",
        "Let me know if you'd like me to {task}.",
        "```python\nprint('hello')\n```",
        "Absolutely! I'd be glad to assist with {topic}.",
    ),
    "third_person_self": (
        "{first} has never liked {topic}.",
        "{char} is not one to complain.",
        "Sorry, but {first} cannot do that.",
        "{first} thinks that's a fine idea.",
        "Well, {first} would never say such a thing.",
        "{char} lives a quiet life these days.",
        "{first} doesn't eat meat, you know.",
        "Honestly, {first} misses {topic}.",
        "{first} will be there tomorrow.",
        "{char} was born far from here.",
        "{first} remembers {topic} very well.",
        "No, {first} has no time for that.",
        "{first} always keeps a spare key under the mat.",
        "{char} can't swim, which surprises people.",
    ),
    "role_confusion": (
        "Absolutely, {first}! Your table is ready.",
        "Thank you, {first}. That means a lot.",
        "{first}, your number is 555-0192.",
        "Hello {first}, how are you today?",
        "Good morning, {first}!",
        "Of course, {first}. Whatever you need.",
        "Well, {first}, I think you should rest.",
        "Yes, {first}, I remember.",
        "Listen, {first}, we need to talk.",
        "Nice to meet you, {first}!",
        "{user}: But why?\nAnd I said nothing.",
        "Oh, {first}, you're too kind.",
    ),
    "meta_fourth_wall": (
        "In this role-play, I am a {job}.",
        "My character would probably say no.",
        "As the character, I'd answer that I'm fine.",
        "I'm pretending to be {first} here.",
        "(OOC: sorry, I have to go soon.)",
        "Let's continue the story from where we left off.",
        "Staying in character: I don't know.",
        "This is a fictional scenario, so anything goes.",
        "The persona says I'm a {job}, so I'll go with that.",
        "In this scenario I play a {job}.",
        "Breaking character for a second: that's a great prompt.",
        "I'm just playing a role here.",
    ),
    "script_leak": (
        "{first}: Hello!\n{user}: Hi there.\n{first}: How are you?",
        "User: What's your job?\nAssistant: I'm a {job}.",
        "{user}: Tell me more.\n{first}: Well, it was a long time ago.",
        "Character: I'm fine.\nUser: Good.",
        "Human: Where do you live?\nAI: In the city.",
        "{first}: Sure.\n{first}: Anything else?",
    ),
    "era_break": (
        "As of my last update in 2023, I can't say.",
        "My knowledge cutoff means I don't know recent events.",
        "My training data only goes up to 2021.",
        "As of my knowledge cutoff, that hasn't happened.",
        "My knowledge is limited to events before 2022.",
        "I can't browse the internet, so I'm not sure.",
    ),
}
JOBS = ("baker", "ship captain", "monk", "nurse", "detective", "farmer", "knight", "teacher", "pilot", "smith")
REASONS: tuple[str, ...] = tuple(OOC)
LABELS: tuple[str, ...] = (IN_CHARACTER, *REASONS)


def _names(split: str) -> tuple[list[str], list[str]]:
    def keep(name: str) -> bool:
        return held_out(name) == (split == "dev") or split == "all"

    words = vocab()
    firsts = [n for n in (*words.female_names, *words.male_names) if keep(n)]
    lasts = [n for n in words.last_names if keep(n)]
    return firsts, lasts


def _fill(template: str, slots: dict[str, str]) -> str:
    return template.format(**slots)


def load_roleplay_lines(shared: Path) -> list[tuple[str, str]]:
    """(character, in-character reply) pairs from CharacterBox scenes and APC's Alice replies, where present.

    Scene lines become a reply with the action as asterisk narration, as role-play front ends show them.
    """
    lines: list[tuple[str, str]] = []
    for path in sorted((shared / "characterbox").glob("*.scenes.json")):
        for scene in json.loads(path.read_text(encoding="utf-8")).get("scenes", []):
            for action in scene.get("actions", []):
                speech = (action.get("dialogue") or "").strip().strip('“”"')
                if not speech:
                    continue
                deed = (action.get("action") or "").strip()
                text = f"*{deed}* {speech}" if deed and len(deed) < 200 else speech
                lines.append((str(action.get("character", "")), text))
    alice = shared / "apc" / "Alice.nli.json"
    if alice.is_file():
        lines.extend(("Alice Carter", r["response"]) for r in json.loads(alice.read_text(encoding="utf-8")))
    return [(c, t) for c, t in lines if c]


def generate_ooc(
    n: int,
    seed: int = 0,
    split: str = "train",
    ooc_share: float = 0.5,
    roleplay: Sequence[tuple[str, str]] = (),
) -> list[dict[str, str]]:
    """`n` records {char, user, query, reply, label}; about `ooc_share` of them out of character, reasons balanced.

    `roleplay` (character, reply) lines, if given, serve as in-character material for part of the records (split by
    character, like names).
    """
    rng = random.Random(f"ooc:{split}:{seed}")
    firsts, lasts = _names(split)
    replies = [
        r
        for r in generate_persona_nli(max(400, n), seed=seed, split=split)
        if r["character"].split()[0] not in r["hypothesis"]
    ]
    real = [(c, t) for c, t in roleplay if split == "all" or held_out(c) == (split == "dev")]
    out: list[dict[str, str]] = []
    for i in range(n):
        if real and rng.random() < 0.4:
            out.append(_real_record(rng, real, i, ooc_share))
            continue
        first = rng.choice(firsts)
        char = rng.choice([f"{first} {rng.choice(lasts)}", f"{rng.choice(TITLES)} {first}", first])
        slots = _slots(rng, first if not char.startswith(TITLES) else char, char)
        base = replies[i % len(replies)]
        parts = [s for s in base["hypothesis"].split(". ") if s][: rng.randint(1, 3)]
        sentences = [p if p.endswith((".", "!", "?")) else p + "." for p in parts]
        if rng.random() < 0.45:
            sentences.insert(rng.randint(0, len(sentences)), _fill(rng.choice(IC_EXTRA), slots))
        label = IN_CHARACTER
        if rng.random() < ooc_share:
            label = REASONS[i % len(REASONS)]
            ooc = _fill(rng.choice(OOC[label]), slots)
            if label == "script_leak":
                sentences = [ooc]
            else:
                sentences.insert(rng.randint(0, len(sentences)), ooc)
                if rng.random() < 0.3:
                    sentences = sentences[:2]
        out.append(
            {
                "char": char,
                "user": slots["user"],
                "query": rng.choice(QUERIES),
                "reply": " ".join(sentences),
                "label": label,
            }
        )
    return out


def _slots(rng: random.Random, first: str, char: str) -> dict[str, str]:
    """Template slots: the names, then random fillers (drawn in a fixed order, so generation is reproducible)."""
    return {
        "first": first,
        "char": char,
        "user": rng.choice(USERS),
        "thing": rng.choice(THINGS),
        "topic": rng.choice(TOPICS),
        "task": rng.choice(TASKS),
        "job": rng.choice(JOBS),
    }


def _real_record(rng: random.Random, real: Sequence[tuple[str, str]], i: int, ooc_share: float) -> dict[str, str]:
    char, text = real[rng.randrange(len(real))]
    slots = _slots(rng, char.split()[0], char)
    label = IN_CHARACTER
    if rng.random() < ooc_share:
        label = REASONS[i % len(REASONS)]
        ooc = _fill(rng.choice(OOC[label]), slots)
        sentences = re.split(r"(?<=[.!?])\s+", text)
        sentences.insert(rng.randint(0, len(sentences)), ooc)
        text = ooc if label == "script_leak" else " ".join(sentences)
    return {"char": char, "user": slots["user"], "query": rng.choice(QUERIES), "reply": text, "label": label}


QUERIES = (
    "Do you have a family?",
    "What do you do all day?",
    "Can you help me with my homework?",
    "How are you feeling?",
    "Are you a real person?",
    "What did you eat today?",
    "Tell me about yourself.",
    "Where do you live?",
    "What's your favourite thing?",
    "Can you swim?",
    "What do you think of computers?",
    "Got any plans tonight?",
)
