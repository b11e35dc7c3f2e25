"""Start-up: what a Waiter does once, on the network, before the first poll.

Temporary credentials from the ECS metadata service (then kept fresh in the background), and
the project ID from IAM when AK/SK come without one. The plan (``_plan.py``) has already
decided whether either is needed; a failure here is a ConfigError saying what to fix, since
nothing has been polled yet. The result, :class:`Access`, is what the task API client is made
with.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import aiohttp

from .._auth._headers import HeaderAuth, NoAuth, SigningAuth, TokenAuth
from .._auth._metadata import fetch_temporary_keys, keep_fresh
from .._errors import ApiError, ConfigError
from .._event_log import EventLog
from .._http._client import Auth, retry_transient
from ._iam import look_up_project_id
from ._plan import Plan

__all__ = ["Access", "start", "start_up_work"]


@dataclass
class Access:
    """What start-up got: the auth every request is sent with, and the project ID to use.

    ``refresher`` keeps temporary keys fresh in the background (None for other credentials);
    :meth:`close` stops it.
    """

    auth: Auth
    project_id: str | None
    refresher: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self.refresher is not None:
            self.refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.refresher


async def start(session: aiohttp.ClientSession, plan: Plan, *, logger: EventLog) -> Access:
    """Fetch what the run needs; ConfigError when it cannot be had."""
    if plan.unknown_region is not None:
        logger.warning(
            "unknown_region",
            region=plan.unknown_region,
            endpoint=plan.endpoint,
            fix="if the endpoint is wrong, give it with --endpoint (or the SDK's "
            "HUAWEICLOUD_SDK_REGION_KPS_<REGION> variable)",
        )
    refresher = None
    found = plan.credentials
    base: TokenAuth | SigningAuth | NoAuth
    if found.kind == "ecs-metadata":
        base, refresher = await _from_metadata(session, plan, logger)
    elif found.token is not None:
        base = TokenAuth(found.token, found.source)
    elif found.keys is not None:
        base = SigningAuth(found.keys, source=found.source)
    else:
        base = NoAuth()
    try:
        project_id = plan.project_id
        if plan.lookup is not None:
            assert isinstance(base, SigningAuth)  # the plan allows no other
            project_id = await look_up_project_id(session, plan.lookup, base, logger=logger)
        if isinstance(base, SigningAuth):
            # Shares the keys, so refreshed keys reach the API client too.
            base = base.for_project(project_id)
    except BaseException:
        if refresher is not None:
            await Access(base, None, refresher).close()
        raise
    # ``auth`` is the Huawei credentials (NoAuth unless api.huawei_auth asked for them); the
    # API's own header, when given, goes on top.
    auth: Auth = base if plan.api_header is None else HeaderAuth(plan.api_header, base)
    return Access(auth, project_id, refresher)


def start_up_work(plan: Plan) -> str:
    """What start-up does for this plan, for the message of one that ran out of time."""
    work = []
    if plan.credentials.kind == "ecs-metadata":
        work.append(f"fetching temporary credentials from {plan.credentials.metadata_url}")
    if plan.lookup is not None:
        work.append(f"looking up the project ID from IAM at {plan.lookup.iam_endpoint}")
    return " and ".join(work) or "preparing the first request"


async def _from_metadata(
    session: aiohttp.ClientSession, plan: Plan, logger: EventLog
) -> tuple[SigningAuth, asyncio.Task[None]]:
    found = plan.credentials
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
