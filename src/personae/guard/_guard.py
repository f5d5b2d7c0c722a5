"""The consistency guard: over-sample replies, score each for faithfulness, keep the best (SimOAP-style).

Scores are APC against the persona, the history check against the character's earlier replies, the
out-of-character detector and, given what the character knows about its user, the check for the user's facts claimed
as the character's own: an in-character candidate always beats an OOC one, then fewer contradictions and claimed
facts win, then the higher normalised APC. The guard can only choose among what differs, so its candidates explore a
little (`spread`) and every judgement says how alike they were (`Diversity`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeVar

from personae.backends import Backend, GenerateConfig, Message
from personae.guard._diversity import measure_diversity
from personae.guard._types import Candidate, GuardPolicy, Judgement
from personae.prompting import in_first_person
from personae.scoring import PREMISE_CONTRADICTION, APCScorer, Embedder, HistoryChecker, OOCDetector, UserClaims

T = TypeVar("T")

DEFAULT_SPREAD = 0.4
"""Temperature the last candidate of a guarded request adds to the first's (see `GenerateConfig.spread`)."""

OOC_ADVICE = {
    "ai_disclaimer": "it said you are an AI or a language model; you are not, you are the character",
    "assistant_voice": "it spoke like a helpful assistant; speak as the character would, not as a helper",
    "third_person_self": "it talked about you in the third person; say I, not your name",
    "role_confusion": "it called the user by your own name, spoke the user's part or spoke as someone you know",
    "meta_fourth_wall": "it talked about the role-play itself; stay inside the story",
    "script_leak": "it wrote a transcript with speaker labels; write only your own words",
    "era_break": "it mentioned things your time cannot know, or a knowledge cutoff",
}
"""How the corrective instruction names each out-of-character reason."""


class _Round(NamedTuple):
    """One sampling round: its scored candidates and where the time went."""

    candidates: list[Candidate]
    seconds_generating: float
    seconds_scoring: float


def corrective_instruction(candidate: Candidate, premises: Sequence[str] = ()) -> str:
    """The instruction for a regeneration: what the best draft contradicted or claimed of the user's, how it left.

    `premises` are the facts the user's message took for granted wrongly (`APCScorer.premise_conflicts`) that the
    draft did not put right.
    """
    facts = list(dict.fromkeys([*premises, *(v.statement for v in candidate.violations)]))
    earlier = [c.earlier for c in candidate.contradictions]
    reasons = candidate.ooc.reasons if candidate.ooc and candidate.ooc.ooc else []
    lines = ["Important: a draft of your next reply was not true to who you are."]
    if premises:
        lines.append("The user's message takes for granted something your facts rule out: put the user right.")
    if facts:
        lines.append("Stay consistent with these facts:")
        lines.extend(f"- {fact}" for fact in facts)
    if candidate.claimed_user_facts:
        lines.append("The user told you these facts about themselves; they are the user's, not yours:")
        lines.extend(f"- {fact}" for fact in candidate.claimed_user_facts)
    if earlier:
        lines.append("Stay consistent with what you said earlier in this conversation:")
        lines.extend(f"- {sentence}" for sentence in earlier)
    if reasons:
        lines.append("It also stepped out of character:")
        lines.extend(f"- {OOC_ADVICE.get(reason, reason)}" for reason in reasons)
    lines.append("Write a new reply, in character, that is true to all of this.")
    return "\n".join(lines)


