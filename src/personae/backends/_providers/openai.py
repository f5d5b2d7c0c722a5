"""Any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, llama.cpp server) through the official SDK.

The SDK's own retries are switched off: `Backend` retries once for every provider.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

import openai

from personae.backends._api import BackendAPI
from personae.backends._errors import BackendError, RetryableBackendError
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


def _translate_error(exc: Exception) -> BackendError:
    """Map SDK exceptions to personae's: timeouts, connection errors, 429 and 5xx are retryable."""
    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError):
        return RetryableBackendError(f"openai: {type(exc).__name__}: {exc}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = f"openai: HTTP {status}: {exc.message}"
        if status == 429 or status >= 500:
            return RetryableBackendError(message, status_code=status)
        if status == 401:
            return BackendError(message + f" (set {' or '.join(KEY_ENV_VARS)} to a valid key)")
        return BackendError(message)
    return BackendError(f"openai: {type(exc).__name__}: {exc}")


class OpenAIBackendAPI(BackendAPI):
    """Chat completions over HTTP. Address: `openai/<model>`; `base_url` picks the server."""

    provider: ClassVar[str] = "openai"
    can_stream: ClassVar[bool] = True
    supports_n: ClassVar[bool] = True
    default_model: ClassVar[str] = "gpt-4o-mini"

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
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
        self._client = openai.AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0, timeout=timeout)

    def _request(self, messages: Sequence[Message], config: GenerateConfig) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": config.temperature,
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
        try:
            response = await self._client.chat.completions.create(**request)
        except openai.OpenAIError as exc:
            raise _translate_error(exc) from exc
        choices = [
            Choice(text=c.message.content or "", finish_reason=c.finish_reason)
            for c in sorted(response.choices, key=lambda c: c.index)
        ]
        usage = Usage()
        if response.usage is not None:
            usage = Usage(
                prompt_tokens=response.usage.prompt_tokens, completion_tokens=response.usage.completion_tokens
            )
        return BackendOutput(
            model=response.model or self.model,
            choices=choices,
            usage=usage,
            call=ModelCall(request=request, response=response.model_dump(mode="json")),
        )

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

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()
