"""Temporary keys got on the network in exchange for something else: the keyless sources.

Each makes the requests the official SDK makes (``huaweicloudsdkcore.auth.internal``):

- **ID-token federation** (:class:`IdTokenFederation`): ``POST {iam}/v3.0/OS-AUTH/id-token/tokens``
  with ``X-Idp-Id`` and the ID token gives an unscoped token (``X-Subject-Token``); ``POST
  {iam}/v3.0/OS-CREDENTIAL/securitytokens`` with that token gives temporary keys.
- **An OIDC agency** (:class:`OidcAgency`): ``POST {sts}/v5/agencies/assume-with-oidc`` with the
  provider and agency URNs and the ID token gives the agency's temporary keys. On GitHub
  Actions the ID token itself may be asked for first (:func:`fetch_github_id_token`).
- **Pod identity** (:class:`PodIdentity`): ``POST {uri}`` with ``Authorization`` from the token
  file and body ``{}``.

Token files are read anew for each exchange (they are rotated); every token and key read or
received is registered with ``_redact`` at once. Redirects are never followed, so credentials
go only to the hosts configured. Where the endpoints are (a region's IAM and STS) is decided by
the caller (``_plan/_start``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import quote

import aiohttp

from .._errors import BadAnswer
from .._http._client import proxy_for, send
from .._http._errors import error_from_answer, parse_json
from .._redact import remember_secrets
from ._metadata import Temporary, parse_temporary
from ._sources import (
    FEDERATION_DURATION,
    Exchange,
    GithubIdToken,
    IdTokenFederation,
    OidcAgency,
    PodIdentity,
    read_id_token,
)

__all__ = [
    "ASSUME_WITH_OIDC_PATH",
    "ID_TOKEN_PATH",
    "SECURITY_TOKENS_PATH",
    "fetch_federated",
    "fetch_github_id_token",
    "fetch_oidc",
    "fetch_pod",
    "fetcher_for",
]

ID_TOKEN_PATH = "/v3.0/OS-AUTH/id-token/tokens"  # noqa: S105 - a path, not a secret
SECURITY_TOKENS_PATH = "/v3.0/OS-CREDENTIAL/securitytokens"
ASSUME_WITH_OIDC_PATH = "/v5/agencies/assume-with-oidc"
_JSON = "application/json;charset=UTF-8"  # the SDK's Content-Type for these requests
# An unscoped token is a few KiB; it goes back in the next request's body.
_MAX_TOKEN = 64 * 1024

Fetch = Callable[[], Awaitable[Temporary]]


def fetcher_for(session: aiohttp.ClientSession, exchange: Exchange, endpoint: str) -> Fetch:
    """The fetch of fresh keys for ``exchange``; ``endpoint`` is IAM's or STS's (unused for a
    pod, whose URI is its own)."""
    if isinstance(exchange, IdTokenFederation):
        return lambda: fetch_federated(session, exchange, endpoint)
    if isinstance(exchange, OidcAgency):
        return lambda: fetch_oidc(session, exchange, endpoint)
    return lambda: fetch_pod(session, exchange)


async def fetch_federated(
    session: aiohttp.ClientSession, federation: IdTokenFederation, iam_endpoint: str
) -> Temporary:
    """ID token -> unscoped token -> temporary keys, as the SDK's ``FederalAccessor`` does."""
    where = f"the ID token file {federation.id_token_file}"
    id_token = read_id_token(federation.id_token_file, where, federation.check, federation.setting)
    status, body, headers = await _send(
        session,
        "POST",
        f"{iam_endpoint}{ID_TOKEN_PATH}",
        {"X-Idp-Id": federation.idp_id, "Content-Type": _JSON},
        {"auth": {"id_token": {"id": id_token}}},
    )
    if status not in (200, 201):
        raise error_from_answer(status, body, headers)
    unscoped = (headers.get("X-Subject-Token") or "").strip()
    if not unscoped or len(unscoped) > _MAX_TOKEN:
        raise BadAnswer("IAM's answer to the ID token has no X-Subject-Token header")
    remember_secrets(unscoped)
    request = {
        "auth": {
            "identity": {
                "methods": ["token"],
                "token": {"id": unscoped, "duration_seconds": FEDERATION_DURATION},
            }
        }
    }
    status, body, headers = await _send(
        session,
        "POST",
        f"{iam_endpoint}{SECURITY_TOKENS_PATH}",
        {"Content-Type": _JSON},
        request,
    )
    if status not in (200, 201):
        raise error_from_answer(status, body, headers)
    return parse_temporary(body, "IAM")


