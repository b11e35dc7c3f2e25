"""Several endpoints of one service, tried in turn when one cannot be reached at all.

As the SDK does with ``HUAWEICLOUD_SDK_REGION_KPS_<REGION>=https://a,https://b``: a request
that cannot connect (refused, no route, no such host) goes to the next endpoint at once, and
later requests start from the one that answered. Any other failure (a time-out, a 5xx) is the
answer of a reachable service, and is left to the engine's schedule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from .._errors import Unreachable
from .._http._client import proxy_for

__all__ = ["Failover"]

T = TypeVar("T")


class Failover:
    def __init__(self, endpoints: Sequence[str]) -> None:
        if not endpoints:
            raise ValueError("at least one endpoint is needed")
        self.endpoints = tuple(endpoints)
        # Read once: the environment does not change during a run, and polls are many.
        self._proxies = {endpoint: proxy_for(endpoint) for endpoint in self.endpoints}
        self._current = 0

    @property
    def current(self) -> str:
        return self.endpoints[self._current]

    async def call(self, request: Callable[[str, str | None], Awaitable[T]]) -> T:
        """``request(endpoint, proxy)`` on the current endpoint, then the next ones while
        none can be reached; the last one's error when no endpoint answers."""
        start = self._current
        for step in range(len(self.endpoints)):
            index = (start + step) % len(self.endpoints)
            endpoint = self.endpoints[index]
            try:
                result = await request(endpoint, self._proxies[endpoint])
            except Unreachable:
                if step == len(self.endpoints) - 1:
                    raise
                continue
            self._current = index
            return result
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
