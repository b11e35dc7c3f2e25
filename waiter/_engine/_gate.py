"""Until the credentials are seen to work, requests go out one at a time.

Huawei's gateway locks an access key for a while after repeated bad signatures. With wrong
credentials and 32 requests in flight, 32 refusals would arrive before the first 401 could stop
the others; through the gate, the first request finds out alone. The first answer that shows
the credentials were accepted opens the gate for the rest of the run, so this costs a healthy
run one round trip of waiting, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .._errors import ApiError, AuthError

__all__ = ["CredentialGate"]

T = TypeVar("T")

# Answers that say nothing about the credentials: throttling, and faults past the gateway's
# authentication, which may well come before it.
_NO_VERDICT = frozenset({429})


class CredentialGate:
    """``open`` once the credentials worked; until then :meth:`through` lets one call at a time."""

    def __init__(self) -> None:
        self.open = False
        self._one_at_a_time = asyncio.Lock()
        self._refused: AuthError | None = None

    async def through(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, alone; a call queued behind a refused one gets that 401 without sending."""
        async with self._one_at_a_time:
            if self._refused is not None:
                raise self._refused
            if self.open:
                return await call()
            try:
                result = await call()
            except AuthError as error:
                self._refused = error
                raise
            except ApiError as error:
                status = error.http_status
                if status is not None and status < 500 and status not in _NO_VERDICT:
                    self.open = True  # 403, 404 ...: the gateway accepted the credentials first
                raise
            self.open = True
            return result
