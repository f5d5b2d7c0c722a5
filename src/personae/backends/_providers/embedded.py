"""The offline default: a GGUF model run in-process by llama-cpp-python.

Address `embedded` uses the model assembled from the PyPI part packages; `embedded/<path.gguf>` runs any
local GGUF file. One loaded model is shared by every backend in the process (it costs ~2 GB of RAM),
and calls into it are serialised because a llama.cpp context is not thread-safe.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import random
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from personae.backends._api import BackendAPI, ProviderOptions
from personae.backends._errors import BackendError, ModelUnavailableError
from personae.backends._providers._weights import DEFAULT_MODEL, ensure_model
from personae.backends._types import BackendOutput, Choice, GenerateConfig, Message, StreamChunk, Usage

_models: dict[tuple[str, int], tuple[Any, threading.Lock]] = {}
_models_lock = threading.Lock()


def _close_all() -> None:
    """Free the loaded models at exit, while the interpreter still works.

    Left to `Llama.__del__` during shutdown, freeing fails once llama_cpp's module globals are gone, and a TypeError
    traceback followed e.g. every test run.
    """
    with _models_lock:
        for llm, lock in _models.values():
            with lock:
                llm.close()
        _models.clear()


def _load(path: Path, n_ctx: int, n_threads: int | None) -> tuple[Any, threading.Lock]:
    key = (str(path), n_ctx)
    with _models_lock:
        if key not in _models:
            from llama_cpp import Llama

            if not _models:
                atexit.register(_close_all)

            threads = n_threads or max(1, os.cpu_count() or 1)
            llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, verbose=False)
            _models[key] = (llm, threading.Lock())
        return _models[key]


_formatters: dict[int, Any] = {}


def _formatter(llm: Any) -> Any:
    """The chat template of a loaded model as a formatter that ends at the reply's opening (cached per model)."""
    key = id(llm)
    if key not in _formatters:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise BackendError("embedded: the model has no chat template, so a reply cannot be continued from a prefix")
        eos, bos = llm.token_eos(), llm.token_bos()
        _formatters[key] = Jinja2ChatFormatter(
            template=template,
            eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
            bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
            add_generation_prompt=True,
        )
    return _formatters[key]


class EmbeddedBackendAPI(BackendAPI):
    """llama.cpp in this process; n candidates reuse the prompt's KV cache, so extra ones cost decode only."""

    provider: ClassVar[str] = "embedded"
    can_stream: ClassVar[bool] = True
    supports_n: ClassVar[bool] = True
    supports_prefix: ClassVar[bool] = True
    default_model: ClassVar[str] = DEFAULT_MODEL.name

    class Options(ProviderOptions):
        """What `get_backend("embedded", ...)` accepts."""

        n_ctx: int = Field(default=4096, ge=64)
        """Context window in tokens (prompt plus reply)."""
        n_threads: int | None = Field(default=None, ge=1)
        """CPU threads llama.cpp uses; default: every core."""

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model=model, base_url=base_url, **options)
        self.n_ctx = n_ctx
        self.n_threads = n_threads

    def _model_path(self) -> Path:
        if self.model == DEFAULT_MODEL.name:
            return ensure_model()
        path = Path(self.model).expanduser()
        if not path.is_file():
            raise ModelUnavailableError(
                f"embedded model '{self.model}' is neither the default ({DEFAULT_MODEL.name}) nor a GGUF file"
            )
        return path

    def _llm(self) -> tuple[Any, threading.Lock]:
        return _load(self._model_path(), self.n_ctx, self.n_threads)

    def count_tokens(self, text: str) -> int | None:
        """Exact count with the model's own tokenizer (loads the model on first use)."""
        llm, lock = self._llm()
        with lock:
            return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _kwargs(self, messages: Sequence[Message], config: GenerateConfig, index: int) -> dict[str, Any]:
        """llama.cpp arguments of candidate `index`: its own seed and temperature (`GenerateConfig.for_candidate`)."""
        config = config.for_candidate(index)
        kwargs: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": config.temperature,
            "max_tokens": config.max_tokens,
            "seed": config.seed if config.seed is not None else random.randrange(2**31),
        }
        if config.top_p is not None:
            kwargs["top_p"] = config.top_p
        if config.stop:
            kwargs["stop"] = list(config.stop)
        return kwargs

    def _continued(self, llm: Any, messages: Sequence[Message], config: GenerateConfig, index: int) -> dict[str, Any]:
        """llama.cpp completion arguments that continue the reply from `config.prefix`.

        The chat API would close a trailing assistant message and open a new one, so the prompt is rendered with the
        model's own chat template up to the reply's opening, and the prefix is written after it.
        """
        formatter = _formatter(llm)
        rendered = formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
        kwargs = self._kwargs(messages, config, index)
        del kwargs["messages"]
        kwargs["prompt"] = rendered.prompt + (config.prefix or "")
        kwargs["stop"] = [*kwargs.get("stop", ()), *(rendered.stop or ())]
        return kwargs

    def _generate_blocking(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
        llm, lock = self._llm()
        choices: list[Choice] = []
        usage = Usage()
        with lock:
            for i in range(config.n):
                try:
                    if config.prefix is None:
                        result = llm.create_chat_completion(**self._kwargs(messages, config, i))
                        text = result["choices"][0]["message"]["content"] or ""
                    else:
                        result = llm.create_completion(**self._continued(llm, messages, config, i))
                        text = result["choices"][0]["text"] or ""
                except ValueError as exc:  # llama.cpp reports context overflow this way
                    raise BackendError(f"embedded: {exc}") from exc
                choice = result["choices"][0]
                choices.append(Choice(text=text, finish_reason=choice["finish_reason"]))
                u = result.get("usage") or {}
                # The prompt is evaluated once and reused from the KV cache by later candidates.
                prompt_tokens = int(u.get("prompt_tokens", 0)) if i == 0 else 0
                usage = usage + Usage(prompt_tokens=prompt_tokens, completion_tokens=int(u.get("completion_tokens", 0)))
        return BackendOutput(model=self.model, choices=choices, usage=usage)

    async def generate(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
        """Generate `config.n` candidates in a worker thread."""
        return await asyncio.to_thread(self._generate_blocking, messages, config)

    def _stream_blocking(self, messages: Sequence[Message], config: GenerateConfig) -> Iterator[StreamChunk]:
        llm, lock = self._llm()
        with lock:
            completion = 0
            for event in llm.create_chat_completion(**self._kwargs(messages, config, 0), stream=True):
                choice = event["choices"][0]
                text = choice.get("delta", {}).get("content") or ""
                if text:
                    completion += 1
                finish = choice.get("finish_reason")
                yield StreamChunk(text=text, finish_reason=finish)
            # Stream chunks carry no usage; the context now holds prompt + generated tokens.
            prompt = max(0, int(llm.n_tokens) - completion)
            yield StreamChunk(usage=Usage(prompt_tokens=prompt, completion_tokens=completion))

    async def stream(self, messages: Sequence[Message], config: GenerateConfig) -> AsyncIterator[StreamChunk]:
        """Run the blocking llama.cpp stream in a thread and hand chunks to the event loop as they come."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[StreamChunk | BaseException | None] = asyncio.Queue()

        def pump() -> None:
            try:
                for chunk in self._stream_blocking(messages, config):
                    loop.call_soon_threadsafe(queue.put_nowait, chunk)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        worker = threading.Thread(target=pump, name="personae-embedded-stream", daemon=True)
        worker.start()
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                if isinstance(item, ValueError):
                    raise BackendError(f"embedded: {item}") from item
                raise item
            yield item
