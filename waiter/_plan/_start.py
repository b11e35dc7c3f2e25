"""Start-up: what a Waiter does once, on the network, before the first poll.

Temporary credentials (then kept fresh in the background): from the ECS metadata service, or
in exchange for an ID token (IAM's ID-token federation, an STS OIDC agency) or a pod's
identity token (``_auth/_exchange``), with the IAM and STS endpoints resolved here from the
settings and the region; and the project ID from IAM when AK/SK come without one. The plan
(``_plan.py``) has already decided whether either is needed; a failure here is a ConfigError
saying what to fix, since nothing has been polled yet. The result, :class:`Access`, is what
the task API client is made with.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from .._auth._exchange import fetcher_for
from .._auth._headers import HeaderAuth, NoAuth, SigningAuth, TokenAuth
from .._auth._metadata import fetch_temporary_keys, keep_fresh
from .._auth._sources import Credentials, Exchange, IdTokenFederation, OidcAgency, PodIdentity
from .._config._settings import Settings, how_to_set, made_in, named
from .._config._table import shown
from .._errors import ApiError, ConfigError
from .._event_log import EventLog
from .._http._client import Auth, retry_transient
from ._iam import look_up_project_id
from ._plan import Plan, insecure_http_fix, is_loopback
from ._regions import iam_endpoint_for, sts_endpoint_for

__all__ = ["Access", "exchange_endpoint", "start", "start_up_work"]

# The SDK's endpoints when no region says otherwise (IamHelper, StsHelper).


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
            fix=_unknown_region_fix(plan.settings),
        )
    refresher = None
    found = plan.credentials
    base: TokenAuth | SigningAuth | NoAuth
    if found.kind == "ecs-metadata":
        base, refresher = await _from_metadata(session, plan, logger)
    elif found.exchange is not None:
        base, refresher = await _from_exchange(session, plan.settings, found, logger)
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


def _unknown_region_fix(settings: Settings) -> str:
    fix = f"if the endpoint is wrong, set {how_to_set(settings, 'endpoint')}"
    # The SDK's per-region variable is read by load_settings only.
    if made_in(settings) != "code":
        fix += "; or the SDK's HUAWEICLOUD_SDK_REGION_KPS_<REGION> variable"
    return fix


def start_up_work(plan: Plan) -> str:
    """What start-up does for this plan, for the message of one that ran out of time."""
    work = []
    if plan.credentials.kind == "ecs-metadata":
        work.append(f"fetching temporary credentials from {plan.credentials.metadata_url}")
    exchange = plan.credentials.exchange
    if exchange is not None:
        work.append(
            f"fetching temporary credentials from {exchange_endpoint(plan.settings, exchange)}"
        )
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
            f"no temporary credentials from {found.source}: {error}; or give credentials "
            f"another way and set {named(plan.settings, 'source')} back to auto",
            setting="source",
        ) from None
    logger.info("credentials_fetched", source=url, expires_at=temporary.expires_at.isoformat())
    auth = SigningAuth(temporary.keys, source=found.source)
    refresher = asyncio.create_task(
        keep_fresh(
            auth,
            lambda: fetch_temporary_keys(session, url),
            temporary.expires_at,
            source=url,
            logger=logger,
        ),
        name="waiter:refresh-credentials",
    )
    return auth, refresher


def exchange_endpoint(settings: Settings, exchange: Exchange) -> str:
    """Where ``exchange`` asks for keys: IAM or STS (given, else the region's), or the pod URI.

    IAM: the profile file's ``iam_endpoint``, else ``auth.iam_endpoint`` (or
    HUAWEICLOUD_SDK_IAM_ENDPOINT), else the region's, else the SDK's global one. STS:
    ``auth.sts_endpoint`` (or HUAWEICLOUD_SDK_STS_ENDPOINT), else the region's, else the SDK's.
    """
    region = settings.region
    if isinstance(exchange, PodIdentity):
        return exchange.uri
    if isinstance(exchange, IdTokenFederation):
        template = exchange.iam_endpoint or settings.iam_endpoint
        default = iam_endpoint_for(region)
    else:
        template = settings.sts_endpoint
        default = sts_endpoint_for(region)
    if template is None:
        return default
    if "{region}" in template and not region:
        raise ConfigError(
            f"the endpoint {shown(template, bare=True)} holds {{region}} but no region is set: "
            f"set {how_to_set(settings, 'region')}",
            setting="region",
        )
    return template.replace("{region}", region or "").rstrip("/")


def _where(
    settings: Settings, found: Credentials, exchange: Exchange, endpoint: str
) -> tuple[str, str]:
    """ "IAM at ...": who is asked; and the setting that gives that endpoint, as the user
    who made the settings names it."""
    if isinstance(exchange, IdTokenFederation):
        # The profile file's own iam_endpoint comes first, as the SDK has it.
        if exchange.iam_endpoint:
            return f"IAM at {endpoint}", f"iam_endpoint in {found.source}"
        return f"IAM at {endpoint}", named(settings, "iam_endpoint")
    if isinstance(exchange, OidcAgency):
        return f"STS at {endpoint}", named(settings, "sts_endpoint")
    return f"the pod identity endpoint {endpoint}", named(settings, "pod_credentials_uri")


def _check_endpoint(settings: Settings, exchange: Exchange, endpoint: str, given: str) -> None:
    """https, or this machine; a pod's endpoint may also be on the node's link (169.254/16),
    as the ECS metadata service is. ``allow_insecure_http`` lifts it, as for the API.
    ``given`` names the setting that gives the endpoint."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    on_link = isinstance(exchange, PodIdentity) and host.startswith("169.254.")
    if parts.scheme == "https" or settings.allow_insecure_http or is_loopback(host) or on_link:
        return
    raise ConfigError(
        f"{given} is {shown(endpoint, bare=True)}, plain http and not on this machine: the "
        f"ID token and the temporary keys would cross in clear text; "
        f"{insecure_http_fix(settings)}",
        setting=exchange.setting,
    )


async def _from_exchange(
    session: aiohttp.ClientSession, settings: Settings, found: Credentials, logger: EventLog
) -> tuple[SigningAuth, asyncio.Task[None]]:
    exchange = found.exchange
    assert exchange is not None
    endpoint = exchange_endpoint(settings, exchange)
    where, given = _where(settings, found, exchange, endpoint)
    _check_endpoint(settings, exchange, endpoint, given)
    github = exchange.github if isinstance(exchange, OidcAgency) else None
    if github is not None:
        _check_endpoint(settings, exchange, github.request_url, named(settings, "github_token_url"))
    fetch = fetcher_for(session, exchange, endpoint)
    try:
        temporary = await retry_transient(fetch)
    except ApiError as error:
        raise ConfigError(
            f"no temporary credentials from {where} for the credentials from {found.source}: "
            f"{error}; {exchange.check}",
            setting=exchange.setting,
        ) from None
    logger.info("credentials_fetched", source=where, expires_at=temporary.expires_at.isoformat())
    auth = SigningAuth(temporary.keys, source=f"temporary credentials from {found.source}")
    refresher = asyncio.create_task(
        keep_fresh(auth, fetch, temporary.expires_at, source=where, logger=logger),
        name="waiter:refresh-credentials",
    )
    return auth, refresher
