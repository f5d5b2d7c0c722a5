"""Benchmark: does the guard keep a character from claiming its user's facts as its own?

The personalization probes ("What do I do for a living now?") are asked again on the memories a finished
`bench/personalization.py` run stored (its folder: samples.jsonl, personas.json, sessions.db; the database is copied,
never changed, and the copy forgets what the run's own probe sessions left: their episodes), in a fresh session per
user, arm and sample: guard off (one reply) against best-of-n (default 4; `--policy threshold` adds a corrective
round when the best candidate still has a problem), same seeds. Each reply is read by the personalization task's
own string rules: the user's current value given as the user's (recall) or said as the character's own
(misattributed). Prints one JSON line with both rates per arm and the share of guarded candidates the claim check
flagged; `--replies FILE` writes every reply as JSONL.
Reference (issue 21): the misattributed rate cut by at least 50 % relative, recall not lower.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from personae.backends import GenerateConfig, get_backend
from personae.evals._tasks.personalization import PROBES, START, Profile, _gives_the_user, _says
from personae.guard import GuardPolicy
from personae.memory import MemorySettings, UserMemorySettings
from personae.persona import Persona
from personae.scoring import ScoringModels
from personae.session import ChatSession, SessionSettings
from personae.store import SessionStore

REFERENCE = "misattributed rate cut >= 50 % relative with the guard on; current-fact recall not lower"
WEEKS = 4
"""The probes come four weeks after the first session (the task's script has four weekly sessions)."""


def probe_time() -> datetime:
    """When the probes are asked: two hours into the day of the week after the task's last session."""
    return START + timedelta(days=7 * WEEKS, hours=2)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Ask the probes of every sample of `args.run` with the guard off and on; the figures and the replies."""
    folder = Path(tempfile.mkdtemp(prefix="personae-probe-"))
    shutil.copy(args.run / "sessions.db", folder / "sessions.db")
    store = SessionStore(f"sqlite:///{folder / 'sessions.db'}")
    with (
        store.engine.begin() as conn
    ):  # the run's own probe sessions would be remembered: what they said, their episode
        day = probe_time().replace(hour=0, tzinfo=None)
        conn.execute(text("DELETE FROM user_facts WHERE said_at >= :day"), {"day": day})
        conn.execute(text("DELETE FROM user_episodes WHERE happened_at >= :day"), {"day": day})
    personas = {k: Persona.model_validate(v) for k, v in json.loads((args.run / "personas.json").read_text()).items()}
    samples = [json.loads(line) for line in (args.run / "samples.jsonl").read_text().splitlines() if line.strip()]
    backend, models = get_backend(args.backend, cache=None), ScoringModels()
    policy: GuardPolicy = "threshold" if args.policy == "threshold" else "best-of-n"
    arms: tuple[tuple[str, GuardPolicy, int], ...] = (("off", "off", 1), ("on", policy, args.n))
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with Progress(transient=True) as progress:
        task = progress.add_task("probes, guard off / on", total=len(samples) * len(arms) * len(PROBES))
        for k, sample in enumerate(samples):
            user = Profile.from_data(sample["data"]["user"])
            current = {"home": user.homes[1], "job": user.jobs[1], "pet": user.pet[1]}
            for arm, guard, n in arms:
                settings = SessionSettings(
                    guard=guard,
                    n=n,
                    generate=GenerateConfig(temperature=0.8, max_tokens=120, seed=args.seed + k),
                    memory=MemorySettings(user=UserMemorySettings(enabled=True)),
                )
                chat = ChatSession.start(
                    personas[sample["persona"]], backend, store, user_name=user.name, settings=settings, models=models
                )
                chat.clock = probe_time
                for slot, question in PROBES:
                    turn = await chat.send(question)
                    value = current[slot]
                    given = _gives_the_user(turn.reply, value)
                    rows.append(
                        {
                            "sample": sample["id"],
                            "guard": arm,
                            "slot": slot,
                            "question": question,
                            "reply": turn.reply,
                            "current": given,
                            "misattributed": _says(turn.reply, value) and not given,
                            "claimed": [c.claimed_user_facts for c in turn.candidates],
                        }
                    )
                    progress.advance(task)
                # no `end()`: an episode written now would change the memories the other arm reads
    if args.replies:
        args.replies.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result: dict[str, Any] = {
        "bench": "personalization_guard",
        "backend": backend.address,
        "policy": args.policy,
        "n": args.n,
    }
    for arm in ("off", "on"):
        mine = [r for r in rows if r["guard"] == arm]
        result[f"current_fact_recall_{arm}"] = round(sum(r["current"] for r in mine) / max(1, len(mine)), 4)
        result[f"misattributed_rate_{arm}"] = round(sum(r["misattributed"] for r in mine) / max(1, len(mine)), 4)
    on = [c for r in rows if r["guard"] == "on" for c in r["claimed"]]
    result["candidates_flagged_on"] = round(sum(bool(c) for c in on) / max(1, len(on)), 4)
    off_rate, on_rate = result["misattributed_rate_off"], result["misattributed_rate_on"]
    result["relative_misattributed_cut"] = round(1 - on_rate / off_rate, 4) if off_rate else None
    result["probes"] = len(rows) // 2
    result["run"] = str(args.run)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["reference"] = REFERENCE
    cut = result["relative_misattributed_cut"]
    result["meets_reference"] = bool(
        cut is not None and cut >= 0.5 and result["current_fact_recall_on"] >= result["current_fact_recall_off"]
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, required=True, help="a finished bench/personalization.py run folder")
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--n", type=int, default=4, help="candidates per reply with the guard on")
    parser.add_argument(
        "--policy",
        choices=["best-of-n", "threshold"],
        default="best-of-n",
        help="the guard when on (threshold: best-of-n, then one corrective round naming the claimed facts)",
    )
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--replies", type=Path, help="write every reply with its verdicts (JSONL)")
    parser.add_argument("--record", action="store_true", help="append to bench/results/personalization_guard.jsonl")
    args = parser.parse_args()
    for name in ("sessions.db", "personas.json", "samples.jsonl"):
        if not (args.run / name).is_file():
            raise SystemExit(f"{args.run}: no {name} (a finished bench/personalization.py run folder has it)")
    result = asyncio.run(run(args))
    if args.record:
        record("personalization_guard", result)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
