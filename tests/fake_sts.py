"""A simulated IAM, STS, pod identity endpoint and GitHub Actions ID token service, on 127.0.0.1.

One aiohttp app serves the requests the official SDK makes for keyless credentials
(``huaweicloudsdkcore.auth.internal``), checks what they carry, and hands out temporary keys
that the simulated KPS (``kps``, when given) then accepts, with their security token:

- ``POST /v3.0/OS-AUTH/id-token/tokens`` (``X-Idp-Id``, the ID token) -> ``X-Subject-Token``
- ``POST /v3.0/OS-CREDENTIAL/securitytokens`` (that token) -> ``{"credential": {...}}``
- ``POST /v5/agencies/assume-with-oidc`` (URNs, ID token) -> ``{"credentials": {...}}``
- ``POST /pod/credentials`` (``Authorization``) -> the credential, flat
- ``GET /github/token?audience=...`` (``Authorization: Bearer``) -> ``{"value": "<jwt>"}``

Every request is recorded (:class:`Call`), so tests can compare waiter's with the SDK's.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web
from helpers import serving

from waiter.testing._fake import FakeKps

IDP_ID = "github-idp"
ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.id-token-payload-7f3e.signature-aa11"
OTHER_ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.rotated-id-token-99c1.signature-bb22"
PROVIDER_URN = "iam::0123456789abcdef:identityProvider:github"
AGENCY_URN = "iam::0123456789abcdef:agency:ci-deploy"
POD_TOKEN = "pod-authorization-token-5d4c3b2a1f"
REQUEST_TOKEN = "gh-request-token-0a1b2c3d4e5f6a7b"
GITHUB_JWT = "eyJhbGciOiJSUzI1NiJ9.github-jwt-payload-44dd.signature-cc33"
UNSCOPED_PREFIX = "unscoped-token-secret-"
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # the SDK's expiry format


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: object  # parsed JSON, or None


@dataclass
class FakeSts:
    """The simulated keyless endpoints. ``refuse`` (an HTTP status) answers every credential
    request with it; ``malformed`` answers 200 with a credential missing its secret;
    ``camel_case`` answers STS with the SDK's other spellings (``accessKeyId``...)."""

    kps: FakeKps | None = None
    lifetime: timedelta = timedelta(hours=1)
    id_tokens: set[str] = field(default_factory=lambda: {ID_TOKEN, OTHER_ID_TOKEN, GITHUB_JWT})
    refuse: int | None = None
    malformed: bool = False
    camel_case: bool = False
    calls: list[Call] = field(default_factory=list)
    issued: list[tuple[str, str, str]] = field(default_factory=list)
    unscoped: list[str] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def keys(self) -> dict[str, str]:
        """Issue a new temporary key pair (known to ``kps`` from now on) in the SDK's names."""
        n = next(self._counter)
        access, secret, token = (
            f"TMPAK{n:015d}",
            f"tmp-sk-secret-{n:04d}-e9f8",
            f"st-tmp-{n:04d}-d7c6b5",
        )
        self.issued.append((access, secret, token))
        if self.kps is not None:
            assert self.kps.access_keys is not None
            self.kps.access_keys[access] = secret
            self.kps.security_tokens[access] = token
        expires = (datetime.now(UTC) + self.lifetime).strftime(_FORMAT)
        if self.malformed:
            return {"access": access, "expires_at": expires}
        if self.camel_case:
            return {"accessKeyId": access, "secretAccessKey": secret, "securityToken": token,
                    "expiration": expires}  # fmt: skip
        return {"access": access, "secret": secret, "securitytoken": token, "expires_at": expires}

    async def _record(self, request: web.Request) -> Call:
        raw = await request.read()
        call = Call(
            request.method,
            request.path,
            dict(request.query),
            dict(request.headers),
            json.loads(raw) if raw else None,
        )
        self.calls.append(call)
        return call

    def _refusal(self) -> web.Response | None:
        if self.refuse is None:
            return None
        body = {"error_code": "IAM.0001", "error_msg": "the identity provider refused the token"}
        return web.json_response(body, status=self.refuse)

    async def _id_token(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        refused = self._refusal()
        if refused is not None:
            return refused
        body = call.body if isinstance(call.body, dict) else {}
        token = body.get("auth", {}).get("id_token", {}).get("id")
        if call.headers.get("X-Idp-Id") != IDP_ID or token not in self.id_tokens:
            return web.json_response({"error_msg": "bad id token", "error_code": "IAM.0002"},
                                     status=401)  # fmt: skip
        unscoped = f"{UNSCOPED_PREFIX}{len(self.unscoped) + 1:04d}-a1b2c3"
        self.unscoped.append(unscoped)
        return web.json_response(
            {"token": {"methods": ["mapped"]}}, status=201, headers={"X-Subject-Token": unscoped}
        )

    async def _security_tokens(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        body = call.body if isinstance(call.body, dict) else {}
        token = body.get("auth", {}).get("identity", {}).get("token", {}).get("id")
        if token not in self.unscoped:
            return web.json_response({"error_msg": "bad token", "error_code": "IAM.0003"},
                                     status=401)  # fmt: skip
        return web.json_response({"credential": self.keys()}, status=201)

    async def _assume(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        refused = self._refusal()
        if refused is not None:
            return refused
        body = call.body if isinstance(call.body, dict) else {}
        if (
            body.get("provider_urn") != PROVIDER_URN
            or body.get("agency_urn") != AGENCY_URN
            or body.get("id_token") not in self.id_tokens
        ):
            return web.json_response({"error_msg": "not trusted", "error_code": "STS.0401"},
                                     status=403)  # fmt: skip
        return web.json_response({"credentials": self.keys()})

    async def _pod(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        refused = self._refusal()
        if refused is not None:
            return refused
        if call.headers.get("Authorization") != POD_TOKEN:
            return web.json_response({"error_msg": "bad pod token"}, status=401)
        return web.json_response(self.keys())

    async def _github(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        if call.headers.get("Authorization") != f"Bearer {REQUEST_TOKEN}":
            return web.json_response({"message": "bad request token"}, status=401)
        return web.json_response({"count": 1, "value": GITHUB_JWT})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3.0/OS-AUTH/id-token/tokens", self._id_token)
        app.router.add_post("/v3.0/OS-CREDENTIAL/securitytokens", self._security_tokens)
        app.router.add_post("/v5/agencies/assume-with-oidc", self._assume)
        app.router.add_post("/pod/credentials", self._pod)
        app.router.add_get("/github/token", self._github)
        return app

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        async with serving(self.app()) as url:
            yield url