def continued(opening: str | None, text: str) -> str:
    """A reply the backend continued from `opening` (None: no opening), as one text."""
    if not opening:
        return text.strip()
    text = text.rstrip()
    joint = "" if not text or text[0].isspace() or text[0] in ",.;:!?)'’" else " "
    return (opening + joint + text).strip()


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
        ooc: OOCDetector | None = None,
        offload: bool = True,
        spread: float = DEFAULT_SPREAD,
        embedder: Embedder | None = None,
        claims: UserClaims | None = None,
        premise_sentences: bool = True,
    ) -> None:
        if policy != "off" and scorer is None:
            raise ValueError(f"guard policy {policy!r} needs a scorer")
        if n < 1:
            raise ValueError("n must be at least 1")
        if not 0.0 <= spread <= 1.0:
            raise ValueError(f"spread must be between 0 and 1, not {spread}")
        self.policy = policy
        self.n = 1 if policy == "off" else n
        self.scorer = scorer
        self.history = history
        self.ooc = ooc
        self.offload = offload
        """Score in a worker thread (models whose native code releases the GIL run beside the event loop);
        False for light, pure-Python models, which a thread would only slow down with GIL hand-offs."""
        self.spread = spread
        """How much hotter later candidates sample than the first, so they differ; the first keeps the settings."""
        self.embedder = embedder
        """Sentence embeddings for the diversity figure; without one it counts repeated candidates only."""
        self.claims = claims
        """The check for the user's facts claimed as the character's own; None: not checked (no user memory)."""
        self.premise_sentences = premise_sentences
        """Whether the premise check also reads the message's sentences whole (`APCScorer.premise_conflicts`); False
        where the message's "you" may be someone else (a scene's line that does not name this character alone)."""

    async def score(
        self, query: str, texts: Sequence[str], earlier_replies: Sequence[str], user_facts: Sequence[str] = ()
    ) -> list[Candidate]:
        """Score replies to `query` (APC, history, OOC, `user_facts` claimed); in a worker thread if `offload`."""
        scorer, history, detector, claims = self.scorer, self.history, self.ooc, self.claims

        def work() -> list[Candidate]:
            results = scorer.score_batch([(query, t) for t in texts]) if scorer else [None] * len(texts)
            verdicts = detector.detect_batch([(query, t) for t in texts]) if detector else [None] * len(texts)
            found = history.check_batch(earlier_replies, texts) if history and earlier_replies else [[] for _ in texts]
            claimed = claims.claimed(query, user_facts, texts) if claims and user_facts else [[] for _ in texts]
            return [
                Candidate(
                    index=i, text=text, result=result, contradictions=contradictions, ooc=verdict, claimed_user_facts=c
                )
                for i, (text, result, verdict, contradictions, c) in enumerate(
                    zip(texts, results, verdicts, found, claimed, strict=True)
                )
            ]

        return await self._run_models(work)

    def unanswered_premises(self, query: str, best: Candidate) -> list[str]:
        """The facts `query` wrongly takes for granted, when the `threshold` policy's best draft supports none of them.

        A small model goes along with a false premise ("How is your husband keeping?" to a widow: "He's doing well!")
        in ways the scorer can miss, and then every candidate does; a draft that states one of the facts has put the
        user right. Empty under other policies, without a scorer, or when the message takes nothing false for granted.
        """
        if self.policy != "threshold" or self.scorer is None:
            return []
        premises = self.scorer.premise_conflicts(query, sentences=self.premise_sentences)
        statements = best.result.statements if best.result else []
        # a support the NLI model also reads as a contradiction ("Yes, I always beat Wren at chess": 0.96 and 0.91
        # against "usually loses") is no correction
        righted = {s.statement for s in statements if s.supported and s.contradiction < PREMISE_CONTRADICTION}
        return [] if righted.intersection(premises) else premises

    def opening(self, premises: Sequence[str]) -> str | None:
        """How a corrective reply begins: the first wrongly assumed fact as the character says it, or None.

        "I am a widow; my husband Callum died in 2015."; None without a premise, or for a fact not about the
        character by name. Told the fact, the embedded model still answered "He's doing well" to the widow; set down
        as the reply's first sentence, it continues from the truth.
        """
        if not premises or self.scorer is None or not self.scorer.names:
            return None
        return in_first_person(premises[0], self.scorer.names[0])

    async def _run_models(self, work: Callable[[], T]) -> T:
        """Run model work in a worker thread, or here when `offload` is off."""
        return await asyncio.to_thread(work) if self.offload else work()

    async def _round(
        self,
        backend: Backend,
        messages: Sequence[Message],
        config: GenerateConfig,
        query: str,
        earlier_replies: Sequence[str],
        round_no: int,
        first_index: int,
        user_facts: Sequence[str],
    ) -> _Round:
        started = time.perf_counter()
        output = await backend.generate(list(messages), config.model_copy(update={"n": self.n, "spread": self.spread}))
        generated = time.perf_counter()
        texts = [continued(config.prefix, c.text) for c in output.choices]
        scored = await self.score(query, texts, earlier_replies, user_facts)
        candidates = [
            c.model_copy(update={"index": first_index + i, "round": round_no, "finish_reason": choice.finish_reason})
            for i, (c, choice) in enumerate(zip(scored, output.choices, strict=True))
        ]
        return _Round(candidates, generated - started, time.perf_counter() - generated)

    async def run(
        self,
        backend: Backend,
        messages: Sequence[Message],
        config: GenerateConfig,
        query: str,
        earlier_replies: Sequence[str] = (),
        round_no: int = 0,
        first_index: int = 0,
        user_facts: Sequence[str] = (),
    ) -> Judgement:
        """Generate under the policy and return every candidate with the chosen one.

        `user_facts` are what the character knows about its user ("Sam works as a nurse."): a candidate claiming one
        as the character's own counts it as a problem (with `claims`).
        """
        rounds = [
            await self._round(backend, messages, config, query, earlier_replies, round_no, first_index, user_facts)
        ]
        best = min(rounds[0].candidates, key=Candidate.rank_key)
        instruction = opening = None
        started = time.perf_counter()
        threshold = self.policy == "threshold"
        premises = await self._run_models(lambda: self.unanswered_premises(query, best)) if threshold else []
        measuring = time.perf_counter() - started
        if threshold and (best.problems or best.out_of_character or premises):
            instruction = corrective_instruction(best, premises)
            corrective = _with_instruction(messages, instruction)
            opening = self.opening(premises) if backend.supports_prefix else None
            first = first_index + len(rounds[0].candidates)
            again = await self._round(
                backend,
                corrective,
                config if opening is None else config.model_copy(update={"prefix": opening}),
                query,
                earlier_replies,
                round_no + 1,
                first,
                user_facts,
            )
            rounds.append(again)
        candidates = [c for r in rounds for c in r.candidates]
        started = time.perf_counter()
        diversity = await self._run_models(lambda: measure_diversity([c.text for c in candidates], self.embedder))
        measuring += time.perf_counter() - started
        return Judgement(
            policy=self.policy,
            candidates=candidates,
            chosen=min(range(len(candidates)), key=lambda i: candidates[i].rank_key()),
            corrective_instruction=instruction,
            corrective_opening=opening,
            seconds_generating=sum(r.seconds_generating for r in rounds),
            seconds_scoring=sum(r.seconds_scoring for r in rounds) + measuring,
            diversity=diversity,
        )
