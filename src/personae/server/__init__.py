"""The personae server: personas as OpenAI-compatible models, a REST API, API keys, and the web UI.

app = create_app(ServerConfig(backend="mock/echo", personas_dir=Path("examples/personas")))
uvicorn.run(app)                      # or `personae serve --backend mock/echo --personas examples/personas`
"""

from personae.server._app import CONFIG_ENV, app_from_env, create_app
from personae.server._config import Markers, PassThroughField, ScoringChoice, ServerConfig
from personae.server._evals import EvalRunView, ServerEvals, interrupt_stale_evals, parse_spec
from personae.server._service import (
    CandidateView,
    ConflictError,
    NotFoundError,
    PersonaInfo,
    Service,
    SessionView,
    TurnView,
    conversation_hash,
    conversation_hashes,
    parse_messages,
    parse_upload,
)

__all__ = [
    "CONFIG_ENV",
    "CandidateView",
    "ConflictError",
    "EvalRunView",
    "Markers",
    "NotFoundError",
    "PassThroughField",
    "PersonaInfo",
    "ScoringChoice",
    "ServerConfig",
    "ServerEvals",
    "Service",
    "SessionView",
    "TurnView",
    "app_from_env",
    "conversation_hash",
    "conversation_hashes",
    "create_app",
    "interrupt_stale_evals",
    "parse_messages",
    "parse_spec",
    "parse_upload",
]
