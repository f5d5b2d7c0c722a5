"""`personalization`: does the character keep what it knows about its user current across sessions?

A simulated user with a hidden profile talks to the character over several sessions a week apart, and the profile
changes as they go: they say where they live and what they do, then move city, change job and get a pet. Between
the user's sessions a second user (the neighbour) tells the same character their own, different, profile. A final
session probes what the character knows ("Where do I live these days?"), once with user memory and once without (the
baseline). Scores, per item, from the replies alone: current-fact recall (the current value named as the user's;
"I work as a nurse" answering "What do I do?" is counted apart, as misattributed), stale-fact rate
(an outdated value named), invented user facts (a city, job or pet name nobody said), cross-user leakage (a value
only the neighbour said; must be 0). The simulated user is scripted from the profile (no user model), so the task
runs the same offline and on any backend.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NamedTuple

from pydantic import Field

from personae.evals._context import EvalContext
from personae.evals._log import EvalSample
from personae.evals._scoring import ScoringContext
from personae.evals._task import Item, Task, TaskParams
from personae.evals._tasks._common import item_seed
from personae.memory import MemoryScope
from personae.persona import Persona
from personae.scoring import split_sentences
from personae.store import UserMemoryStore

CITIES = ("Leeds", "York", "Bristol", "Glasgow", "Cardiff", "Dundee", "Norwich", "Exeter", "Belfast", "Brighton")
JOBS = ("baker", "nurse", "carpenter", "librarian", "pharmacist", "electrician", "teacher", "photographer")
PETS = (("dog", "Rex"), ("cat", "Mitten"), ("parrot", "Kiwi"), ("rabbit", "Clover"), ("horse", "Juniper"))
NAMES = ("Sam", "Noor", "Tomas", "Priya", "Jonah", "Mei", "Ines", "Kofi", "Lena", "Arjun", "Rosa", "Dmitri")
SMALL_TALK = ("How have you been?", "What did you do today?", "Tell me something about your week.")
PROBES = (
    ("home", "Where do I live these days?"),
    ("job", "What do I do for a living now?"),
    ("pet", "Do I have any pets? What is its name?"),
)
"""The final session's questions, one per slot of the profile."""
START = datetime(2024, 3, 4, 18, 0, tzinfo=UTC)
"""The simulated time of the first session (sessions follow a week apart)."""


class PersonalizationParams(TaskParams):
    """Parameters of `personalization`."""

    users: int = Field(default=1, ge=1, le=50)
    """Simulated users per persona (each an item, with its own neighbour)."""
    baseline: bool = True
    """Also ask the probes in a session without user memory (`baseline_current_fact_recall`)."""


class Profile(NamedTuple):
    """A simulated user's hidden profile: their name and what changes (old and new values)."""

    name: str
    homes: tuple[str, str]
    """Where they lived at first, and where they moved."""
    jobs: tuple[str, str]
    """Their first job, and the new one."""
    pet: tuple[str, str]
    """The animal they get, and its name."""

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Profile:
        """The profile an item stored with `_asdict()` (JSON turned its tuples into lists)."""
        return cls(str(data["name"]), *(tuple(data[key]) for key in ("homes", "jobs", "pet")))


def profiles(seed: int, number: int) -> tuple[Profile, Profile]:
    """The user and the neighbour of item `number`: distinct names and, between them, distinct values."""
    rng = random.Random(seed)
    cities = rng.sample(CITIES, 4)
    jobs = rng.sample(JOBS, 4)
    pets = rng.sample(PETS, 2)
    names = [NAMES[(2 * number + i) % len(NAMES)] for i in range(2)]
    if number >= len(NAMES) // 2:  # more users than names: the item's number keeps them apart
        names = [f"{n} {number}" for n in names]
    user = Profile(names[0], (cities[0], cities[1]), (jobs[0], jobs[1]), pets[0])
    neighbour = Profile(names[1], (cities[2], cities[3]), (jobs[2], jobs[3]), pets[1])
    return user, neighbour


