"""The consistency guard: over-sample replies, score each for faithfulness, keep the best (SimOAP-style).

Scores are APC against the persona plus the history check against the character's earlier replies; a candidate
with fewer contradictions always wins, then the one with the higher normalised APC.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from personae.backends import Backend, GenerateConfig, Message
from personae.guard._types import Candidate, GuardPolicy, Judgement
from personae.scoring import APCScorer, HistoryChecker


def corrective_instruction(candidate: Candidate) -> str:
    """The instruction for a regeneration: name the statements the best draft contradicted and ask to honour them."""
    facts = [v.statement for v in candidate.violations]
    earlier = [c.earlier for c in candidate.contradictions]
    lines = ["Important: a draft of your next reply contradicted who you are. Stay consistent with these facts:"]
    lines.extend(f"- {fact}" for fact in facts)
    if earlier:
        lines.append("and with what you said earlier in this conversation:")
        lines.extend(f"- {sentence}" for sentence in earlier)
    lines.append("Write a new reply that is true to all of them.")
    return "\n".join(lines)


def _with_instruction(messages: Sequence[Message], instruction: str) -> list[Message]:
    """Append `instruction` to the system prompt (works with chat templates that allow one system message)."""
    msgs = list(messages)
    if msgs and msgs[0].role == "system":
        msgs[0] = Message(role="system", content=f"{msgs[0].content}\n\n{instruction}")
    else:
        msgs.insert(0, Message(role="system", content=instruction))
    return msgs


class Guard:
    """Generates and picks replies under a policy.

    Example:
        guard = Guard("best-of-n", n=4, scorer=APCScorer(persona), history=HistoryChecker())
        judgement = await guard.run(backend, messages, config, query="Do you eat meat?", earlier_replies=[])
        judgement.best.text, judgement.best.violations
    """

    def __init__(
        self,
        policy: GuardPolicy = "best-of-n",
        n: int = 4,
        scorer: APCScorer | None = None,
        history: HistoryChecker | None = None,
    ) -> None:
        if policy != "off" and scorer is None:
            raise ValueError(f"guard policy {policy!r} needs a scorer")
        if n < 1:
            raise ValueError("n must be at least 1")
        self.policy = policy
        self.n = 1 if policy == "off" else n
        self.scorer = scorer
        self.history = history

    async def score(self, query: str, texts: Sequence[str], earlier_replies: Sequence[str]) -> list[Candidate]:
        """Score replies to `query` (APC and history); runs the models in a worker thread."""
        scorer, history = self.scorer, self.history

        def work() -> list[Candidate]:
            results = scorer.score_batch([(query, t) for t in texts]) if scorer else [None] * len(texts)
            out = []
            for i, (text, result) in enumerate(zip(texts, results, strict=True)):
                contradictions = history.check(earlier_replies, text) if history and earlier_replies else []
                out.append(Candidate(index=i, text=text, result=result, contradictions=contradictions))
            return out

        return await asyncio.to_thread(work)

    async def _round(
        self,
        backend: Backend,
        messages: Sequence[Message],
        config: GenerateConfig,
        query: str,
        earlier_replies: Sequence[str],
        round_no: int,
        first_index: int,
        timing: list[float],
    ) -> list[Candidate]:
        started = time.perf_counter()
        output = await backend.generate(list(messages), config.model_copy(update={"n": self.n}))
        timing[0] += time.perf_counter() - started
        texts = [c.text.strip() for c in output.choices]
        started = time.perf_counter()
        scored = await self.score(query, texts, earlier_replies)
        timing[1] += time.perf_counter() - started
        return [
            c.model_copy(update={"index": first_index + i, "round": round_no, "finish_reason": choice.finish_reason})
            for i, (c, choice) in enumerate(zip(scored, output.choices, strict=True))
        ]

    async def run(
        self,
        backend: Backend,
        messages: Sequence[Message],
        config: GenerateConfig,
        query: str,
        earlier_replies: Sequence[str] = (),
        round_no: int = 0,
        first_index: int = 0,
    ) -> Judgement:
        """Generate under the policy and return every candidate with the chosen one."""
        timing = [0.0, 0.0]
        candidates = await self._round(backend, messages, config, query, earlier_replies, round_no, first_index, timing)
        best = min(candidates, key=Candidate.rank_key)
        instruction = None
        if self.policy == "threshold" and best.problems:
            instruction = corrective_instruction(best)
            candidates += await self._round(
                backend,
                _with_instruction(messages, instruction),
                config,
                query,
                earlier_replies,
                round_no + 1,
                first_index + len(candidates),
                timing,
            )
        chosen = min(range(len(candidates)), key=lambda i: candidates[i].rank_key())
        return Judgement(
            policy=self.policy,
            candidates=candidates,
            chosen=chosen,
            corrective_instruction=instruction,
            seconds_generating=timing[0],
            seconds_scoring=timing[1],
        )
