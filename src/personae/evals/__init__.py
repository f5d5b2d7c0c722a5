"""Evaluation harness: PersonaGym-style tasks, faithfulness probes, psychometrics, multi-turn drift, role-id.

Typical use:

    spec = load_spec("examples/evals/mock.yaml")
    results = asyncio.run(run_eval(spec, "out/mock"))
    results.persona_scores
    rescore("out/mock")          # later: the model-free scores again, with today's scoring models, no LLM call
"""

from personae.evals._context import EvalContext
from personae.evals._errors import (
    EvalError,
    EvalLimitError,
    EvalSpecError,
    JudgeParseError,
    RescoreError,
    UnscorableSample,
)
from personae.evals._judge import (
    ParsedObject,
    ParsedScore,
    parse_anchors,
    parse_object,
    parse_probabilities,
    parse_score,
)
from personae.evals._log import (
    REPORT_FILE,
    RESULTS_FILE,
    RUN_FILE,
    SAMPLES_FILE,
    EvalResults,
    EvalSample,
    JudgeRecord,
    ModelInfo,
    Rescoring,
    RoleUsage,
    SampleWriter,
    ScoringInfo,
    TaskResult,
    read_samples,
    resumed_start,
)
from personae.evals._mock import mock_agent, mock_garbage_judge, mock_judge
from personae.evals._paths import NamedPath, spec_paths
from personae.evals._report import compare_runs, load_results, render_comparison, render_report, write_report
from personae.evals._rescore import rescore
from personae.evals._runner import EvalRun, capture_environment, load_personas, plan_items, run_eval
from personae.evals._scoring import ScoringContext, describe_models, exchanges
from personae.evals._spec import (
    AgentSpec,
    EvalSpec,
    NliBinding,
    Roles,
    RoleSpec,
    SpecPath,
    load_spec,
    spec_from_data,
)
from personae.evals._stats import Stat, bootstrap_mean, brier, expected_calibration_error
from personae.evals._svg import CHART_CSS, Bar, bar_chart, line_chart
from personae.evals._task import Item, Task, TaskParams, build_task, list_tasks, register_task
from personae.evals._tasks.bias import audit_rows, audit_spec

__all__ = [
    "CHART_CSS",
    "REPORT_FILE",
    "RESULTS_FILE",
    "RUN_FILE",
    "SAMPLES_FILE",
    "AgentSpec",
    "Bar",
    "EvalContext",
    "EvalError",
    "EvalLimitError",
    "EvalResults",
    "EvalRun",
    "EvalSample",
    "EvalSpec",
    "EvalSpecError",
    "Item",
    "JudgeParseError",
    "JudgeRecord",
    "ModelInfo",
    "NamedPath",
    "NliBinding",
    "ParsedObject",
    "ParsedScore",
    "RescoreError",
    "Rescoring",
    "RoleSpec",
    "RoleUsage",
    "Roles",
    "SampleWriter",
    "ScoringContext",
    "ScoringInfo",
    "SpecPath",
    "Stat",
    "Task",
    "TaskParams",
    "TaskResult",
    "UnscorableSample",
    "audit_rows",
    "audit_spec",
    "bar_chart",
    "bootstrap_mean",
    "brier",
    "build_task",
    "capture_environment",
    "compare_runs",
    "describe_models",
    "exchanges",
    "expected_calibration_error",
    "line_chart",
    "list_tasks",
    "load_personas",
    "load_results",
    "load_spec",
    "mock_agent",
    "mock_garbage_judge",
    "mock_judge",
    "parse_anchors",
    "parse_object",
    "parse_probabilities",
    "parse_score",
    "plan_items",
    "read_samples",
    "register_task",
    "render_comparison",
    "render_report",
    "rescore",
    "resumed_start",
    "run_eval",
    "spec_from_data",
    "spec_paths",
    "write_report",
]
