"""Any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, llama.cpp server).

Two transports. `aiohttp` (the default) posts non-streamed chat completions over one aiohttp connection pool per
event loop, shared by every backend (an eval's agent and judge reuse each other's connections to one server
instead of opening a set each): the official SDK spends about 1 ms of CPU per request building typed requests and
responses, which at 32 requests in flight costs a tenth of the throughput (bench/harness_throughput.py).
Streaming always goes through the official SDK (its SSE reader), and `transport="sdk"` sends everything through
it. Both read the same settings (key, `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`) and map errors the
same way. The SDK's own retries are switched off: `Backend` retries once for every provider.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import urllib.parse
import urllib.request
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any, ClassVar, Literal

import aiohttp
import openai
from pydantic import Field

from personae.backends._api import BackendAPI, ProviderOptions
from personae.backends._errors import BackendError, RejectedRequestError, RetryableBackendError
from personae.backends._types import (
    BackendOutput,
    Choice,
    GenerateConfig,
    Message,
    ModelCall,
    StreamChunk,
    Usage,
)

KEY_ENV_VARS = ("PERSONAE_OPENAI_API_KEY", "OPENAI_API_KEY")
"""Environment variables read for the API key, in order."""


Transport = Literal["aiohttp", "sdk"]


def _status_error(status: int, body: bytes, passed: Sequence[str] = ()) -> BackendError:
    """An HTTP error response as personae's error: 429 and 5xx retryable, any other 4xx a rejected request.

    A rejection keeps the upstream's error message, param and code, and the fields the request `passed` through;
    a 401 says where the key comes from.
    """
    reason, param, code = _error_fields(body)
    text = f"openai: HTTP {status}: {reason or _shortened(body)}"
    if status == 429 or status >= 500:
        return RetryableBackendError(text, status_code=status)
    if status == 401:
        text += f" (set {' or '.join(KEY_ENV_VARS)} to a valid key)"
    if 400 <= status < 500:
        return RejectedRequestError(text, status, reason or "(no error message)", param, code, tuple(passed))
    return BackendError(text)


def _translate_error(exc: Exception, passed: Sequence[str] = ()) -> BackendError:
    """Map SDK exceptions to personae's: timeouts, connection errors, 429 and 5xx are retryable (`_status_error`)."""
    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
        return RetryableBackendError(f"openai: {type(exc).__name__}: {exc}")
    if isinstance(exc, openai.APIStatusError):
        try:
            body = exc.response.content
        except RuntimeError:  # httpx's ResponseNotRead: the SDK had no body to read
            body = b""
        return _status_error(exc.status_code, body, passed)
    return BackendError(f"openai: {type(exc).__name__}: {exc}")


def _shortened(body: bytes) -> str:
    """A body that holds no error message, cut to 300 characters for personae's message."""
    return body.decode("utf-8", "replace").strip()[:300] or "(empty body)"


def _detail_text(detail: object) -> str | None:
    """FastAPI's `detail`: a string, or validation errors as `field: reason` (the first three)."""
    if isinstance(detail, str):
        return detail or None
    if not isinstance(detail, list):
        return None
    problems = []
    for item in detail[:3]:
        if isinstance(item, dict):
            where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
            problems.append(f"{where}: {item.get('msg', 'invalid')}" if where else str(item.get("msg", "invalid")))
    return "; ".join(problems) or None


def _error_fields(body: bytes) -> tuple[str | None, str | None, str | None]:
    """(message, param, code) of an error response's body, None where it gives none.

    Reads OpenAI's `{"error": {...}}` and `{"error": "text"}`, older vLLM's top-level error object and FastAPI's
    `{"detail": ...}` (a server's 422 for a request that does not validate); a body that is none of them gives none.
    """
    try:
        parsed: object = json.loads(body)
    except ValueError:
        return None, None, None
    error = parsed.get("error", parsed) if isinstance(parsed, dict) else None
    if isinstance(error, str):
        return error or None, None, None
    if not isinstance(error, dict):
        return None, None, None
    message = error.get("message")
    text = str(message) if message else _detail_text(error.get("detail"))
    param, code = error.get("param"), error.get("code")
    return text, param if isinstance(param, str) else None, code if isinstance(code, str) else None


def _choice(raw: dict[str, Any], passed: bool) -> Choice:
    """One response choice; for a pass-through request, with the message's other fields and logprobs as given."""
    message = raw["message"]
    choice = Choice(text=message.get("content") or "", finish_reason=raw.get("finish_reason"))
    if not passed:
        return choice
    fields = {k: v for k, v in message.items() if k not in ("role", "content") and v is not None}
    if message.get("content") is None:  # a tool call without text: sent back as the upstream gave it
        fields["content"] = None
    logprobs = raw.get("logprobs")
    return choice.model_copy(update={"fields": fields, "logprobs": logprobs if isinstance(logprobs, dict) else None})


