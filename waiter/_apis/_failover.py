"""Several endpoints of one service, tried in turn when one cannot be reached at all.

As the SDK does with ``HUAWEICLOUD_SDK_REGION_KPS_<REGION>=https://a,https://b``: a request
that cannot connect (refused, no route, no such host) goes to the next endpoint at once, and
later requests start from the one that answered. Any other failure (a time-out, a 5xx) is the
answer of a reachable service, and is left to the engine's schedule.
"""

from __future__ import annotations

from collections.abc import Collection, Coroutine, Sequence
from typing import Any

import aiohttp

from .._errors import Unreachable
from .._http._client import Auth, get_json, proxy_for

__all__ = ["Failover"]


class Failover:
    """One service's endpoints, the session and the credentials its requests go with."""

    def __init__(
        self, session: aiohttp.ClientSession, endpoints: Sequence[str], auth: Auth
    ) -> None:
        if not endpoints:
            raise ValueError("at least one endpoint is needed")
        self.endpoints = tuple(endpoints)
        self._session = session
        self._auth = auth
        # Read once: the environment does not change during a run, and polls are many.
        self._proxies = {endpoint: proxy_for(endpoint) for endpoint in self.endpoints}
        self._current = 0

    def get_json(
        self, path: str, not_found_codes: Collection[str] = ()
    ) -> Coroutine[Any, Any, dict[str, object]]:
        """GET ``path`` on the current endpoint, then on the next ones while none can be
        reached; the last one's error when no endpoint answers. To be awaited.

        With one endpoint there is nothing to turn to: the request itself is returned, with
        no coroutine around it (every poll comes this way).
        """
        if len(self.endpoints) == 1:
            return self._get(0, path, not_found_codes)
        return self._in_turn(path, not_found_codes)

    async def _in_turn(self, path: str, not_found_codes: Collection[str]) -> dict[str, object]:
        index = self._current
        tries_left = len(self.endpoints)
        while True:
            try:
                document = await self._get(index, path, not_found_codes)
            except Unreachable:
                tries_left -= 1
                if not tries_left:
                    raise
                index = (index + 1) % len(self.endpoints)
                continue
            self._current = index
            return document

    def _get(
        self, index: int, path: str, not_found_codes: Collection[str]
    ) -> Coroutine[Any, Any, dict[str, object]]:
        endpoint = self.endpoints[index]
        return get_json(
            self._session,
            endpoint + path,
            self._auth,
            proxy=self._proxies[endpoint],
            not_found_codes=not_found_codes,
        )
