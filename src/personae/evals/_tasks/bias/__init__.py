"""`persona-bias`: the persona-bias audit task (BBQ, maths, abstentions, toxicity and regard)."""

from personae.evals._tasks.bias._audit import audit_rows, audit_spec
from personae.evals._tasks.bias._data import OPEN_PROMPTS, find_shared, load_bbq, load_gsm8k
from personae.evals._tasks.bias._figures import PROBES, figures, gaps
from personae.evals._tasks.bias._parse import abstention_rule, parse_choice, parse_number, read_number
from personae.evals._tasks.bias._personas import BASELINE, DEFAULT_PERSONAS, DIMENSIONS, BiasPersona
from personae.evals._tasks.bias._task import PersonaBiasParams, PersonaBiasTask

__all__ = [
    "BASELINE",
    "DEFAULT_PERSONAS",
    "DIMENSIONS",
    "OPEN_PROMPTS",
    "PROBES",
    "BiasPersona",
    "PersonaBiasParams",
    "PersonaBiasTask",
    "abstention_rule",
    "audit_rows",
    "audit_spec",
    "figures",
    "find_shared",
    "gaps",
    "load_bbq",
    "load_gsm8k",
    "parse_choice",
    "parse_number",
    "read_number",
]
