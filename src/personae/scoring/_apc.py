"""The APC faithfulness score (Active-Passive Constraint), batched and explained per statement.

apc(s) = P_rel(s, q) · P_entail(s ⇒ r) + (1 − P_rel(s, q)) · (1 − P_contra(s, r)), summed over statements:
relevant statements must be supported by the reply, irrelevant ones merely not contradicted. A reply is
judged sentence by sentence: entailment and contradiction of a statement are maxima over its sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from personae.persona import Persona
from personae.scoring._answers import (
    ReplySentences,
    answerer_sentences,
    asserted_claim,
    premise_claim,
    question_claim,
    reply_sentences,
)
from personae.scoring._negation import read_denials
from personae.scoring._nli import NLIModel, OnnxNLI, get_nli
from personae.scoring._numbers import age_then_not_now
from personae.scoring._onnx import FloatArray
from personae.scoring._relevance import RelevanceModel, mask_names
from personae.scoring._specifics import uncovered
from personae.scoring._subject import (
    concerns_others,
    is_person_word,
    names_subject,
    other_subject,
    subjects_in,
    without_others,
)
from personae.scoring._types import CON, ENT, NEU, APCResult, StatementScore

CLAIM_TOP_K = 3
"""How many of its nearest statements a claim the reply makes without saying it always reaches (`Calibration`)."""
PREMISE_CONTRADICTION = 0.75
"""P(contradiction) of a message's premise claim from which a statement rules it out (`premise_conflicts`). Over the
120 premise probes (bench/data/premise_probes*.jsonl, all five files, so no held-out figure remains for this bar)
every claim at 0.75–0.85 is a real conflict ("I have a husband." against the widow 0.79, "I do manage in the
scriptorium without knowing any Latin." 0.82, "Callum must be proud of my fiddle playing." 0.76) and the highest
claim no statement rules out reads 0.57 ("I drive the car round the island."); until 2026-12-04 the bar was 0.85,
from probes 1–4 alone."""
PREMISE_SENTENCE = 0.9
"""P(contradiction) from which a statement rules out what one of the message's own sentences takes for granted, read
whole (`answerer_sentences`): higher than `PREMISE_CONTRADICTION`, as a whole question is not a plain claim. Chosen
on the premise and guard probes (tuning data) and the calibration set's user messages: at 0.9 the check fires on 127
of 213 false-premise probes instead of 107, on none of 12 controls, and on 9 of 581 calibration messages more (3 of
them offers a reminder suits, 6 innocent questions such as "Where were you born?"). No bar separates the innocent
fires (0.91–0.98) from the real ones (0.90–0.98); the fact they name answers an innocent question well."""
PREMISE_SENTENCE_TOP_K = 3
"""Each such sentence is read against its this many nearest statements only (a 100-statement persona stays cheap)."""
PREMISE_STATEMENTS = 2
"""Statements a premise conflict names at most, the most contradicted first."""
PREMISE_MEMO = 8
"""Messages whose premise conflicts a scorer remembers (the prompt and the guard check the same message)."""


class Calibration(NamedTuple):
    """Decision thresholds of a scorer, fitted on the calibration set (data/calibration/), never on a measuring set."""

    violation: float = 0.5
    """P(contradiction) above which a statement counts as violated."""
    support: float = 0.5
    """P(entailment) above which a statement counts as supported."""
    topic_gate: float | None = None
    """Topic score of (name-masked) statement and reply sentence below which the pair is neutral without the NLI
    model, on the relevance model's topic scale (`RelevanceModel.topic_model`); None: every pair goes to the NLI
    model."""
    support_gate: float | None = None
    """The topic score the entailing sentence must reach for the statement to count as supported (a stricter topic test:
    an entailment read into a sentence about something else is the most visible false claim); None: no test."""
    query_gate: float | None = None
    """Cosine of (name-masked) statement and user message at or above which every sentence of the reply passes the
    topic gate for that statement: an answer to a question about a topic speaks of it even in other words (a toast
    answering "Do you drink?"); None: the gate looks at the sentences only."""

    gate_top_k: int = 0
    """Each sentence also reaches the NLI model with its k most similar statements, however low their cosines: a
    contradiction through behaviour shares few words with the fact it breaks (a toast against "never drinks"), but the
    fact is still the nearest of the persona's statements to it."""
    claim_top_k: int = CLAIM_TOP_K
    """A claim the reply makes without saying it (the statement a bare "yes" agrees to, a question's premise it
    accepts) reaches the NLI model with its k most similar statements, whatever the gate says: it is one short
    sentence about the character, made because the user asked about that topic ("I was sailing to the Holy Land."
    against "has never travelled beyond East Anglia" is the claim's third-nearest statement)."""
    claim_violation: float | None = PREMISE_CONTRADICTION
    """P(contradiction) from which that claim alone violates a statement (and at least the reply's entailment of it),
    beside `violation` for the reply's own sentences. The claim is one plain first-person sentence ("I have a
    husband." taken up by "He's doing well, he's retired now." against the widow, 0.95), read as the premise check
    reads the same claim in the user's message, so at its bar (`PREMISE_CONTRADICTION`, chosen on the premise probes).
    The calibration set has no reply whose claim falls between the two bars; on the 684 real replies read by hand
    (bench/data/readings/) it adds violations to read contradictions only. None: the claim meets `violation` too."""
    contradiction_wins: bool = False
    """A sentence that contradicts a statement violates it even when another sentence of the reply entails it ("I do
    take milk and sugar. My coffee is always black."): a reader flags a reply that says both. False: the stronger
    evidence decides."""
    consistent: float | None = None
    """P(entailment) from which a sentence that one statement entails contradicts none of the others: the persona is
    taken as consistent, so such a contradiction is the NLI model's misreading ("I never go outside the boundaries of
    East Anglia, as I have always been a Benedictine monk." against "lives at the abbey of Bury St Edmunds": the
    model does not know where Bury is). None: no such rule (`settle`)."""
    topic_decides: float | None = None
    """P(entailment) from which, when one sentence entails a statement and another contradicts it over
    `topic_decides` too, the sentence nearer the statement's topic decides and the other's reading is set aside
    (`side_with_topic`). A reply rarely says a thing and its opposite, so one of the two readings is the NLI model's
    mistake, and the reading of a sentence about something else is the likelier one ("Zero! I never drink coffee, it
    makes my heart dance. I make it all day and drink chamomile like a grandmother." against "never drinks coffee":
    0.98 both ways). None: the stronger evidence decides."""
    particulars: bool = False
    """A statement counts as supported only by a reply that mentions each of its particulars, its names and numbers
    (`personae.scoring._specifics`): "I am a ferry captain." agrees with "captained the ferry between Uig and Tarbert
    for forty years" but does not establish it. False: the NLI model's entailment alone decides."""

    def for_support(self) -> Calibration:
        """These thresholds for a scorer whose callers read supports only (whose facts a text states).

        A pair under the support gate can support nothing, so it need not reach the NLI model: the topic gate rises to
        the support gate and the gates that open pairs beneath it (top-k, claims, the query gate) close. Violations
        read under it would miss contradictions only sentences off the topic make; such callers never read them. A
        text that states part of a fact states it, so the particulars rule is off.
        """
        whole = self._replace(particulars=False)  # a claim of part of someone's fact is a claim of it
        if self.support_gate is None:
            return whole
        gate = self.support_gate if self.topic_gate is None else max(self.topic_gate, self.support_gate)
        return whole._replace(topic_gate=gate, gate_top_k=0, claim_top_k=0, query_gate=None)

    def open_pairs(
        self, topic: FloatArray, query_topic: FloatArray | None, claim: bool = False
    ) -> npt.NDArray[np.bool_]:
        """The statement–sentence pairs, shape (n_statements, n_sentences), that the topic gate lets through.

        `claim`: the last sentence is the claim the reply's opening makes (`ReplySentences.judged`).
        """
        if self.topic_gate is None:
            return np.ones(topic.shape, dtype=bool)
        open_: npt.NDArray[np.bool_] = topic >= self.topic_gate
        k = min(self.gate_top_k, topic.shape[0])
        if k > 0 and topic.shape[1]:
            nearest = np.argpartition(-topic, k - 1, axis=0)[:k]
            np.put_along_axis(open_, nearest, True, axis=0)
        k = min(self.claim_top_k, topic.shape[0])
        if claim and k > 0 and topic.shape[1]:
            open_[np.argpartition(-topic[:, -1], k - 1)[:k], -1] = True
        if self.query_gate is not None and query_topic is not None:
            open_ = open_ | (query_topic >= self.query_gate)[:, None]
        return open_

    def verdict(
        self,
        entailment: float,
        neutral: float,
        contradiction: float,
        entail_topic: float | None,
        partial: bool = False,
        claim: float = 0.0,
    ) -> str | None:
        """`violated`, `supported` or None for one statement's maxima: the one rule the scorer and its calibration use.

        A statement is never both: a contradiction over the threshold wins when `contradiction_wins`, else the
        stronger evidence does; `entail_topic` is the entailing sentence's topic score; `partial`: the reply leaves
        some of the statement's particulars unmentioned (read only with `particulars`); `claim`: the contradiction of
        the claim the reply's opening makes (`claim_violation`).
        """
        if contradiction > self.violation and (self.contradiction_wins or contradiction >= entailment):
            return "violated"
        if self.claim_violation is not None and claim >= self.claim_violation and claim >= entailment:
            return "violated"
        on_topic = self.support_gate is None or entail_topic is None or entail_topic >= self.support_gate
        whole = not (self.particulars and partial)
        if on_topic and whole and entailment > self.support and entailment > max(neutral, contradiction):
            return "supported"
        return None


def default_calibration(nli: NLIModel, topic_scale: str) -> Calibration:
    """The thresholds shipped with `nli` (its config's `calibration`).

    The gates apply only on the topic scale they were fitted on (`TopicModel.name`): another embedder's cosines, or
    another trained gate's probabilities, live on another scale.
    """
    table = getattr(nli, "calibration", None) or {}
    same = table.get("topic_scale", table.get("embedder")) == topic_scale
    gate = table.get("topic_gate") if same else None
    support_gate = table.get("support_gate") if same else None
    query_gate = table.get("query_gate") if same else None
    top_k = table.get("gate_top_k", 0) if same else 0
    claim_top_k = table.get("claim_top_k", CLAIM_TOP_K)  # a rank: the same on any scale
    claim_violation = table.get("claim_violation", PREMISE_CONTRADICTION)  # a probability: the same on any scale
    return Calibration(
        violation=float(table.get("violation_threshold", 0.5)),
        support=float(table.get("support_threshold", 0.5)),
        topic_gate=None if gate is None else float(gate),
        support_gate=None if support_gate is None else float(support_gate),
        query_gate=None if query_gate is None else float(query_gate),
        gate_top_k=int(top_k),
        claim_top_k=int(claim_top_k),
        claim_violation=None if claim_violation is None else float(claim_violation),
        contradiction_wins=bool(table.get("contradiction_wins", False)),
        consistent=None if table.get("consistent") is None else float(table["consistent"]),
        particulars=bool(table.get("particulars", False)),
        topic_decides=None if table.get("topic_decides") is None else float(table["topic_decides"]),
    )


class _Reduced(NamedTuple):
    """Per-statement maxima over a reply's sentences."""

    entailment: FloatArray
    neutral: FloatArray
    contradiction: FloatArray
    topic: FloatArray | None
    entail_topic: FloatArray | None
    gated: list[int]
    evidence: list[tuple[str, str] | None]
    """Per statement, the most entailing (of entailments alike, the nearest the topic) and the most contradicting
    sentence (None: every pair was gated)."""
    claim: FloatArray | None = None
    """Per statement, the contradiction of the claim the reply's opening makes, where it outweighs the claim's
    entailment (None: the reply makes no claim)."""


def settle(grid: FloatArray, consistent: float | None, whole: npt.NDArray[np.bool_] | None = None) -> FloatArray:
    """`grid` with the contradictions of sentences that another statement entails at `consistent` or more set aside.

    A persona does not contradict itself: a sentence one of its statements entails cannot break another, so the
    NLI model's contradiction there is a misreading and counts as neutral. Gated pairs are neutral already, so only
    an entailment the topic gate let through anchors a sentence. `whole`, shape (n_statements, n_sentences), says
    where the sentence names all of the statement's particulars (`Calibration.particulars`): only such an entailment
    anchors, since a partial one vouches for part of the sentence only ("I was born on Earth, in the city of Tharsis
    Landing." is entailed by "born on Mars in the city of Tharsis Landing" at 0.99 and still breaks it).
    """
    if consistent is None or grid.shape[0] < 2 or not grid.shape[1]:
        return grid
    anchors = grid[:, :, ENT] >= consistent
    if whole is not None:
        anchors &= whole
    # pair (i, j): a statement other than i entails sentence j
    elsewhere = anchors.sum(axis=0)[None, :] - anchors.astype(np.int64) > 0
    if not elsewhere.any():
        return grid
    settled = grid.copy()
    # the contradiction's mass goes to neutral; written as 1 - entailment so float rounding cannot pass 1
    settled[elsewhere, NEU] = 1.0 - settled[elsewhere, ENT]
    settled[elsewhere, CON] = 0.0
    return settled


def side_with_topic(grid: FloatArray, topic: FloatArray, level: float, claim: bool = False) -> FloatArray:
    """`grid` with the reading of a statement by the sentence further off its topic set aside where two conflict.

    A statement that one sentence entails and another contradicts, both at `level` or more, is read from the sentence
    whose topic score for it is higher (`Calibration.topic_decides`); the other sentence's reading becomes neutral.
    `claim`: the last sentence is the claim the reply's opening makes, judged by its own rules, so never set aside
    nor used to set another aside.
    """
    n_sentences = grid.shape[1] - int(claim)
    if n_sentences < 2:
        return grid
    ent = grid[:, :n_sentences, ENT].argmax(axis=1)
    con = grid[:, :n_sentences, CON].argmax(axis=1)
    rows = np.arange(grid.shape[0])
    conflict = (ent != con) & (grid[rows, ent, ENT] >= level) & (grid[rows, con, CON] >= level)
    if not conflict.any():
        return grid
    out = grid.copy()
    for i in np.flatnonzero(conflict):
        a, b = int(ent[i]), int(con[i])
        if topic[i, a] > topic[i, b]:  # the entailing sentence is the nearer: its contradiction reading goes
            out[i, b, NEU] = 1.0 - out[i, b, ENT]
            out[i, b, CON] = 0.0
        elif topic[i, b] > topic[i, a]:
            out[i, a, NEU] = 1.0 - out[i, a, CON]
            out[i, a, ENT] = 0.0
    return out


EVIDENCE_TIE = 0.02
"""Entailments this close are alike: the sentence nearer the statement's topic is shown as the evidence (make demo
listed "I am well-known for my work on the abbot's psalter and for my commitment to the spiritual life." (0.981) for
"is a Benedictine monk" over "I am Brother Anselm, a Benedictine monk who ..." (0.980))."""


def _reduce(
    grid: FloatArray,
    sentences: Sequence[str],
    topic: FloatArray | None,
    open_: npt.NDArray[np.bool_],
    consistent: float | None,
    whole: npt.NDArray[np.bool_] | None,
    claim: bool = False,
    topic_decides: float | None = None,
) -> _Reduced:
    """Reduce `grid`, shape (n_statements, n_sentences, 3), to one entailment and one contradiction per statement.

    `open_` marks the pairs the topic gate let through; a statement whose pairs were all gated has no evidence;
    `consistent` and `whole` are `settle`'s (the calibration's anchor, and where a sentence names a statement's
    particulars; None: everywhere); `claim`: the last sentence is the claim the reply's opening makes;
    `topic_decides`: `side_with_topic`'s level (None, or no topic scores: not applied).
    """
    grid = settle(grid, consistent, whole)
    if topic_decides is not None and topic is not None:
        grid = side_with_topic(grid, topic, topic_decides, claim)
    claimed = None
    if claim and grid.shape[1]:
        last = grid[:, -1]
        claimed = np.where(last[:, CON] > last[:, ENT], last[:, CON], 0.0).astype(np.float32)
    n_statements = grid.shape[0]
    ent_idx = grid[:, :, ENT].argmax(axis=1)
    con_idx = grid[:, :, CON].argmax(axis=1)
    rows = np.arange(n_statements)
    entail = grid[rows, ent_idx, ENT]
    contra = grid[rows, con_idx, CON]
    neutral = grid[rows, ent_idx, NEU]
    shown = ent_idx
    if topic is not None and grid.shape[1]:  # of entailments alike, the sentence nearest the topic is the evidence
        alike = grid[:, :, ENT] >= entail[:, None] - EVIDENCE_TIE
        shown = np.where(alike, topic, -np.inf).argmax(axis=1)
    evidence: list[tuple[str, str] | None] = [
        (sentences[int(shown[i])], sentences[int(con_idx[i])]) if open_[i].any() else None for i in range(n_statements)
    ]
    gated = [int((~open_[i]).sum()) for i in range(n_statements)]
    if topic is None:
        return _Reduced(entail, neutral, contra, None, None, gated, evidence, claimed)
    return _Reduced(entail, neutral, contra, topic.max(axis=1), topic[rows, shown], gated, evidence, claimed)


def named_whole(statements: Sequence[str], sentences: Sequence[str], names: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Where each sentence names all of each statement's particulars, shape (n_statements, n_sentences)."""
    return np.asarray(
        [[not uncovered(statement, sentence, names) for sentence in sentences] for statement in statements],
        dtype=bool,
    ).reshape(len(statements), len(sentences))


def _persona_names(persona: Persona | Sequence[str]) -> tuple[str, ...]:
    return (persona.name,) if isinstance(persona, Persona) else ()


class APCScorer:
    """Scores replies against one persona's statements.

    Each statement is compared with each sentence of the reply. A topic gate first drops the pairs whose
    sentence does not speak of the statement's topic (a self-introduction says nothing about the character's
    dog); the NLI model judges the rest; calibrated thresholds turn the maxima into at most one verdict per
    statement (supported or violated, the stronger evidence wins).

    Example:
        scorer = APCScorer(persona)
        result = scorer.score("What do you eat?", "I had a lovely steak.")
        [v.statement for v in result.violations]
    """

    def __init__(
        self,
        persona: Persona | Sequence[str],
        nli: NLIModel | str | None = None,
        relevance: RelevanceModel | None = None,
        threshold: float | None = None,
        names: Sequence[str] | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.statements: list[str] = list(persona.statements if isinstance(persona, Persona) else persona)
        self.names: tuple[str, ...] = tuple(names if names is not None else _persona_names(persona))
        """The character's names, masked out of statements, queries and reply sentences for relevance."""
        if not self.statements:
            raise ValueError("APC needs at least one persona statement")
        self.nli: NLIModel = get_nli(nli) if isinstance(nli, str) else (nli or get_nli())
        self.relevance = relevance or RelevanceModel()
        calibration = calibration or default_calibration(self.nli, self.relevance.topic_model.name)
        if threshold is not None:
            calibration = calibration._replace(violation=threshold)
        self.calibration = calibration
        self._premises: dict[tuple[str, bool], list[str]] = {}
        """The last few `premise_conflicts` answers, by message: the prompt's premise cue and the guard ask alike."""

    def whole(self, sentences: Sequence[str]) -> npt.NDArray[np.bool_] | None:
        """Where each sentence names all of each statement's particulars, shape (n_statements, n_sentences).

        None when the calibration does not read particulars (then every entailment may anchor `settle`).
        """
        return named_whole(self.statements, sentences, self.names) if self.calibration.particulars else None

    @property
    def threshold(self) -> float:
        """P(contradiction) above which a statement is violated."""
        return self.calibration.violation

    def _result(
        self, query: str, response: str, relevance: FloatArray, reduced: _Reduced | None, said: Sequence[str] = ()
    ) -> APCResult:
        """The result of one reply from its reduced grid.

        `said` is what the reply says as the scorer read it (its judged sentences, quoted as shown): a statement's
        particulars must appear there for it to be supported.
        """
        n = len(self.statements)
        if reduced is None:  # an empty reply supports nothing and contradicts nothing
            zeros = np.zeros(n, np.float32)
            reduced = _Reduced(zeros, np.ones(n, np.float32), zeros, None, None, [0] * n, [None] * n)
        cal = self.calibration
        reply = " ".join(said)
        scores = []
        for i, statement in enumerate(self.statements):
            rel = float(relevance[i])
            ent, neu, con = float(reduced.entailment[i]), float(reduced.neutral[i]), float(reduced.contradiction[i])
            apc = rel * ent + (1.0 - rel) * (1.0 - con)
            ent_topic = None if reduced.entail_topic is None else float(reduced.entail_topic[i])
            partial = cal.particulars and ent > cal.support and bool(uncovered(statement, reply, self.names))
            claim = 0.0 if reduced.claim is None else float(reduced.claim[i])
            verdict = cal.verdict(ent, neu, con, ent_topic, partial, claim)
            # the sentence that decided: the contradicting one for a violation, else the stronger evidence
            contradicting = verdict == "violated" or (verdict is None and con > ent)
            both = reduced.evidence[i]
            evidence = None if both is None else both[1] if contradicting else both[0]
            scores.append(
                StatementScore(
                    statement=statement,
                    relevance=rel,
                    entailment=ent,
                    neutral=neu,
                    contradiction=con,
                    apc=min(1.0, max(0.0, apc)),
                    violation=verdict == "violated",
                    supported=verdict == "supported",
                    topic=None if reduced.topic is None else float(reduced.topic[i]),
                    gated=reduced.gated[i],
                    evidence=evidence,
                )
            )
        total = float(sum(s.apc for s in scores))
        return APCResult(
            query=query, response=response, apc=total, apc_normalized=min(1.0, total / n), statements=scores
        )

    def score(self, query: str, response: str) -> APCResult:
        """Score one reply to one query."""
        return self.score_batch([(query, response)])[0]

    def premise_conflicts(self, query: str, sentences: bool = True) -> list[str]:
        """The statements that what a user's message takes for granted, or asks agreement to, contradicts.

        "Do you take milk and sugar in your coffee?" asks agreement to "I take milk and sugar in my coffee", which
        "drinks her coffee black" contradicts; "What do you feed your cat?" takes "I have a cat" for granted. The
        claims (`question_claim`, else `premise_claim`; and `asserted_claim`, a statement about the answerer set beside
        the question; none for messages the rules cannot read) are each scored as a reply of its own: one plain
        first-person sentence, the kind the NLI model reads best. Beside them, the message's own wh-questions and
        statements to the character are read whole (`_sentence_premises`, a stricter bar; `sentences=False` leaves them
        out, for text whose "you" may be someone else, as a scene's lines). The claims' bar is
        `PREMISE_CONTRADICTION`, not the calibrated violation threshold: what the cue does with a statement is remind
        the character of a true fact, which costs little when the claim did not need it.
        """
        key = (query, sentences)
        if key not in self._premises:
            claims = [question_claim(query) or premise_claim(query), asserted_claim(query)]
            said = list(dict.fromkeys(c for c in claims if c))
            scores = [s for claim in said for s in self.score(query, claim).statements]
            ruled_out = [
                (s.contradiction, s.statement)
                for s in scores
                if s.contradiction >= PREMISE_CONTRADICTION and s.contradiction > s.entailment
            ]
            if sentences:
                ruled_out.extend(self._sentence_premises(query))
            ruled_out.sort(key=lambda s: -s[0])
            statements = list(dict.fromkeys(s for _, s in ruled_out))  # each once, the most contradicted first
            if len(self._premises) >= PREMISE_MEMO:
                del self._premises[next(iter(self._premises))]
            self._premises[key] = statements[:PREMISE_STATEMENTS]
        return list(self._premises[key])

    def _sentence_premises(self, query: str) -> list[tuple[float, str]]:
        """(P(contradiction), statement) for each statement ruling out what a sentence of `query` takes for granted.

        Each wh-question or statement to the character (`answerer_sentences`, in its first person) is read whole
        against its `PREMISE_SENTENCE_TOP_K` nearest statements. This reads what the claim rules cannot: "I hear
        I've got a new iPhone." against "distrusts smartphones" (0.98), "What did I think of the view from the top of
        the Eiffel Tower?" against "is afraid of heights".
        """
        sentences = answerer_sentences(query)
        if not sentences or not self.statements:
            return []
        near = np.argsort(-self.relevance.similarity(self.statements, sentences, self.names), axis=1, kind="stable")
        pairs = [
            (self.statements[int(j)], sentence)
            for sentence, order in zip(sentences, near, strict=True)
            for j in order[:PREMISE_SENTENCE_TOP_K]
        ]
        probs = self.read_pairs(pairs, self.nli.predict)
        return [
            (float(p[CON]), statement)
            for (statement, _), p in zip(pairs, probs, strict=True)
            if p[CON] >= PREMISE_SENTENCE and p[CON] > p[ENT]
        ]

    def read_pairs(
        self,
        pairs: Sequence[tuple[str, str]],
        predict: Callable[[Sequence[tuple[str, str]]], FloatArray],
        subjects: Mapping[str, str | None] | None = None,
    ) -> FloatArray:
        """NLI probabilities of (statement, sentence) pairs as the scorer reads them, with `predict` as the model.

        A denial is re-read against its positive (`read_denials`); a sentence about another person the statement
        does not name ("My sister is a scribe.") entails nothing about the character (its entailment counts as
        neutral); an age at a past moment ("I was sixteen when I took my vows.") says nothing of a present age
        (`age_then_not_now`: neutral); a sentence with a relative clause about another person ("…, my
        brother-in-law, who is a monk") is read again without it (`personae.scoring._subject`). A sentence about
        another person or animal ("She phones every Sunday on the landline.", after "My daughter …") rules out only
        statements that concern others (`concerns_others`). `subjects` gives whom each sentence is about when its
        reply is known (`subjects_in`); otherwise each sentence is read alone.
        """
        if not pairs:
            return np.zeros((0, 3), dtype=np.float32)
        probs = read_denials(pairs, predict(pairs), predict)
        subjects = dict(subjects or {})
        for sentence in dict.fromkeys(s for _, s in pairs):
            if sentence not in subjects:
                subjects[sentence] = other_subject(sentence, self.names)
        elsewhere = [
            subjects[sentence] is not None and not names_subject(statement, subjects[sentence] or "", self.names)
            for statement, sentence in pairs
        ]
        if any(elsewhere):  # what is said of another person establishes nothing about the character
            mask = np.asarray(elsewhere)
            probs[mask, NEU] += probs[mask, ENT]
            probs[mask, ENT] = 0.0
            # and rules out only what concerns others ("She phones on the landline." vs distrusts smartphones); a
            # name may be a place's or a ship's ("Thule Deep has never had a fire alarm"), so only person words
            concerns = {
                statement: concerns_others(statement, self.names) for statement in dict.fromkeys(s for s, _ in pairs)
            }
            apart = mask & np.asarray(
                [is_person_word(subjects[sentence] or "") and not concerns[statement] for statement, sentence in pairs]
            )
            probs[apart] = (0.0, 1.0, 0.0)
        then = [age_then_not_now(statement, sentence) for statement, sentence in pairs]
        if any(then):  # an age at a past moment says nothing of the present one
            mask = np.asarray(then)
            probs[mask] = (0.0, 1.0, 0.0)
        stripped = [
            (k, without_others(sentence, statement, self.names)) for k, (statement, sentence) in enumerate(pairs)
        ]
        again = [(k, text) for k, text in stripped if text is not None]
        if again:
            probs[[k for k, _ in again]] = predict([(pairs[k][0], text) for k, text in again])
        return probs

    def grids(
        self,
        sentence_lists: Sequence[Sequence[str]],
        query_topics: FloatArray | None = None,
        queries: Sequence[str] | None = None,
        claims: Sequence[bool] | None = None,
    ) -> list[tuple[FloatArray, FloatArray | None, npt.NDArray[np.bool_]]]:
        """Per reply: NLI probabilities (n_statements, n_sentences, 3), topic scores and the gate's mask.

        `queries` are the user messages the replies answer (the learned topic gate reads them); `query_topics`,
        shape (n_replies, n_statements), are the cosines of each message with the statements (for the query gate);
        `claims` says per reply whether its last sentence is the claim its opening makes (`ReplySentences.judged`).
        Gated pairs are neutral (0, 1, 0) and never reach the NLI model; the others go in one batched call, read as
        `read_pairs` reads them.
        """
        n = len(self.statements)
        wanted = self.calibration.topic_gate is not None or self.calibration.support_gate is not None
        queries = list(queries) if queries is not None else [""] * len(sentence_lists)
        topics = self.relevance.topics(self.statements, sentence_lists, queries, self.names) if wanted else None
        shapes = []
        pairs: list[tuple[str, str]] = []
        for k, sents in enumerate(sentence_lists):
            block = None if topics is None else topics[k]
            query_topic = None if query_topics is None else query_topics[k]
            open_ = (
                np.ones((n, len(sents)), dtype=bool)
                if block is None
                else self.calibration.open_pairs(block, query_topic, bool(claims and claims[k]))
            )
            pairs.extend((self.statements[int(i)], sents[int(j)]) for i, j in zip(*np.nonzero(open_), strict=True))
            shapes.append((block, open_))
        subjects: dict[str, str | None] = {}
        for sents in sentence_lists:  # a sentence read two ways in two replies is read as its own
            for sentence, subject in zip(sents, subjects_in(sents, self.names), strict=True):
                subjects[sentence] = subject if subjects.get(sentence, subject) == subject else None
        probs = self.read_pairs(pairs, self.nli.predict, subjects)
        grids, used = [], 0
        for block, open_ in shapes:
            grid = np.zeros((*open_.shape, 3), dtype=np.float32)
            grid[:, :, NEU] = 1.0
            count = int(open_.sum())
            grid[open_] = probs[used : used + count]
            used += count
            grids.append((grid, block, open_))
        return grids

    def read_replies(self, items: Sequence[tuple[str, str]]) -> list[ReplySentences]:
        """Each reply's sentences and the claim its opening "yes" makes, unless the reply itself contradicts that claim.

        "Yes, she takes it black." answers "Do you take milk?" with a correction, not an agreement: a claim that one of
        the reply's own sentences contradicts (the NLI model's most probable label) is dropped, in one batched call.
        """
        read = [reply_sentences(q, r) for q, r in items]
        pairs = [(r.claim, s) for r in read if r.claim for s in r.sentences]
        if not pairs:
            return read
        contradicted = iter(self.nli.predict(pairs).argmax(axis=1) == CON)
        out = []
        for r in read:
            if r.claim and any([next(contradicted) for _ in r.sentences]):
                r = r._replace(claim=None)
            out.append(r)
        return out

    def score_batch(
        self, items: Sequence[tuple[str, str]], progress: Callable[[int], None] | None = None
    ) -> list[APCResult]:
        """Score many (query, response) pairs with one batched NLI call and cached statement embeddings.

        `progress`, if given, is called with the number of items finished after each chunk.
        """
        results: list[APCResult] = []
        chunk_size = 64
        for start in range(0, len(items), chunk_size):
            chunk = items[start : start + chunk_size]
            query_topics = self.relevance.similarity(self.statements, [q for q, _ in chunk], self.names)
            relevance = self.relevance.calibrate(query_topics)
            read = self.read_replies(chunk)
            grids = self.grids(
                [r.judged for r in read], query_topics, [q for q, _ in chunk], [r.claim is not None for r in read]
            )
            for (query, response), sents, rel, (grid, topic, open_) in zip(chunk, read, relevance, grids, strict=True):
                reduced = (
                    _reduce(
                        grid,
                        sents.shown,
                        topic,
                        open_,
                        self.calibration.consistent,
                        self.whole(sents.shown),
                        sents.claim is not None,
                        self.calibration.topic_decides,
                    )
                    if sents.judged
                    else None
                )
                results.append(self._result(query, response, rel, reduced, sents.shown))
            if progress is not None:
                progress(len(chunk))
        return results

    def score_naive(self, query: str, response: str) -> APCResult:
        """Reference implementation: one unbatched NLI forward per statement–sentence pair, nothing cached.

        Used by the throughput benchmark to check the batched path gives the same numbers.
        """
        if not isinstance(self.nli, OnnxNLI):
            raise TypeError("score_naive compares the ONNX model against itself; bind the shipped or an onnx: NLI")
        read = self.read_replies([(query, response)])[0]
        sents, shown = read.judged, read.shown
        embedder = self.relevance.embedder
        embed = getattr(embedder, "embed_uncached", embedder.embed)
        masked_query = mask_names(query, self.names)
        sims = np.asarray(
            [float(embed([masked_query])[0] @ embed([mask_names(s, self.names)])[0]) for s in self.statements],
            dtype=np.float32,
        )
        rel = self.relevance.calibrate(sims)
        if not sents:
            return self._result(query, response, rel, None)
        every = [(s, sent) for s in self.statements for sent in sents]
        subjects = dict(zip(sents, subjects_in(sents, self.names), strict=True))
        probs = self.read_pairs(every, self.nli.predict_unbatched, subjects)
        grid = probs.reshape(len(self.statements), len(sents), 3)
        if self.calibration.topic_gate is None and self.calibration.support_gate is None:
            everything = np.ones(grid.shape[:2], dtype=bool)
            reduced = _reduce(
                grid, shown, None, everything, self.calibration.consistent, self.whole(shown), read.claim is not None
            )  # no topic scores: `topic_decides` does not apply
            return self._result(query, response, rel, reduced, shown)
        topic = self.relevance.topic_model.scores(
            np.concatenate([embed([mask_names(s, self.names)]) for s in self.statements]),
            np.concatenate([embed([mask_names(t, self.names)]) for t in sents]),
            embed([masked_query])[0],
        )
        open_ = self.calibration.open_pairs(topic, sims, read.claim is not None)
        grid[~open_] = (0.0, 1.0, 0.0)
        reduced = _reduce(
            grid,
            shown,
            topic,
            open_,
            self.calibration.consistent,
            self.whole(shown),
            read.claim is not None,
            self.calibration.topic_decides,
        )
        return self._result(query, response, rel, reduced, shown)
