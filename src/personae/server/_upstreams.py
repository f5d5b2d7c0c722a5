"""Which backends an eval or a scene posted to the server may use: secrets never follow a URL chosen by a request.

A role's backend is one of: a `mock/...` model (offline), the server's own upstream (its address), an upstream
the operator named in the config (`eval_upstreams`), or, only when the operator allows arbitrary backends, any
backend whose options carry the request's own `api_key`. The server's own URL and key go only to the first three.
A role naming the server's own or a named upstream gets the operator's options for it, even when that upstream
is a mock (a `mock/echo` upstream with `delay=0.5` is as slow in a scene or an eval as in a chat).
"""

from __future__ import annotations

from typing import Any

from personae.backends import BackendError, check_backend_options, parse_address
from personae.evals import EvalSpec, EvalSpecError, RoleSpec
from personae.server._config import ServerConfig, Upstream

OFFLINE_PROVIDERS = frozenset({"mock"})
"""Providers that call no server: any spec may use them."""
CREDENTIAL_OPTIONS = frozenset({"base_url", "api_key"})
"""Role options that choose where requests go or what key they carry: never mixed with the server's upstreams."""
SPEC_SOURCE = "spec"


class UpstreamPolicy:
    """Rewrites a posted spec's roles onto the upstreams the operator allows, or refuses them."""

    def __init__(self, config: ServerConfig) -> None:
        self.named: dict[str, Upstream] = {
            config.backend: Upstream(backend=config.backend, base_url=config.base_url, options=config.backend_options),
            **config.eval_upstreams,
        }
        self.allow_any = config.allow_any_eval_backend
        self.max_concurrency = config.max_eval_concurrency

    def allowed(self) -> str:
        """The backends a spec may name, for error messages."""
        return ", ".join(["mock/...", *(repr(n) for n in self.named)])

    def role(self, role: RoleSpec, field: str) -> RoleSpec:
        """`role` bound to an allowed upstream; raises `EvalSpecError` naming `field` when it is not allowed."""
        try:
            provider = parse_address(role.backend).provider
        except BackendError as exc:
            raise EvalSpecError(SPEC_SOURCE, str(exc), field=f"{field}.backend") from None
        upstream = self.named.get(role.backend)  # first: a mock upstream keeps the operator's options
        if upstream is not None:
            self._no_credentials(role, field, f"the server's upstream {role.backend!r}")
            options: dict[str, Any] = {**upstream.options, **role.options}
            if upstream.base_url:
                options["base_url"] = upstream.base_url
            return role.model_copy(update={"backend": upstream.backend, "options": options})
        if provider in OFFLINE_PROVIDERS:
            self._no_credentials(role, field, "an offline mock")
            return role
        if not self.allow_any:
            raise EvalSpecError(
                SPEC_SOURCE,
                f"backend {role.backend!r} is not one this server lets evals and scenes use "
                f"(allowed: {self.allowed()})",
                field=f"{field}.backend",
            )
        key = role.options.get("api_key")
        if not isinstance(key, str) or not key.strip():
            raise EvalSpecError(
                SPEC_SOURCE,
                f"backend {role.backend!r} is not one of the server's upstreams, so the role must bring its own "
                "key in options.api_key (the server's keys are never sent to a backend a spec chooses)",
                field=f"{field}.options.api_key",
            )
        try:  # a provider without an `api_key` option would fall back on the server's own credentials
            options = {k: v for k, v in role.options.items() if k != "base_url"}  # base_url: get_backend's own
            if "api_key" not in check_backend_options(role.backend, options):
                raise BackendError(f"{role.backend} takes no api_key option")
        except BackendError as exc:
            raise EvalSpecError(SPEC_SOURCE, str(exc), field=f"{field}.options") from None
        return role

    @staticmethod
    def _no_credentials(role: RoleSpec, field: str, what: str) -> None:
        given = sorted(CREDENTIAL_OPTIONS & set(role.options))
        if given:
            raise EvalSpecError(
                SPEC_SOURCE,
                f"{what} is called with the server's own settings; a spec may not set {', '.join(given)}",
                field=f"{field}.options.{given[0]}",
            )

    def apply(self, spec: EvalSpec) -> EvalSpec:
        """The spec with every role bound to an allowed upstream (see the module's docstring)."""
        if spec.executor != "asyncio" or spec.ray_address is not None:
            raise EvalSpecError(
                SPEC_SOURCE, "evals posted to the server run in it: executor must be 'asyncio'", field="executor"
            )
        roles = spec.roles
        flights = [("concurrency", spec.concurrency), ("agent.max_concurrency", spec.agent.max_concurrency)]
        flights += [(f"roles.judge[{i}].max_concurrency", r.max_concurrency) for i, r in enumerate(roles.judge)]
        for field, value in flights:
            if value > self.max_concurrency:
                raise EvalSpecError(
                    SPEC_SOURCE, f"{value} is over the server's limit of {self.max_concurrency} in flight", field=field
                )
        updates: dict[str, Any] = {"judge": [self.role(r, f"roles.judge[{i}]") for i, r in enumerate(roles.judge)]}
        if roles.user is not None:
            updates["user"] = self.role(roles.user, "roles.user")
        if roles.generator is not None:
            updates["generator"] = self.role(roles.generator, "roles.generator")
        kind, _, argument = roles.nli.partition(":")
        if kind == "llm" and parse_address(argument or "?").provider not in OFFLINE_PROVIDERS:
            raise EvalSpecError(
                SPEC_SOURCE, "an `llm:` NLI binding on the server may only use a mock/... backend", field="roles.nli"
            )
        if kind not in ("shipped", "fake", "onnx", "hf", "llm"):
            raise EvalSpecError(
                SPEC_SOURCE, f"NLI binding {roles.nli!r} is not available on the server", field="roles.nli"
            )
        agent = self.role(spec.agent, "agent")
        return spec.model_copy(
            update={
                "agent": spec.agent.model_copy(update={"backend": agent.backend, "options": agent.options}),
                "roles": roles.model_copy(update=updates),
            }
        )