def _output(model: str, request: dict[str, Any], response: dict[str, Any], passed: bool = False) -> BackendOutput:
    """A chat-completion response (plain JSON) as a `BackendOutput`, choices in index order.

    `passed`: the request passed fields through, so each choice keeps its message's other fields and logprobs.
    """
    try:
        raw_choices = sorted(response["choices"], key=lambda c: c.get("index", 0))
        choices = [_choice(c, passed) for c in raw_choices]
    except (KeyError, TypeError, AttributeError) as exc:
        raise BackendError(f"openai: not a chat completion ({type(exc).__name__}: {exc}): {response!r:.300}") from exc
    usage = Usage()
    if isinstance(response.get("usage"), dict):
        usage = Usage(
            prompt_tokens=response["usage"].get("prompt_tokens") or 0,
            completion_tokens=response["usage"].get("completion_tokens") or 0,
        )
    return BackendOutput(
        model=response.get("model") or model,
        choices=choices,
        usage=usage,
        call=ModelCall(request=request, response=response),
    )


_POOLS: dict[asyncio.AbstractEventLoop, tuple[aiohttp.ClientSession, AsyncGenerator[None, None]]] = {}
"""Each running loop's shared connection pool, with the suspended generator that closes it (and drops the entry)
when the loop finalises its async generators."""


