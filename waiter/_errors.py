"""The exceptions waiter raises: bad configuration, and what a task API answered."""

from __future__ import annotations

from ._lazy import TYPE_CHECKING
from ._redact import redact

if TYPE_CHECKING:
    from typing import ClassVar

__all__ = [
    "ApiError",
    "AuthError",
    "BadAnswer",
    "ConfigError",
    "EndpointError",
    "NotFound",
    "PermissionDenied",
    "RequestRejected",
    "TransientError",
    "Unreachable",
    "WaiterError",
]


class WaiterError(Exception):
    """Base class of every error waiter raises on purpose.

    Its message is redacted when it is made (:func:`waiter._redact.redact`): a message that
    quotes a server, which may echo request headers, never carries a secret into a log, a
    result, a traceback or a caller's own handling.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigError(WaiterError):
    """A setting is missing or wrong; the message names it and says how to fix it.

    Raised before anything is polled. The command line turns it into one line on stderr and
    exit code 2. ``setting`` names the setting at fault, where there is one.
    """

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class ApiError(WaiterError):
    """A task API answered with an error, or could not be reached.

    Keeps what the cloud said (``code``, ``message``) and the ``request_id`` support needs to
    trace the call. ``retryable`` tells the engine whether to try again on the schedule.
    ``encoded_authorization_message`` is the diagnosis blob some refusals (403s, mostly) carry,
    as the official SDK exposes it: IAM can decode it to say which policy denied what.
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        encoded_authorization_message: str | None = None,
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        # Also from the server's answer, and in str(): redacted like the message.
        self.code = redact(code) if code else code
        self.request_id = redact(request_id) if request_id else request_id
        # Seconds the server asked us to wait before the next try (Retry-After).
        self.retry_after = retry_after
        self.encoded_authorization_message = (
            redact(encoded_authorization_message)
            if encoded_authorization_message
            else encoded_authorization_message
        )

    def __str__(self) -> str:
        # Code first, as Huawei's consoles show it; then what support needs to trace the call.
        # A code that is only the status again (an answer without one, as the SDK fills it in)
        # is not repeated: "Service Unavailable (HTTP 503)", not "503: ... (HTTP 503)".
        shown_code = self.code if self.code and self.code != str(self.http_status) else None
        text = f"{shown_code}: {self.message}" if shown_code else self.message
        trace = [f"HTTP {self.http_status}"] if self.http_status is not None else []
        if self.request_id:
            trace.append(f"request ID {self.request_id}")
        return f"{text} ({', '.join(trace)})" if trace else text


class AuthError(ApiError):
    """401: the credentials were refused. Every task stops: retries would lock the key."""


class PermissionDenied(ApiError):
    """403: the credentials are valid but lack a permission."""


class NotFound(ApiError):
    """The task is not known (yet): retried for ``not_found_grace`` seconds."""

    retryable = True


class EndpointError(ApiError):
    """The request went to the wrong place: unknown API, or a redirect elsewhere."""


class RequestRejected(ApiError):
    """Any other 4xx: the request itself is wrong and will not get better by repeating it."""


class TransientError(ApiError):
    """Throttling, 5xx, a dropped connection or a time-out: worth another try."""

    retryable = True


class Unreachable(TransientError):
    """The endpoint could not be reached at all (refused, no route, no such host): another
    endpoint of the same service may answer."""


class BadAnswer(TransientError):
    """A 200 whose body is not the JSON we expect (a proxy's HTML page, a cut-off body)."""
