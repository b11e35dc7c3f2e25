"""What a Waiter does once, on the network, before the first poll.

Temporary credentials from the ECS metadata service (then kept fresh in the background), and
the project ID from IAM when AK/SK come without one. Preflight (``_preflight.py``) has
already decided whether either is needed; a failure here is a ConfigError saying what to fix,
since nothing has been polled yet.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace

import aiohttp

from .._auth._headers import Auth, SigningAuth, auth_for
from .._auth._metadata import fetch_temporary_keys, keep_fresh
from .._errors import ApiError, ConfigError
from .._event_log import EventLog
from .._http._client import retry_transient
from ._iam import discover_project_id
from ._plan import Ready

__all__ = ["Started", "start"]


@dataclass
class Started:
    """What start() got: the auth to poll with, and the checked settings, project ID filled.

    ``refresher`` keeps temporary keys fresh in the background (None for other credentials);
    :meth:`close` stops it.
    """

    auth: Auth
    ready: Ready
    refresher: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self.refresher is not None:
            self.refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.refresher


async def start(session: aiohttp.ClientSession, ready: Ready, *, logger: EventLog) -> Started:
    """Fetch what the run needs; ConfigError when it cannot be had."""
    if ready.unknown_region is not None:
        logger.warning(
            "unknown_region",
            region=ready.unknown_region,
            endpoint=ready.endpoint,
            fix="if the endpoint is wrong, give it with --endpoint (or the SDK's "
            "HUAWEICLOUD_SDK_REGION_KPS_<REGION> variable)",
        )
    found = ready.credentials
    if found.kind == "ecs-metadata":
        auth, refresher = await _from_metadata(session, ready, logger)
        started = Started(auth, ready, refresher)
    else:
        started = Started(auth_for(found), ready)
    try:
        project_id = ready.project_id
        if ready.discovery is not None:
            assert isinstance(started.auth, SigningAuth)  # preflight allows no other
            project_id = await discover_project_id(
                session, ready.discovery, started.auth, logger=logger
            )
        if isinstance(started.auth, SigningAuth):
            # Shares the keys, so refreshed keys reach the API client too.
            started.auth = started.auth.for_project(project_id)
        started.ready = replace(ready, project_id=project_id, discovery=None)
    except BaseException:
        await started.close()
        raise
    return started


async def _from_metadata(
    session: aiohttp.ClientSession, ready: Ready, logger: EventLog
) -> tuple[SigningAuth, asyncio.Task[None]]:
    found = ready.credentials
    url = found.metadata_url
    assert url is not None
    try:
        temporary = await retry_transient(lambda: fetch_temporary_keys(session, url))
    except ApiError as error:
        raise ConfigError(
            f"no temporary credentials from {found.source}: {error}; or set credentials "
            'another way and drop auth.source = "ecs-metadata"',
            setting="source",
        ) from None
    logger.info("credentials_fetched", source=url, expires_at=temporary.expires_at.isoformat())
    auth = SigningAuth(temporary.keys, source=found.source)
    refresher = asyncio.create_task(
        keep_fresh(auth, session, url, temporary.expires_at, logger=logger),
        name="waiter:refresh-credentials",
    )
    return auth, refresher
