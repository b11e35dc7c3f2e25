"""Temporary keys from a simulated ECS metadata service: fetched once when asked for, refreshed
before they expire, a hardened service's session token, and its failures named.

Every server here is on 127.0.0.1; nothing contacts the real metadata address or the cloud.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import structlog
from aiohttp import web
from helpers import (
    AK,
    DONE,
    METADATA,
    OTHER_AK,
    OTHER_SK,
    PROJECT,
    RUNNING,
    SDK_PAIR,
    SK,
    ST,
    TOKEN,
    cli_settings,
    closed_port,
    config_error,
    serving,
    signing_kps,
)
from virtual_time import run_virtual

from waiter import ConfigError, Outcome, Settings, Waiter, wait_for
from waiter._auth._metadata import REFRESH_BEFORE, refresh_delay
from waiter.testing._fake import FakeKps


@dataclass
class FakeMetadata:
    """``/openstack/latest/securitykey``: one set of keys per request, from ``keys``.

    ``session_token`` set: the keys are handed out only with that ``X-Metadata-Token``,
    which ``PUT /meta-data/latest/api/token`` gives (as on a hardened ECS).
    """

    keys: list[tuple[str, str, str]] = field(default_factory=lambda: [(AK, SK, ST)])
    lifetime: timedelta = timedelta(hours=1)
    session_token: str | None = None
    no_agency: bool = False
    requests: list[str] = field(default_factory=list)
    served: int = 0

    async def _securitykey(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} {request.path}")
        if self.no_agency:
            return web.Response(status=401, text="Please configure Cloud Service Agency first")
        if self.session_token and request.headers.get("X-Metadata-Token") != self.session_token:
            return web.Response(status=401, text="token required")
        access, secret, token = self.keys[min(self.served, len(self.keys) - 1)]
        self.served += 1
        expires = (datetime.now(UTC) + self.lifetime).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        credential = {
            "access": access, "secret": secret, "securitytoken": token, "expires_at": expires,
        }  # fmt: skip
        return web.json_response({"credential": credential})

    async def _token(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} {request.path}")
        assert request.headers["X-Metadata-Token-Ttl-Seconds"] == "21600"
        return web.Response(text=self.session_token or "")

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_get("/openstack/latest/securitykey", self._securitykey)
        app.router.add_put("/meta-data/latest/api/token", self._token)
        async with serving(app) as url:
            yield f"{url}/openstack/latest/securitykey"


async def wait_on_metadata(
    kps: FakeKps, metadata: FakeMetadata, ids: list[str], env: dict[str, str] | None = None
):
    async with kps.serve() as kps_url, metadata.serve() as metadata_url:
        env = {"WAITER_ENDPOINT": kps_url, "WAITER_PROJECT_ID": PROJECT, **(env or {})}
        config = f'[auth]\nmetadata_url = "{metadata_url}"\n'
        return await wait_for(ids, cli_settings(env, config, timeout="7200"))


def test_temporary_keys_come_from_the_metadata_service_when_asked_for():
    kps = signing_kps(security_tokens={AK: ST})
    kps.add_task("t1", [(0, RUNNING), (3, DONE)])
    metadata = FakeMetadata()

    with structlog.testing.capture_logs() as events:
        [result] = run_virtual(wait_on_metadata(kps, metadata, ["t1"], METADATA))

    assert result.outcome is Outcome.SUCCESS
    assert metadata.requests == ["GET /openstack/latest/securitykey"]  # once, at the start
    assert {r.headers["X-Security-Token"] for r in kps.requests} == {ST}
    assert [e["event"] for e in events].count("credentials_fetched") == 1


def test_temporary_keys_are_refreshed_before_they_expire_while_the_run_lasts():
    second = (OTHER_AK, OTHER_SK, "st-secret-second-0011")
    metadata = FakeMetadata(keys=[(AK, SK, ST), second])
    kps = signing_kps(
        access_keys={AK: SK, OTHER_AK: OTHER_SK},
        security_tokens={AK: ST, OTHER_AK: second[2]},
    )
    kps.add_task("long", [(0, RUNNING), (60 * 60, DONE)])  # one hour: keys live one hour

    with structlog.testing.capture_logs() as events:
        [result] = run_virtual(wait_on_metadata(kps, metadata, ["long"], METADATA))

    assert result.outcome is Outcome.SUCCESS
    assert len(metadata.requests) == 2  # at the start, and 15 minutes before expiry
    used = [r.headers["Authorization"].split(",")[0].split("=")[1] for r in kps.requests]
    assert used[0] == AK
    assert used[-1] == OTHER_AK
    assert used == sorted(used, key=[AK, OTHER_AK].index)  # never back to the old keys
    switched = next(r.at for r in kps.requests if OTHER_AK in r.headers["Authorization"])
    assert switched - kps.requests[0].at >= 60 * 60 - REFRESH_BEFORE.total_seconds() - 1
    assert [e["event"] for e in events].count("credentials_refreshed") == 1


def test_a_hardened_metadata_service_is_asked_for_a_session_token_first():
    kps = signing_kps(security_tokens={AK: ST})
    kps.add_task("t1", [(0, DONE)])
    metadata = FakeMetadata(session_token="session-secret-77aa")

    [result] = run_virtual(wait_on_metadata(kps, metadata, ["t1"], METADATA))

    assert result.outcome is Outcome.SUCCESS
    assert metadata.requests == [
        "GET /openstack/latest/securitykey",
        "PUT /meta-data/latest/api/token",
        "GET /openstack/latest/securitykey",
    ]


def test_an_ecs_without_an_agency_is_told_so():
    kps = signing_kps()
    kps.add_task("t1", [(0, DONE)])

    with pytest.raises(ConfigError) as excinfo:
        run_virtual(wait_on_metadata(kps, FakeMetadata(no_agency=True), ["t1"], METADATA))

    message = config_error(excinfo)
    assert "no temporary credentials from the ECS metadata service at http://127.0.0.1" in message
    assert "attach one" in message
    assert kps.requests == []


def test_a_metadata_service_that_does_not_answer_is_retried_then_named():
    settings = Settings(
        endpoint="https://kms.example.test", project_id=PROJECT, source="ecs-metadata",
        metadata_url=f"http://127.0.0.1:{closed_port()}/openstack/latest/securitykey",
    )  # fmt: skip

    async def scenario() -> None:
        async with Waiter(settings):
            pass

    with pytest.raises(ConfigError, match="no temporary credentials from the ECS metadata"):
        run_virtual(scenario())


@pytest.mark.parametrize(
    "env",
    [SDK_PAIR, {"WAITER_AUTH_TOKEN": TOKEN, **METADATA}],
    ids=["AK/SK, source auto", "token, source ecs-metadata"],
)
def test_nothing_asks_the_metadata_service_unless_it_is_the_source(env: dict[str, str]):
    kps = signing_kps(token=TOKEN)
    kps.add_task("t1", [(0, RUNNING), (2, DONE)])
    metadata = FakeMetadata()

    [result] = run_virtual(wait_on_metadata(kps, metadata, ["t1"], env))

    assert result.outcome is Outcome.SUCCESS
    assert metadata.requests == []


def test_the_refresh_comes_well_before_expiry_and_never_in_a_tight_loop():
    now = datetime(2024, 5, 6, tzinfo=UTC)
    quarter = REFRESH_BEFORE.total_seconds()

    assert refresh_delay(now + timedelta(hours=24), now) == 24 * 3600 - quarter
    assert refresh_delay(now + timedelta(minutes=20), now) == 600  # short-lived: half-way
    assert refresh_delay(now - timedelta(minutes=5), now) == 5  # already expired
    assert refresh_delay(now + timedelta(seconds=2), now) == 5