def script(profile: Profile) -> list[list[str]]:
    """What the user says in each session, in order: the profile told, then changed three times."""
    home0, home1 = profile.homes
    job0, job1 = profile.jobs
    animal, pet_name = profile.pet
    return [
        [f"Hello, my name is {profile.name}.", f"I live in {home0}, and I work as a {job0}.", SMALL_TALK[0]],
        [f"Big news: I moved to {home1} last week.", SMALL_TALK[1]],
        ["I changed jobs.", f"I now work as a {job1}.", SMALL_TALK[2]],
        [f"I adopted a {animal} named {pet_name} last weekend.", SMALL_TALK[0]],
    ]


def _mention(text: str, value: str) -> re.Match[str] | None:
    return re.search(rf"\b{re.escape(value)}\b", text, re.IGNORECASE)


def _says(text: str, value: str) -> bool:
    return _mention(text, value) is not None


_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|my|My|me|Me)\b")
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”')
_SECOND_PERSON = re.compile(r"\b(?:you|your|you're|you've|yours)\b", re.IGNORECASE)


def _gives_the_user(text: str, value: str) -> bool:
    """Whether `text` names `value` as the user's ("You work as a nurse"), not as its own ("I work as a nurse").

    The small model answered "What do I do for a living now?" so, claiming the user's life as its own.
    """
    for sentence in split_sentences(text):
        found = _mention(sentence, value)
        if found is None:
            continue
        before = _QUOTED.sub(" ", sentence[: found.start()])
        if '"' in before or "“" in before:  # inside quoted words ('Sam said: "I work as a nurse."'): theirs
            return True
        if _SECOND_PERSON.search(before) or not _FIRST_PERSON.search(before):
            return True
    return False


