"""Errors raised by backends; each message says how to fix the problem."""

from __future__ import annotations


class BackendError(Exception):
    """A backend request failed and retrying will not help."""


class RetryableBackendError(BackendError):
    """A transient failure (timeout, connection reset, HTTP 429 or 5xx) worth retrying with backoff."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RejectedRequestError(BackendError):
    """The upstream refused the request itself (an HTTP 4xx other than 429): sending it again will not help.

    Besides the message, it keeps what the upstream said, so a server relaying a client's request (fields passed
    through to its upstream) can answer that client with the upstream's own reason.
    """

    def __init__(
        self,
        message: str,
        status_code: int,
        reason: str,
        param: str | None = None,
        code: str | None = None,
        passed_through: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        """The upstream's HTTP status."""
        self.reason = reason
        """The upstream's own error message (its `error.message`), without personae's prefix."""
        self.param = param
        """The request field the upstream names as at fault (`error.param`), if it names one."""
        self.code = code
        """The upstream's error code (`error.code`), if it gives one."""
        self.passed_through = passed_through
        """The fields the refused request passed through as given (`GenerateConfig.pass_through`): none for a
        request personae built itself (a guarded reply, a memory summary), whose refusal is no client's doing."""


class BackendNotFoundError(BackendError):
    """No provider is registered under the requested name."""


class MissingDependencyError(BackendError):
    """The provider needs an optional dependency that is not installed."""

    def __init__(self, provider: str, package: str, extra: str) -> None:
        super().__init__(f"the '{provider}' backend needs the '{package}' package: pip install 'personae[{extra}]'")
        self.provider = provider
        self.package = package
        self.extra = extra


class BackendOptionError(BackendError):
    """A provider was given an option it does not declare, or a value its options model refuses."""

    def __init__(self, message: str, address: str, option: str, known: list[str]) -> None:
        super().__init__(message)
        self.address = address
        """The backend address the option was given to."""
        self.option = option
        """The offending option."""
        self.known = known
        """The options the provider declares."""


class ModelUnavailableError(BackendError):
    """Model weights are missing or do not match their expected hash."""
