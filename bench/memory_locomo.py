"""LoCoMo long-term memory: evidence recall@k and answer F1 of personae's user memory against raw-turn baselines.

Feeds each LoCoMo conversation's sessions in order, at their dates, through the memory writer (`UserMemory.observe`:
each message kept verbatim as an episodic item, dated, and the facts extracted from it, superseding what they
contradict), once with each speaker as the user and the other as the character, as a character would learn about
both sides. Then for every question with evidence it retrieves the top-k items from both speakers' memories
(`UserMemory.recall`: embedding and BM25 rankings fused by reciprocal rank, one item per message; the speaker the
question names ranked a little higher) and counts the question as recalled when every evidence turn is the source
of a retrieved item.

Baselines over the raw turns ("Speaker: text"), k items each: the most recent turns (no memory), BM25 (rank-bm25),
embedding search (the shipped MiniLM), and the whole conversation truncated from the end to the tokens the memory's
k items take.

With `--answer BACKEND` (`embedded`, `openai/<model>` with `--base-url`, `mock/...`: personae's backend registry),
each of the first `--questions` questions per conversation is also answered by that backend from each method's
items, in rank order under one token budget (the tokens the memory's k items take, so every method answers from
as much text), and the answer is scored by token F1 against the gold answer with LoCoMo's normalisation
(lowercase, punctuation and articles stripped; multi-hop answers part by part; an adversarial question scores 1
when the answer says the information is not there), per category and overall.

Constants chosen by measurement (`NAMED_BOOST` here, `UserMemorySettings.lexical_weight` in the memory; `fusion_k`
60 is the literature's, not tuned) were chosen on the first conversation in the folder only (26), by evidence
recall@10; the other four are held out, and `per_conversation` reports each.
Prints one JSON line; `--record` appends it to bench/results/memory_locomo.jsonl.

LoCoMo (../shared/data/locomo) is CC BY-NC: it is read from there and measured, never copied into the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import string
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from rank_bm25 import BM25Okapi

from _results import record as record_result
from personae.backends import Backend, BackendError, GenerateConfig, Message, approx_tokens, get_backend
from personae.memory import MemoryScope, UserMemory, UserMemorySettings
from personae.scoring import FakeEmbedder, FakeNLI, ScoringModels
from personae.store import SessionStore, UserMemoryStore

CATEGORIES = {1: "multi_hop", 2: "temporal", 3: "open_domain", 4: "single_hop", 5: "adversarial"}
METHODS = ("memory", "no_memory_recent", "bm25_turns", "embedding_turns", "full_context_truncated")
NAMED_BOOST = 0.1
"""Added to the recall score (0…1) of the items of the speaker a question names (when it names one only).

