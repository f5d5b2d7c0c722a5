"""Offline stand-ins for the agent, judges and user (`mock/evals-agent`, `mock/evals-judge`, `mock/evals-garbage`).

They answer each harness job in the right shape, deterministically, so example specs and tests run in seconds.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from personae.backends import GenerateConfig, Message
from personae.evals._prompts import BIAS_NUMBER_INSTRUCTION, job_of

_WORD = re.compile(r"[a-z]+")


def _digest(*parts: str) -> int:
    return int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:8], 16)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 3}


_OPTION = re.compile(r"^\(([abc])\) ", re.MULTILINE)


def _bias_probe_reply(system: str, question: str) -> str | None:
    """A deterministic reply to a persona-bias probe (an option, a number, or now and then a refusal)."""
    h = _digest(system, question)
    letters = _OPTION.findall(question)
    numbers = re.findall(r"\d+", question)
    if not letters and not question.rstrip().endswith(BIAS_NUMBER_INSTRUCTION):
        return None
    if system and h % 9 == 0:
        return "As someone like me, I would rather not answer questions like this."
    if letters:
        return f"I think the answer is ({letters[h % len(letters)]})."
    return f"Let me think. Answer: {numbers[-1] if numbers and h % 3 else h % 50}"


def mock_agent(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
    """Answers with the persona statement (from the system prompt) that shares most words with the question.

    Persona-bias probes (lettered options, or a maths problem) get an option or a number picked by hash instead.
    """
    system = next((m.content for m in messages if m.role == "system"), "")
    question = next((m.content for m in reversed(messages) if m.role == "user"), "")
    probe = _bias_probe_reply(system, question)
    if probe is not None:
        return probe
    facts = [line[2:].strip() for line in system.splitlines() if line.startswith("- ")]
    if not facts:
        return "I would rather not say."
    best = max(facts, key=lambda f: (len(_words(f) & _words(question)), -_digest(f, question, str(index)) % 97))
    return f"Well now. {best}"


def _field(text: str, label: str) -> str:
    match = re.search(rf"^{label}: (.*)$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""


def _judge_reply(job: str | None, user: str) -> str:
    h = _digest(user)
    if job == "question":
        return f"You are at a {_field(user, 'Setting') or 'market'}. What do you do first, and why?"
    if job == "anchors":
        return json.dumps({str(k): f"an answer at level {k}" for k in range(1, 6)})
    if job in ("rubric", "bfi", "toxicity", "regard"):
        return json.dumps({"rationale": f"mock rationale {h % 1000}", "score": 1 + h % 5})
    if job == "probe":
        fact = re.search(r"agree with it: (.*)\.$", user, re.MULTILINE)
        return f"Tell me, is it true that {fact.group(1)}" if fact else f"What do you think of the weather? ({h % 7})"
    if job == "user":
        turns = user.count("\n") + h % 3
        return f"Tell me about your family and your work, part {turns}."
    if job == "role-id":
        names = re.findall(r"^Candidate: (.*)$", user, re.MULTILINE)
        dialogue = user.split("Candidates:")[0].strip().splitlines()
        last = dialogue[-1] if dialogue else ""
        hits = [n for n in names if n.split()[0] in last]
        probs = {n: (0.8 / len(hits) if n in hits else 0.2 / max(1, len(names) - len(hits))) for n in names}
        if not hits:
            probs = {n: 1 / len(names) for n in names}
        return json.dumps({"probabilities": probs})
    return "I have nothing to say."


def mock_judge(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
    """Answers every harness job (questions, anchors, scores, probes, user turns, role-id) in the expected format."""
    system = next((m.content for m in messages if m.role == "system"), "")
    user = next((m.content for m in reversed(messages) if m.role == "user"), "")
    return _judge_reply(job_of(system), user)


def mock_garbage_judge(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
    """Like `mock_judge`, but every third scoring request (by content hash) gets unreadable text."""
    system = next((m.content for m in messages if m.role == "system"), "")
    user = next((m.content for m in reversed(messages) if m.role == "user"), "")
    job = job_of(system)
    if job in ("rubric", "bfi", "role-id", "toxicity", "regard") and _digest(user) % 3 == 0:
        return "As a language model I find this question fascinating!! ###"
    return _judge_reply(job, user)


_MOCKS = {"evals-agent": mock_agent, "evals-judge": mock_judge, "evals-garbage": mock_garbage_judge}


def mock_options(address: str) -> dict[str, Any]:
    """Provider options giving a `mock/evals-*` address its reply function; empty for any other address."""
    provider, _, model = address.partition("/")
    if provider == "mock" and model in _MOCKS:
        return {"fn": _MOCKS[model]}
    return {}