async def fetch_oidc(
    session: aiohttp.ClientSession, agency: OidcAgency, sts_endpoint: str
) -> Temporary:
    """The agency's temporary keys for an ID token, as the SDK's ``OidcStsAccessor`` asks."""
    id_token = agency.id_token
    if id_token is None and agency.token_file is not None:
        id_token = read_id_token(
            agency.token_file, f"the ID token file {agency.token_file}", agency.check,
            "oidc_token_file",
        )  # fmt: skip
    if id_token is None and agency.github is not None:
        id_token = await fetch_github_id_token(session, agency.github)
    assert id_token is not None  # _sources makes no agency without one of the three
    payload: dict[str, object] = {
        "provider_urn": agency.provider_urn,
        "agency_urn": agency.agency_urn,
        "agency_session_name": agency.session_name,
        "id_token": id_token,
        "duration_seconds": agency.duration_seconds,
    }
    if agency.policy:
        payload["policy"] = agency.policy
    if agency.policy_ids:
        payload["policy_ids"] = list(agency.policy_ids)
    status, body, headers = await _send(
        session, "POST", f"{sts_endpoint}{ASSUME_WITH_OIDC_PATH}", {"Content-Type": _JSON}, payload
    )
    if status not in (200, 201):
        raise error_from_answer(status, body, headers)
    return parse_temporary(body, "STS")


async def fetch_pod(session: aiohttp.ClientSession, pod: PodIdentity) -> Temporary:
    """The pod's keys, as the SDK's ``PodIdentityAccessor`` asks for them."""
    authorization = read_id_token(
        pod.token_file, f"the pod's token file {pod.token_file}", pod.check, "pod_token_file",
        header=True,
    )  # fmt: skip
    status, body, headers = await _send(
        session,
        "POST",
        pod.uri,
        {"Authorization": authorization, "Content-Type": "application/json"},
        {},
        proxy=False,
    )
    if status not in (200, 201):
        raise error_from_answer(status, body, headers)
    return parse_temporary(body, "the pod identity endpoint")


async def fetch_github_id_token(session: aiohttp.ClientSession, github: GithubIdToken) -> str:
    """An ID token from GitHub Actions for ``github.audience`` (``{"value": "<jwt>"}``)."""
    separator = "&" if "?" in github.request_url else "?"
    url = f"{github.request_url}{separator}audience={quote(github.audience, safe='')}"
    status, body, headers = await _send(
        session, "GET", url, {"Authorization": f"Bearer {github.request_token}"}, None
    )
    if status != 200:
        raise error_from_answer(status, body, headers)
    document = parse_json(body)
    value = document.get("value") if isinstance(document, dict) else None
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TOKEN:
        raise BadAnswer("GitHub's answer to the ID token request has no value")
    remember_secrets(value)
    return value.strip()


async def _send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: dict[str, str],
    payload: object,
    *,
    proxy: bool = True,
) -> tuple[int, bytes, Mapping[str, str]]:
    # ``proxy=False``: an address on the node's own link (a pod's) goes direct.
    data = None if payload is None else json.dumps(payload).encode()
    return await send(
        session,
        method,
        url,
        headers=headers,
        data=data,
        proxy=proxy_for(url) if proxy else None,
    )