LoCoMo's adversarial questions name the other speaker on purpose, so the name cannot be a filter. Chosen on
conversation 26 among 0, 0.05, 0.1 and 0.2 (recall@10 0.599, 0.629, 0.640, 0.640 with lexical_weight 0.5)."""
NOT_THERE = "No information available"
"""What the answerer is told to say when its items do not tell (LoCoMo's adversarial answers)."""


def session_time(text: str) -> datetime:
    """'1:56 pm on 8 May, 2023' → an aware datetime."""
    return datetime.strptime(text.replace(",", ""), "%I:%M %p on %d %B %Y").replace(tzinfo=UTC)


def turns_of(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """Every turn in order, with its session number and time."""
    turns: list[dict[str, Any]] = []
    number = 1
    while f"session_{number}" in conversation:
        when = session_time(conversation[f"session_{number}_date_time"])
        for turn in conversation[f"session_{number}"]:
            text = turn.get("text", "")
            if turn.get("blip_caption"):
                text = f"{text} [shares a photo: {turn['blip_caption']}]"
            turns.append(
                {"dia_id": turn["dia_id"], "speaker": turn["speaker"], "text": text, "session": number, "when": when}
            )
        number += 1
    return turns


def evidence_of(qa: dict[str, Any]) -> set[str]:
    """The question's evidence turn ids, normalised ('D1:3'); a few annotations spell them loosely."""
    found = set()
    for item in qa.get("evidence", []):
        for match in re.finditer(r"D\s*:?\s*(\d+)\s*:\s*(\d+)", str(item)):
            found.add(f"D{match.group(1)}:{match.group(2)}")
    return found


def tokenize(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


# answer scoring (LoCoMo's normalisation) ----------------------------------------------------------------------------


def normalize_answer(text: str) -> str:
    """Lowercase, without commas, punctuation, articles ("and" too) and extra spaces: LoCoMo's `normalize_answer`
    (its F1 also stems the words; this one does not)."""
    text = str(text).lower().replace(",", "")
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the|and)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, gold: str) -> float:
    """F1 of the normalised tokens of `prediction` against `gold`."""
    predicted, wanted = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum((Counter(predicted) & Counter(wanted)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def answer_score(prediction: str, qa: dict[str, Any]) -> float:
    """LoCoMo's score of an answer: token F1, part by part for multi-hop; "not there" for adversarial questions."""
    category = int(qa.get("category", 0))
    if category == 5:
        said = prediction.lower()
        return float("no information available" in said or "not mentioned" in said)
    gold = str(qa.get("answer", ""))
    if category == 3:
        gold = gold.split(";")[0].strip()
    if category == 1:
        parts = [p for p in prediction.split(",") if p.strip()] or [prediction]
        wanted = [g for g in gold.split(",") if g.strip()] or [gold]
        return float(np.mean([max(token_f1(p, g) for p in parts) for g in wanted]))
    return token_f1(prediction, gold)


def within_budget(texts: Sequence[str], budget: int) -> list[str]:
    """The first texts whose tokens fit in `budget` (at least one, cut to it)."""
    kept: list[str] = []
    for text in texts:
        cost = approx_tokens(text)
        if cost > budget:
            if not kept:
                kept.append(text[: int(budget * 3.5)])
            break
        kept.append(text)
        budget -= cost
    return kept


async def answer(backend: Backend, question: str, items: Sequence[str], speakers: tuple[str, str]) -> str | None:
    """The backend's short answer to `question` from `items` (dated lines) alone; None if the backend failed."""
    context = "\n".join(f"- {item}" for item in items)
    prompt = (
        f"Memories of conversations between {speakers[0]} and {speakers[1]}, with their dates:\n{context}\n\n"
        f"Answer the question from these memories only, in a few words (a name, a date as day month year, a "
        f"short phrase). If they do not tell, answer: {NOT_THERE}.\nQuestion: {question}\nAnswer:"
    )
    try:
        output = await backend.generate(
            [Message(role="user", content=prompt)], GenerateConfig(temperature=0.0, max_tokens=32)
        )
    except BackendError as exc:
        print(f"answering failed: {exc}", file=sys.stderr)
        return None
    return output.text.strip().splitlines()[0].strip() if output.text.strip() else ""


# memory and retrieval -----------------------------------------------------------------------------------------------


async def build_memories(
    turns: list[dict[str, Any]], speakers: tuple[str, str], models: ScoringModels, name: str, folder: Path
) -> tuple[dict[str, UserMemory], float]:
    """One memory per speaker (as the user, the other as the character), fed in order; seconds per written turn."""
    store = SessionStore(f"sqlite:///{folder / f'{name}.db'}")
    memories = {
        user: UserMemory(UserMemoryStore(store), MemoryScope(None, user, name), char, models, UserMemorySettings())
        for user, char in (speakers, speakers[::-1])
    }
    spent = 0.0
    for index, turn in enumerate(turns):
        started = time.perf_counter()
        await memories[turn["speaker"]].observe(turn["text"], f"S{turn['session']}", index, turn["when"])
        spent += time.perf_counter() - started
    return memories, spent / max(1, len(turns))


class Retrieved(NamedTuple):
    """A method's items for a question, best first: their source turn ids and their texts as an answerer sees them."""

    ids: list[str]
    texts: list[str]


def recall_memory(
    memories: dict[str, UserMemory], question: str, k: int, index_of: dict[int, str], boost: float | None = None
) -> Retrieved:
    """The top-k items of both speakers' memories, the speaker the question names (only one) a little higher."""
    boost = NAMED_BOOST if boost is None else boost
    named = [s for s in memories if s.split()[0].lower() in question.lower()]
    scored = [
        (fact, score + (boost if len(named) == 1 and speaker == named[0] else 0.0))
        for speaker, memory in memories.items()
        for fact, score in memory.recall(question, facts=k, episodes=0).facts
    ]
    scored.sort(key=lambda pair: -pair[1])
    top = [fact for fact, _ in scored[:k]]
    return Retrieved([index_of.get(f.turn if f.turn is not None else -1, "") for f in top], [f.dated() for f in top])


class Conversation(NamedTuple):
    """What one conversation gave: per question and method, the retrieved items; and the memory's upkeep."""

    questions: list[dict[str, Any]]
    ranked: list[dict[str, Retrieved]]
    budgets: list[int]
    write_seconds_per_turn: float
    recall_ms: list[float]
    facts: int
    superseded: int
    messages: int


def run_conversation(
    conversation: dict[str, Any], models: ScoringModels, k: int, name: str, folder: Path
) -> Conversation:
    """Feed one conversation through the memory, then rank every method's items for each question with evidence."""
    speakers = (conversation["speaker_a"], conversation["speaker_b"])
    turns = turns_of(conversation)
    memories, per_turn = asyncio.run(build_memories(turns, speakers, models, name, folder))
    index_of = {i: t["dia_id"] for i, t in enumerate(turns)}
    facts = superseded = messages = 0
    for memory in memories.values():
        every = memory.repository.facts(memory.scope, history=True, messages=True)
        messages += sum(f.topic == "said" for f in every)
        facts += sum(f.topic != "said" for f in every)
        superseded += sum(not f.current and f.topic != "said" for f in every)
    raw = [f"{t['speaker']}: {t['text']}" for t in turns]
    dated = [f"({t['when']:%d %B %Y}) {r}" for t, r in zip(turns, raw, strict=True)]
    bm25 = BM25Okapi([tokenize(t) for t in raw])
    turn_vectors = models.embedder.embed(raw)
    questions, ranked, budgets, recall_ms = [], [], [], []
    for qa in conversation["qa"]:
        if not evidence_of(qa):
            continue
        question = str(qa["question"])
        started = time.perf_counter()
        remembered = recall_memory(memories, question, k, index_of)
        recall_ms.append((time.perf_counter() - started) * 1000)
        budget = sum(approx_tokens(t) for t in remembered.texts)
        recent = list(range(len(turns) - 1, -1, -1))
        truncated = recent[: len(within_budget([dated[i] for i in recent], budget))]
        bm25_order = [int(i) for i in np.argsort(-bm25.get_scores(tokenize(question)), kind="stable")]
        sims = turn_vectors @ models.embedder.embed([question])[0]
        embedding_order = [int(i) for i in np.argsort(-sims, kind="stable")]

        def by(order: Sequence[int]) -> Retrieved:
            return Retrieved([index_of[i] for i in order], [dated[i] for i in order])

        truncated_chrono = sorted(truncated)
        ranked.append(
            {
                "memory": remembered,
                "no_memory_recent": by(recent),
                "bm25_turns": by(bm25_order),
                "embedding_turns": by(embedding_order),
                "full_context_truncated": by(truncated_chrono),
            }
        )
        questions.append(qa)
        budgets.append(budget)
    return Conversation(questions, ranked, budgets, per_turn, recall_ms, facts, superseded, messages)


def answer_all(
    backend: Backend, conversation: dict[str, Any], result: Conversation, k: int, limit: int | None
) -> list[dict[str, float]]:
    """Per question (the first `limit`), each method's answer score from its items under the question's budget."""
    speakers = (conversation["speaker_a"], conversation["speaker_b"])
    chosen = list(zip(result.questions, result.ranked, result.budgets, strict=True))[:limit]

    async def run() -> list[dict[str, float]]:
        scores = []
        for qa, ranked, budget in chosen:
            row = {}
            for method in METHODS:
                texts = ranked[method].texts if method == "full_context_truncated" else ranked[method].texts[:k]
                said = await answer(backend, str(qa["question"]), within_budget(texts, budget), speakers)
                row[method] = answer_score(said, qa) if said is not None else float("nan")
            scores.append(row)
        return scores

    return asyncio.run(run())


def main(
    data: Path,
    k: int,
    models_kind: str,
    limit: int | None,
    answer_backend: Backend | None = None,
    questions: int | None = None,
) -> dict[str, Any]:
    files = sorted(data.glob("*.json"))[:limit]
    if not files:
        sys.exit(f"no LoCoMo conversations in {data} (pass --data DIR)")
    models = (
        ScoringModels(nli=FakeNLI(), embedder=FakeEmbedder(), ooc_classifier=False)
        if models_kind == "fake"
        else ScoringModels(ooc_classifier=False)
    )
    ks = sorted({5, k})
    hits: dict[str, dict[int, list[int]]] = {m: {kk: [] for kk in ks} for m in METHODS}
    by_category: dict[str, dict[str, list[int]]] = {m: defaultdict(list) for m in METHODS}
    per_conversation: dict[str, dict[str, float | None]] = {}
    f1: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in METHODS}
    failed: Counter[str] = Counter()
    write_seconds: list[float] = []
    recall_ms: list[float] = []
    facts_total = superseded_total = messages_total = 0
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            conversation = json.loads(path.read_text(encoding="utf-8"))
            result = run_conversation(conversation, models, k, path.stem, Path(tmp))
            write_seconds.append(result.write_seconds_per_turn)
            recall_ms += result.recall_ms
            facts_total += result.facts
            superseded_total += result.superseded
            messages_total += result.messages
            mine: dict[str, list[int]] = defaultdict(list)
            for qa, ranked in zip(result.questions, result.ranked, strict=True):
                evidence = evidence_of(qa)
                category = CATEGORIES.get(int(qa.get("category", 0)), "other")
                for method in METHODS:
                    for kk in ks:
                        if method == "full_context_truncated":
                            if kk != k:
                                continue
                            covered = evidence <= set(ranked[method].ids)
                        else:
                            covered = evidence <= set(ranked[method].ids[:kk])
                        hits[method][kk].append(int(covered))
                        if kk == k:
                            by_category[method][category].append(int(covered))
                            mine[method].append(int(covered))
            per_conversation[path.stem] = {m: share(mine[m]) for m in METHODS}
            if answer_backend is not None:
                scored = answer_all(answer_backend, conversation, result, k, questions)
                for qa, row in zip(result.questions, scored, strict=False):
                    category = CATEGORIES.get(int(qa.get("category", 0)), "other")
                    for method, value in row.items():
                        if value != value:  # the backend failed: counted apart, not as a wrong answer
                            failed[method] += 1
                            continue
                        f1[method][category].append(value)
                        f1[method]["overall"].append(value)

    recall = {m: {f"@{kk}": share(hits[m][kk]) for kk in ks if hits[m][kk]} for m in METHODS}
    baselines = {m: recall[m].get(f"@{k}") for m in METHODS if m != "memory"}
    best_baseline = max(v for v in baselines.values() if v is not None)
    per_category = {m: {c: share(v) for c, v in sorted(by_category[m].items())} for m in METHODS}
    lagging = [
        f"{c}: {m}"
        for c, mine in per_category["memory"].items()
        for m in METHODS[1:]
        if (per_category[m].get(c) or 0.0) >= (mine or 0.0) and (per_category[m].get(c) or 0.0) > 0
    ]
    answer_f1 = None
    if answer_backend is not None:
        answer_f1 = {
            "backend": answer_backend.address,
            "questions": len(f1["memory"]["overall"]),
            "failed": dict(failed),
            "scores": {m: {c: round(float(np.mean(v)), 4) for c, v in sorted(f1[m].items())} for m in METHODS},
        }
    return {
        "bench": "memory_locomo",
        "conversations": len(files),
        "conversation_ids": [p.stem for p in files],
        "questions": len(hits["memory"][k]),
        "k": k,
        "models": models_kind,
        "evidence_recall_at_k": recall["memory"].get(f"@{k}"),
        "evidence_recall": recall,
        "baselines": baselines,
        "per_category": per_category,
        "per_conversation": per_conversation,
        "points_over_best_baseline": round(100 * ((recall["memory"].get(f"@{k}") or 0.0) - best_baseline), 1),
        "categories_not_above_every_baseline": lagging,
        "facts_written": facts_total,
        "facts_superseded": superseded_total,
        "messages_kept": messages_total,
        "write_ms_per_turn": round(1000 * float(np.mean(write_seconds)), 2),
        "recall_ms": {"p50": pct(recall_ms, 50), "p99": pct(recall_ms, 99)},
        "seconds": round(time.time() - started, 1),
        "answer_f1": answer_f1,
    }


def share(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(np.asarray(values), q)), 2) if values else None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomo"  # ../shared/data/locomo
    parser.add_argument("--data", type=Path, default=default, help="folder of LoCoMo conversation JSON files")
    parser.add_argument("--k", type=int, default=10, help="items retrieved per question (recall@5 is always given)")
    parser.add_argument("--models", choices=("shipped", "fake"), default="shipped", help="scoring models to use")
    parser.add_argument("--limit", type=int, default=None, help="only the first N conversations")
    parser.add_argument("--answer", default=None, help="backend answering the questions (e.g. embedded); default none")
    parser.add_argument("--base-url", default=None, help="base URL of an OpenAI-compatible answering backend")
    parser.add_argument("--questions", type=int, default=None, help="answer only the first N questions a conversation")
    parser.add_argument("--note", default="", help="free text kept with the result (machine load, what was run)")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/results/memory_locomo.jsonl")
    args = parser.parse_args()
    backend = get_backend(args.answer, base_url=args.base_url, cache=None) if args.answer else None
    result = main(args.data, args.k, args.models, args.limit, backend, args.questions)
    result["note"] = args.note
    if args.record:
        record_result("memory_locomo", result)
    print(json.dumps(result))
