"""The project ID: given, from the profile file, or looked up once from a simulated IAM with the
signed credentials; a lookup that fails is a ConfigError before anything is polled.

Every server here is on 127.0.0.1; nothing contacts the real IAM or the cloud.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp import web
from helpers import (
    AK,
    DONE,
    PROJECT,
    REGION,
    RUNNING,
    SDK_PAIR,
    SK,
    ST,
    TOKEN,
    WRONG_SK,
    basic_profile,
    cli_settings,
    closed_port,
    config_error,
    serving,
    signing_kps,
    write,
)
from virtual_time import run_virtual

from waiter import ConfigError, Outcome, Settings, Waiter, wait_for
from waiter._auth._signing import verify_signature
from waiter._config._settings import load_settings
from waiter._plan._plan import make_plan
from waiter.testing._fake import FakeKps


@dataclass
class FakeIam:
    """``GET /v3/projects?name=...``, answering only requests signed with a known key."""

    keys: dict[str, str] = field(default_factory=lambda: {AK: SK})
    projects: list[dict[str, str]] = field(
        default_factory=lambda: [
            {"id": PROJECT, "name": REGION},
            {"id": "f" * 32, "name": f"{REGION}_subproject"},
            {"id": "e" * 32, "name": "cn-east-3"},
        ]
    )
    requests: list[web.Request] = field(default_factory=list)

    async def _projects(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        url = f"http://{request.host}{request.raw_path}"
        if not verify_signature("GET", url, request.headers, b"", self.keys.get):
            body = {"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication"}
            return web.json_response(body, status=401)
        name = request.query.get("name")
        listed = [p for p in self.projects if name is None or p["name"] == name]
        return web.json_response({"projects": listed, "links": {}})

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_get("/v3/projects", self._projects)
        async with serving(app) as url:
            yield url


async def wait_discovering(kps: FakeKps, iam: FakeIam, ids: list[str], env: dict[str, str]):
    async with kps.serve() as kps_url, iam.serve() as iam_url:
        env = {"WAITER_REGION": REGION, "WAITER_ENDPOINT": kps_url, **env}
        return await wait_for(ids, cli_settings(env, iam_endpoint=iam_url))


def test_the_profile_files_project_id_fills_only_a_missing_project_id(profile: Path):
    write(profile, basic_profile(project_id="fromthefile01"))
    base = {"endpoint": "https://kms.example.test"}

    assert make_plan(Settings(**base)).project_id == "fromthefile01"
    assert make_plan(Settings(**base, project_id="given")).project_id == "given"


def test_the_project_id_is_looked_up_once_from_iam_and_used():
    kps, iam = signing_kps(), FakeIam()
    for task_id in ("t1", "t2", "t3"):
        kps.add_task(task_id, [(0, RUNNING), (2, DONE)])

    with structlog.testing.capture_logs() as events:
        results = run_virtual(wait_discovering(kps, iam, ["t1", "t2", "t3"], SDK_PAIR))

    assert {r.outcome for r in results} == {Outcome.SUCCESS}
    [request] = iam.requests
    assert request.query["name"] == REGION
    assert "X-Project-Id" not in request.headers  # asked of IAM before there is one
    assert {r.headers["X-Project-Id"] for r in kps.requests} == {PROJECT}
    [found] = [e for e in events if e["event"] == "project_discovered"]
    assert (found["project_id"], found["region"]) == (PROJECT, REGION)


def test_temporary_keys_look_the_project_up_with_their_security_token():
    kps, iam = signing_kps(security_tokens={AK: ST}), FakeIam()
    kps.add_task("t1", [(0, DONE)])

    env = {**SDK_PAIR, "HUAWEICLOUD_SDK_SECURITY_TOKEN": ST}
    [result] = run_virtual(wait_discovering(kps, iam, ["t1"], env))

    assert result.outcome is Outcome.SUCCESS
    assert iam.requests[0].headers["X-Security-Token"] == ST


def test_a_project_id_from_anywhere_means_no_lookup(profile: Path):
    write(profile, basic_profile(project_id=PROJECT))
    kps, iam = signing_kps(), FakeIam()
    kps.add_task("t1", [(0, DONE)])

    [result] = run_virtual(wait_discovering(kps, iam, ["t1"], {}))

    assert result.outcome is Outcome.SUCCESS
    assert iam.requests == []


@pytest.mark.parametrize(
    ("iam", "env", "says"),
    [
        (FakeIam(projects=[]), SDK_PAIR, "lists no project named cn-north-4 for the credentials"),
        (
            FakeIam(projects=[{"id": "a" * 32, "name": REGION}, {"id": "b" * 32, "name": REGION}]),
            SDK_PAIR,
            f"lists 2 projects named cn-north-4 ({'a' * 32}, {'b' * 32}): choose one",
        ),
        (
            FakeIam(),
            {"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": WRONG_SK},
            "the credentials from environment HUAWEICLOUD_SDK_AK were refused",
        ),
    ],
    ids=["none", "two", "refused"],
)
def test_a_failed_lookup_is_a_config_error_and_nothing_is_polled(
    iam: FakeIam, env: dict[str, str], says: str
):
    kps = signing_kps()
    kps.add_task("t1", [(0, DONE)])

    with pytest.raises(ConfigError) as excinfo:
        run_virtual(wait_discovering(kps, iam, ["t1"], env))

    message = config_error(excinfo)
    assert says in message
    assert "--project-id" in message
    assert WRONG_SK not in message
    assert kps.requests == []
    assert len(iam.requests) == 1  # a refusal is never retried


def test_an_unreachable_iam_is_retried_then_named():
    kps = signing_kps()

    async def scenario() -> None:
        async with kps.serve() as kps_url:
            settings = Settings(
                region=REGION, endpoint=kps_url, access_key=AK, secret_key=SK,
                iam_endpoint=f"http://127.0.0.1:{closed_port()}",
            )  # fmt: skip
            async with Waiter(settings):
                pass

    with pytest.raises(ConfigError) as excinfo:
        run_virtual(scenario())

    message = config_error(excinfo)
    assert "could not be looked up from IAM at http://127.0.0.1:" in message
    assert "ClientConnectorError" in message
    assert message.endswith("; or set project_id and no lookup is made")  # made in code


def test_without_a_region_there_is_nothing_to_look_up():
    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings(endpoint="https://kms.example.test", access_key=AK, secret_key=SK))

    message = config_error(excinfo)
    assert "no project ID" in message
    assert "so that waiter can look it up from IAM" in message


def test_a_token_without_a_project_id_is_still_refused_at_once():
    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings(region=REGION, token=TOKEN))

    assert config_error(excinfo) == "no project ID: set project_id"


def test_a_plain_http_iam_endpoint_off_this_machine_is_refused():
    settings = Settings(
        region=REGION, access_key=AK, secret_key=SK, iam_endpoint="http://iam.example.test"
    )

    with pytest.raises(ConfigError) as excinfo:
        Waiter(settings)

    assert config_error(excinfo).startswith(
        "iam_endpoint is http://iam.example.test, plain http and not on this machine"
    )
    assert config_error(excinfo).endswith("or set allow_insecure_http if you really mean it")


def test_the_iam_endpoint_follows_the_region_unless_given():
    def iam_of(**fields: Any) -> str | None:
        ready = make_plan(Settings(access_key=AK, secret_key=SK, **fields))
        return ready.lookup.iam_endpoint if ready.lookup else None

    assert iam_of(region="ap-southeast-3") == "https://iam.ap-southeast-3.myhuaweicloud.com"
    # Not in the SDK's IAM table: its global endpoint, as the SDK would ask.
    assert iam_of(region="xx-moon-1") == "https://iam.myhuaweicloud.com"
    given = iam_of(region=REGION, iam_endpoint="https://iam.{region}.example.test/")
    assert given == "https://iam.cn-north-4.example.test"
    env = {"WAITER_REGION": REGION, "HUAWEICLOUD_SDK_IAM_ENDPOINT": "https://iam.example.test"}
    assert load_settings(env=env).settings.iam_endpoint == "https://iam.example.test"


def test_the_iam_endpoint_is_picked_as_the_sdk_picks_it(profile: Path):
    """The profile file's iam_endpoint, then HUAWEICLOUD_SDK_IAM_ENDPOINT, then the table."""

    def iam_of(env: dict[str, str]) -> str | None:
        ready = make_plan(load_settings(env={"WAITER_REGION": REGION, **env}).settings)
        return ready.lookup.iam_endpoint if ready.lookup else None

    variable = {"HUAWEICLOUD_SDK_IAM_ENDPOINT": "https://iam.env.example"}
    write(profile, basic_profile())
    assert iam_of({}) == "https://iam.cn-north-4.myhuaweicloud.com"
    assert iam_of(variable) == "https://iam.env.example"
    write(profile, basic_profile(iam_endpoint="https://iam.profile.example/"))
    assert iam_of(variable) == "https://iam.profile.example"
    assert iam_of({}) == "https://iam.profile.example"