async def _pool_of(loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Suspended once started; closes `session` when `loop` finalises async generators.

    asyncio.run, asyncio.Runner and uvicorn finalise them before closing the loop, so backends used across several
    `asyncio.run` calls (one per chat turn, `generate_sync`) leave no pool open on a dead loop.
    """
    try:
        yield
    finally:
        if loop in _POOLS and _POOLS[loop][0] is session:
            del _POOLS[loop]
        await session.close()


async def shared_pool() -> aiohttp.ClientSession:
    """The running event loop's HTTP connection pool, shared by every OpenAI backend (a pool cannot change loops).

    No connection limit: each `Backend` already bounds its requests in flight, and a pool smaller than their sum
    would queue requests behind it. Per-backend settings (timeout, headers, proxy) go with each request.
    """
    loop = asyncio.get_running_loop()
    entry = _POOLS.get(loop)
    if entry is not None and not entry[0].closed:
        return entry[0]
    # The proxy is resolved once per backend (`env_proxy`): aiohttp's trust_env would look up the environment and
    # ~/.netrc in a worker thread on every request, two thread hops that cost a tenth of the throughput.
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trust_env=False)
    closer = _pool_of(loop, session)
    await anext(closer)
    _POOLS[loop] = (session, closer)
    return session


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTP(S)_PROXY, ALL_PROXY, minus NO_PROXY), as the SDK does."""
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    host = (parts.hostname or "").lower()
    for entry in proxies.get("no", "").lower().replace(" ", "").split(","):
        entry = entry.lstrip(".")
        if entry and (entry == "*" or host == entry or host.endswith("." + entry)):
            return None
    return proxy or None


class OpenAIBackendAPI(BackendAPI):
    """Chat completions over HTTP. Address: `openai/<model>`; `base_url` picks the server."""

    provider: ClassVar[str] = "openai"
    can_stream: ClassVar[bool] = True
    supports_n: ClassVar[bool] = True
    passes_through: ClassVar[bool] = True
    default_model: ClassVar[str] = "gpt-4o-mini"

    class Options(ProviderOptions):
        """What `get_backend("openai/...", ...)` accepts besides `base_url`."""

        api_key: str | None = None
        """The key; default: PERSONAE_OPENAI_API_KEY or OPENAI_API_KEY (a local server needs none)."""
        timeout: float = Field(default=120.0, gt=0)
        """Seconds before a request is abandoned (and retried)."""
        transport: Transport = "aiohttp"
        """`aiohttp` (pooled, cheaper per request) or `sdk` (the official client for everything)."""

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        transport: Transport = "aiohttp",
        **options: Any,
    ) -> None:
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        super().__init__(model=model, base_url=base_url, **options)
        key = api_key or next((os.environ[v] for v in KEY_ENV_VARS if os.environ.get(v)), None)
        if key is None:
            if base_url is None:
                raise BackendError(
                    f"no API key for openai: set {' or '.join(KEY_ENV_VARS)}, "
                    "or pass --base-url for a local server that needs none"
                )
            key = "not-needed"  # local servers (vLLM, Ollama, llama.cpp) accept any key
        if transport not in ("aiohttp", "sdk"):
            raise BackendError(f"openai: unknown transport {transport!r}; use 'aiohttp' or 'sdk'")
        self.transport: Transport = transport
        self._key = key
        self._timeout = timeout
        self._url = (base_url or "https://api.openai.com/v1").rstrip("/") + "/chat/completions"
        self._headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        for header, variable in (("OpenAI-Organization", "OPENAI_ORG_ID"), ("OpenAI-Project", "OPENAI_PROJECT_ID")):
            if api_key is None and os.environ.get(variable):  # the environment's account goes with its key only
                self._headers[header] = os.environ[variable]
        self._proxy = env_proxy(self._url)
        self._http_timeout = aiohttp.ClientTimeout(total=timeout)
        self._sdk_client: openai.AsyncOpenAI | None = None

    @property
    def _client(self) -> openai.AsyncOpenAI:
        """The official SDK client, built on first use (building one loads a TLS context: about 20 ms)."""
        if self._sdk_client is None:
            self._sdk_client = openai.AsyncOpenAI(
                api_key=self._key, base_url=self.base_url, max_retries=0, timeout=self._timeout
            )
        return self._sdk_client

    def _request(self, messages: Sequence[Message], config: GenerateConfig) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content, **(m.fields or {})} for m in messages],
            "temperature": config.temperature,
            **config.pass_through,
        }
        if config.n != 1:
            request["n"] = config.n
        if config.top_p is not None:
            request["top_p"] = config.top_p
        if config.max_tokens is not None:
            request["max_tokens"] = config.max_tokens
        if config.seed is not None:
            request["seed"] = config.seed
        if config.stop:
            request["stop"] = list(config.stop)
        return request

    async def generate(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
        """One chat-completions request returning `config.n` choices."""
        request = self._request(messages, config)
        if self.transport == "sdk":
            try:
                response = await self._client.chat.completions.create(**request)
            except openai.OpenAIError as exc:
                raise _translate_error(exc, list(config.pass_through)) from exc
            except ValueError as exc:  # the SDK lets a 200 whose body is not JSON through as a JSONDecodeError
                raise BackendError(f"openai: not a chat completion: {type(exc).__name__}: {exc}") from exc
            return _output(self.model, request, response.model_dump(mode="json"), bool(config.pass_through))
        session = await shared_pool()
        try:
            async with session.post(
                self._url,
                data=json.dumps(request),
                headers=self._headers,
                proxy=self._proxy,
                timeout=self._http_timeout,
            ) as reply:
                body = await reply.read()
                status = reply.status
        except TimeoutError as exc:
            raise RetryableBackendError(f"openai: APITimeoutError: no reply within {self._timeout} s") from exc
        except aiohttp.ClientError as exc:
            raise RetryableBackendError(f"openai: APIConnectionError: {type(exc).__name__}: {exc}") from exc
        if status >= 400:
            raise _status_error(status, body, list(config.pass_through))
        try:
            response = json.loads(body)
        except ValueError as exc:
            raise BackendError(f"openai: HTTP {status} but not JSON: {body[:300]!r}") from exc
        if not isinstance(response, dict):
            raise BackendError(f"openai: HTTP {status} but not a chat completion: {body[:300]!r}")
        return _output(self.model, request, response, bool(config.pass_through))

    async def stream(self, messages: Sequence[Message], config: GenerateConfig) -> AsyncIterator[StreamChunk]:
        """Server-sent events from the chat-completions endpoint, one chunk per delta."""
        request = self._request(messages, config)
        try:
            stream = await self._client.chat.completions.create(**request, stream=True)
            async for event in stream:
                usage = None
                if event.usage is not None:
                    usage = Usage(
                        prompt_tokens=event.usage.prompt_tokens, completion_tokens=event.usage.completion_tokens
                    )
                text = ""
                finish = None
                if event.choices:
                    text = event.choices[0].delta.content or ""
                    finish = event.choices[0].finish_reason
                if text or finish or usage:
                    yield StreamChunk(text=text, finish_reason=finish, usage=usage)
        except openai.OpenAIError as exc:
            raise _translate_error(exc) from exc

    def redact(self, text: str) -> str:
        """`text` with the server's address and the API key hidden (`BackendAPI.redact`)."""
        text = super().redact(text)
        if self._key == "not-needed":
            return text
        return re.sub(rf"(?<![\w-]){re.escape(self._key)}(?![\w-])", "<key>", text)

    async def aclose(self) -> None:
        """Close the SDK client; the shared aiohttp pool belongs to the event loop and closes with it."""
        if self._sdk_client is not None:
            await self._sdk_client.close()