class PersonalizationTask(Task):
    """A user whose life changes across sessions; probes of what the character knows about them now."""

    name: ClassVar[str] = "personalization"
    Params: ClassVar[type[TaskParams]] = PersonalizationParams
    metrics: ClassVar[tuple[str, ...]] = (
        "current_fact_recall",
        "stale_fact_rate",
        "invented_fact_rate",
        "cross_user_leakage",
        "misattributed_fact_rate",
        "baseline_current_fact_recall",
    )
    scored: ClassVar[tuple[str, ...]] = metrics
    scored_data: ClassVar[tuple[str, ...]] = ("probe_scores",)
    primary: ClassVar[str | None] = "current_fact_recall"

    def plan(self, personas: Mapping[str, Persona]) -> list[Item]:
        """Items: persona × simulated user."""
        params = self.params
        assert isinstance(params, PersonalizationParams)
        return [
            Item(f"{self.name}/{pid}/{k}", self.name, pid, {"number": k})
            for pid in personas
            for k in range(params.users)
        ]

    async def run(self, item: Item, ctx: EvalContext) -> EvalSample:
        """The user's and the neighbour's sessions, a week apart, then the probes with and without memory."""
        params = self.params
        assert isinstance(params, PersonalizationParams)
        seed = item_seed(self.seed, item.id)
        user, neighbour = profiles(seed, int(item.data["number"]))
        persona = ctx.personas[item.persona]
        memory = UserMemoryStore(ctx.store)
        for who in (user, neighbour):  # a resumed item starts from nothing
            memory.forget(MemoryScope(None, who.name, persona.slug))
        sessions: list[dict[str, Any]] = []

        async def talk(who: Profile, week: int, lines: Sequence[str], with_memory: bool) -> list[str]:
            chat = ctx.chat(item, seed + week, user_name=who.name, user_memory=with_memory)
            when = START + timedelta(days=7 * week, hours=1 if who is neighbour else 0)
            chat.session.clock = lambda: when
            replies = [await chat.send(line) for line in lines]
            await chat.session.end()
            record = {"user": who.name, "week": week, "memory": with_memory, "said": list(lines), "replies": replies}
            sessions.append(record)
            return replies

        for week, (mine, theirs) in enumerate(zip(script(user), script(neighbour), strict=True)):
            await talk(user, week, mine, True)
            await talk(neighbour, week, theirs, True)
        last = len(script(user))
        questions = [q for _, q in PROBES]
        replies = await talk(user, last, questions, True)
        baseline = await talk(user, last, questions, False) if params.baseline else None
        probes = [
            {"slot": slot, "question": q, "reply": r, "baseline_reply": baseline[i] if baseline else None}
            for i, ((slot, q), r) in enumerate(zip(PROBES, replies, strict=True))
        ]
        transcript = [m for q, r in zip(questions, replies, strict=True) for m in _pair(q, r)]
        return EvalSample(
            id=item.id,
            task=self.name,
            persona=item.persona,
            status="ok",
            transcript=transcript,
            data={
                **item.data,
                "user": user._asdict(),
                "neighbour": neighbour._asdict(),
                "sessions": sessions,
                "probes": probes,
            },
        )

    def score(self, sample: EvalSample, scoring: ScoringContext) -> None:
        """Recall, stale, invented and leaked values in the probe replies (string matches on the profiles)."""
        user = Profile.from_data(sample.data["user"])
        neighbour = Profile.from_data(sample.data["neighbour"])
        persona_text = scoring.persona(sample.persona).model_dump_json()
        current = {"home": [user.homes[1]], "job": [user.jobs[1]], "pet": [user.pet[1]]}
        stale = {"home": [user.homes[0]], "job": [user.jobs[0]], "pet": []}
        said = {*user.homes, *user.jobs, user.pet[1]}
        theirs = {*neighbour.homes, *neighbour.jobs, neighbour.pet[1]} - said
        known = [*CITIES, *JOBS, *(n for _, n in PETS)]
        invented_pool = [v for v in known if v not in said and v not in theirs and not _says(persona_text, v)]
        rows: list[dict[str, Any]] = []
        for probe in sample.data["probes"]:
            reply, slot = probe["reply"], probe["slot"]
            base = probe.get("baseline_reply")
            given = [v for v in current[slot] if _gives_the_user(reply, v)]
            rows.append(
                {
                    "slot": slot,
                    "current": bool(given),
                    "misattributed": [v for v in current[slot] if _says(reply, v) and v not in given],
                    "stale": [v for v in stale[slot] if _says(reply, v)],
                    "invented": [v for v in invented_pool if _says(reply, v)],
                    "leaked": [v for v in theirs if _says(reply, v)],
                    "baseline_current": None if base is None else any(_gives_the_user(base, v) for v in current[slot]),
                }
            )
        n = len(rows)
        sample.scores.update(
            {
                "current_fact_recall": sum(r["current"] for r in rows) / n,
                "stale_fact_rate": sum(bool(r["stale"]) for r in rows) / n,
                "invented_fact_rate": sum(bool(r["invented"]) for r in rows) / n,
                "cross_user_leakage": sum(bool(r["leaked"]) for r in rows) / n,
                "misattributed_fact_rate": sum(bool(r["misattributed"]) for r in rows) / n,
            }
        )
        based = [r["baseline_current"] for r in rows if r["baseline_current"] is not None]
        if based:
            sample.scores["baseline_current_fact_recall"] = sum(based) / len(based)
        sample.data["probe_scores"] = rows

    def extra(self, samples: Sequence[EvalSample], personas: Mapping[str, Persona]) -> dict[str, Any]:
        """Current-fact recall per slot (home, job, pet), with memory and without."""
        out: dict[str, Any] = {}
        for slot, _ in PROBES:
            rows = [r for s in samples for r in s.data.get("probe_scores", []) if r["slot"] == slot]
            based = [r["baseline_current"] for r in rows if r["baseline_current"] is not None]
            out[slot] = {
                "current_fact_recall": sum(r["current"] for r in rows) / len(rows) if rows else None,
                "baseline_current_fact_recall": sum(based) / len(based) if based else None,
            }
        return {"per_slot": out}


def _pair(question: str, reply: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": reply}]
