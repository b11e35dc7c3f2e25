"""Where credentials come from, and what happens to them: the SDK's sources in the contract's
order, AK/SK signing checked by the simulated KPS, the project ID from a simulated IAM,
temporary keys from a simulated ECS metadata service, regions, and secrets kept out of sight.

Every server here is on 127.0.0.1; nothing contacts the real metadata address or the cloud.
"""

from __future__ import annotations

import io
import json
import os
import socket
import tomllib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp import web
from helpers import PROJECT, TOKEN, by_id, kps_on_a_thread, serving
from virtual_time import run_virtual

from waiter import ConfigError, Outcome, Settings, Waiter, wait_for
from waiter._auth._headers import SigningAuth
from waiter._auth._metadata import REFRESH_BEFORE, refresh_delay
from waiter._auth._signing import AkSkCredentials, verify_signature
from waiter._auth._sources import find_credentials
from waiter._cli._logs import Redactor
from waiter._cli._main import main
from waiter._cli._show_config import render_toml
from waiter._config._settings import load_settings
from waiter._errors import AuthError
from waiter._http._errors import error_from_answer
from waiter._plan._plan import make_plan
from waiter.testing._fake import FakeKps, Reply
from waiter.testing._server import FakeKpsServer

RUNNING, DONE = "RUNNING_RESET", "SUCCESS_RESET"
AK = "HPUAEXAMPLEKEY0000001"
SK = "sk-secret-5f0e7d4c3b2a"
ST = "st-secret-9a8b7c6d5e4f"
OTHER_AK = "HPUAOTHERKEY000000002"
OTHER_SK = "sk-secret-other-71c2e0"
WRONG_SK = "sk-wrong-0000aaaa1111"
REGION = "cn-north-4"
SDK_PAIR = {"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": SK}
HW_PAIR = {"HW_ACCESS_KEY": OTHER_AK, "HW_SECRET_KEY": OTHER_SK}
FAST = {"min_interval": "1", "max_interval": "8", "timeout": "120", "rate": "1000"}


def config_error(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    message = str(excinfo.value)
    assert "\n" not in message, "a ConfigError is one line"
    return message


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.fixture
def profile() -> Path:
    """The SDK's default profile file, in the temporary HOME conftest gives every test."""
    return Path.home() / ".huaweicloud" / "credentials"


def basic(ak: str = AK, sk: str = SK, **more: str) -> str:
    lines = ["[basic]", f"ak = {ak}", f"sk = {sk}", *(f"{k} = {v}" for k, v in more.items())]
    return "\n".join(lines) + "\n"


def found_for(env: dict[str, str], config: Path | None = None):
    return find_credentials(load_settings(config_path=config, env=env).settings)


# --- every source, in order -------------------------------------------------------------------


def test_a_token_in_the_environment_beats_an_access_key_pair():
    found = found_for({"WAITER_AUTH_TOKEN": TOKEN, **SDK_PAIR})

    assert (found.kind, found.source) == ("token", "environment WAITER_AUTH_TOKEN")
    assert found.keys is None


def test_a_token_file_beats_an_access_key_pair(tmp_path: Path):
    token_file = write(tmp_path / "token", TOKEN)

    settings = load_settings(flags={"token_file": str(token_file)}, env=SDK_PAIR).settings
    found = find_credentials(settings)

    assert (found.kind, found.token, found.source) == ("token", TOKEN, f"file {token_file}")


def test_the_sdk_family_beats_terraforms_family():
    found = found_for({**HW_PAIR, **SDK_PAIR, "HW_SECURITY_TOKEN": "hw-token"})

    assert found.kind == "access-key"
    assert found.source == "environment HUAWEICLOUD_SDK_AK"
    assert found.keys == AkSkCredentials(AK, SK)  # and not HW_SECURITY_TOKEN


def test_terraforms_family_with_its_security_token():
    found = found_for({**HW_PAIR, "HW_SECURITY_TOKEN": ST})

    assert found.source == "environment HW_ACCESS_KEY"
    assert found.keys == AkSkCredentials(OTHER_AK, OTHER_SK, ST)
    assert found.describe() == (
        "temporary access key from environment HW_ACCESS_KEY (signed requests)"
    )


def test_an_access_key_pair_in_the_environment_beats_the_profile_file(profile: Path):
    write(profile, basic(OTHER_AK, OTHER_SK))

    found = found_for(dict(SDK_PAIR))

    assert found.source == "environment HUAWEICLOUD_SDK_AK"


def test_the_default_profile_file_is_used_when_the_environment_has_no_pair(profile: Path):
    write(profile, basic(security_token=ST, project_id="fromthefile01"))

    found = found_for({})

    assert found.source == f"profile file {profile}"
    assert found.keys == AkSkCredentials(AK, SK, ST)
    assert found.profile_project_id == "fromthefile01"


def test_the_credentials_file_variable_beats_auth_credentials_file(tmp_path: Path):
    from_env = write(tmp_path / "from-env", basic(OTHER_AK, OTHER_SK))
    from_config = write(tmp_path / "from-config", basic())
    config = write(tmp_path / "c.toml", f'[auth]\ncredentials_file = "{from_config}"\n')

    assert found_for({}, config).source == f"profile file {from_config}"
    found = found_for({"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(from_env)}, config)
    assert found.source == f"profile file {from_env}"
    assert found.keys is not None
    assert found.keys.access_key == OTHER_AK


def test_auth_credentials_file_points_away_from_the_default(tmp_path: Path, profile: Path):
    write(profile, basic(OTHER_AK, OTHER_SK))
    elsewhere = write(tmp_path / "ci-credentials", basic())
    config = write(tmp_path / "c.toml", f'[auth]\ncredentials_file = "{elsewhere}"\n')

    found = found_for({}, config)

    assert found.keys is not None
    assert found.keys.access_key == AK


def test_the_metadata_service_is_a_source_only_when_asked_for():
    with pytest.raises(ConfigError, match="no credentials"):
        found_for({})

    found = found_for({"WAITER_AUTH_SOURCE": "ecs-metadata"})

    assert found.kind == "ecs-metadata"
    assert found.metadata_url == "http://169.254.169.254/openstack/latest/securitykey"
    assert found.keys is None  # fetched by the Waiter, never here


def test_the_profile_file_beats_the_metadata_service(profile: Path):
    write(profile, basic())

    assert found_for({"WAITER_AUTH_SOURCE": "ecs-metadata"}).kind == "access-key"


def test_keys_given_in_code_name_the_settings_field():
    found = find_credentials(Settings(access_key=AK, secret_key=SK))

    assert found.source == "Settings.access_key"


def test_the_profile_files_project_id_fills_only_a_missing_project_id(profile: Path):
    write(profile, basic(project_id="fromthefile01"))
    base = {"endpoint": "https://kms.example.test"}

    assert make_plan(Settings(**base)).project_id == "fromthefile01"
    assert make_plan(Settings(**base, project_id="given")).project_id == "given"


def test_no_credentials_names_every_way_to_give_them():
    with pytest.raises(ConfigError) as excinfo:
        found_for({})

    message = config_error(excinfo)
    for way in ("WAITER_AUTH_TOKEN", "HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY", "ecs-metadata"):
        assert way in message
    assert ".huaweicloud/credentials" in message


def test_an_unknown_auth_source_is_named():
    with pytest.raises(ConfigError) as excinfo:
        load_settings(env={"WAITER_AUTH_SOURCE": "imds"})

    message = config_error(excinfo)
    assert "auth.source must be one of auto, ecs-metadata" in message
    assert "WAITER_AUTH_SOURCE" in message


# --- pairs come whole, from one family ------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"HUAWEICLOUD_SDK_AK": AK},
            "HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is not",
        ),
        ({"HUAWEICLOUD_SDK_SK": SK}, "HUAWEICLOUD_SDK_SK is set but HUAWEICLOUD_SDK_AK is not"),
        ({"HW_ACCESS_KEY": AK}, "HW_ACCESS_KEY is set but HW_SECRET_KEY is not"),
        ({"HW_SECRET_KEY": SK}, "HW_SECRET_KEY is set but HW_ACCESS_KEY is not"),
    ],
    ids=["sdk AK alone", "sdk SK alone", "hw AK alone", "hw SK alone"],
)
def test_half_a_pair_is_refused_naming_both_variables(env: dict[str, str], says: str):
    env = {**env, "WAITER_AUTH_TOKEN": TOKEN}  # even a token does not hide the mistake

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert says in message
    assert SK not in message


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"HUAWEICLOUD_SDK_AK": AK, "HW_SECRET_KEY": SK},
            "HW_SECRET_KEY is set, but a pair comes from one family",
        ),
        (
            {"HW_ACCESS_KEY": AK, "HUAWEICLOUD_SDK_SK": SK},
            "HW_ACCESS_KEY is set, but a pair comes from one family",
        ),
        (
            {**SDK_PAIR, "HW_SECURITY_TOKEN": ST},
            "HW_SECURITY_TOKEN is set, but the key pair comes from HUAWEICLOUD_SDK_AK",
        ),
        ({"HW_SECURITY_TOKEN": ST}, "HW_SECURITY_TOKEN is set without HW_ACCESS_KEY"),
    ],
    ids=["sdk AK + hw SK", "hw AK + sdk SK", "hw token with sdk pair", "lone token"],
)
def test_families_are_never_mixed(env: dict[str, str], says: str):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert says in message
    assert SK not in message
    assert ST not in message


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"access_key": AK}, "access_key is given but secret_key is not"),
        ({"secret_key": SK}, "secret_key is given but access_key is not"),
        ({"security_token": ST}, "security_token is given without access_key"),
    ],
)
def test_half_a_pair_given_in_code_is_refused(fields: dict[str, str], says: str):
    with pytest.raises(ConfigError) as excinfo:
        Settings(**fields)

    message = config_error(excinfo)
    assert says in message
    assert SK not in message
    assert ST not in message


# --- the profile file ---------------------------------------------------------------------


def test_a_profile_file_is_read_as_the_sdk_reads_it(tmp_path: Path):
    # Upper-case keys, spaces around values, a "%" in the secret: all as configparser allows.
    text = "[basic]\nAK =  HPUAEXAMPLEKEY0000001  \nSK = se%cret/with+chars\n[other]\nak = x\n"
    path = write(tmp_path / "credentials", text)

    found = find_credentials(Settings(credentials_file=path))

    assert found.keys == AkSkCredentials(AK, "se%cret/with+chars")
    assert found.profile_project_id is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[default]\nak = a\nsk = b\n", "has no [basic] section"),
        (f"ak = {AK}\nsk = {SK}\n", "is not an INI file (line 1 comes before any [section]"),
        (f"[basic]\nak = {AK}\n{SK}\n", "is not an INI file (line 3 is neither"),
        (f"[basic]\nak = {AK}\n[basic]\nsk = {SK}\n", "is not an INI file (line 3 repeats"),
        (f"[basic]\nak = {AK}\n", "[basic] has no sk"),
        ("[basic]\nak =\nsk =\n", "[basic] has no ak and no sk"),
        (f"[basic]\nak = {AK}\nsk = {SK}\nproject_id = a/b\n", "project_id must be 1-64"),
        (f"[basic]\nak = {AK}\nsk = {SK} tail\n", "sk contains spaces or control characters"),
    ],
    ids=[
        "no basic section", "no header", "bare line", "repeated section", "no sk",
        "empty values", "bad project id", "space in secret",
    ],
)  # fmt: skip
def test_a_broken_profile_file_is_one_line_naming_it_and_never_the_secret(
    tmp_path: Path, text: str, says: str
):
    path = write(tmp_path / "credentials", text)

    with pytest.raises(ConfigError) as excinfo:
        find_credentials(Settings(credentials_file=path))

    message = config_error(excinfo)
    assert f"credentials file {path}" in message
    assert says in message
    assert SK not in message
    assert excinfo.value.setting == "credentials_file"


def test_a_profile_file_that_cannot_be_read_names_the_variable_that_pointed_at_it(
    tmp_path: Path,
):
    missing = tmp_path / "nope"

    settings = load_settings(env={"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(missing)}).settings
    with pytest.raises(ConfigError) as excinfo:
        find_credentials(settings)

    message = config_error(excinfo)
    assert f"credentials file {missing} (from environment HUAWEICLOUD_SDK_CREDENTIALS_FILE)" in (
        message
    )
    assert "cannot be read (No such file or directory)" in message


def test_a_profile_file_that_is_not_text_is_named(tmp_path: Path):
    path = tmp_path / "credentials"
    path.write_bytes(b"\xff\xfe[\x00b\x00")

    with pytest.raises(ConfigError, match="not UTF-8 text"):
        find_credentials(Settings(credentials_file=path))


def test_a_profile_file_others_can_read_gets_a_warning(profile: Path):
    write(profile, basic(), mode=0o644)

    with structlog.testing.capture_logs() as events:
        find_credentials(Settings())

    [warning] = events
    assert warning["event"] == "credentials_file_readable_by_others"
    assert warning["fix"] == f"chmod 600 {profile}"


# --- signing, checked by the simulated KPS --------------------------------------------------


def signing_kps(**options: Any) -> FakeKps:
    options.setdefault("access_keys", {AK: SK})
    return FakeKps(project_id=PROJECT, **options)


def load(env: dict[str, str], config: str = "", **flags: str) -> Settings:
    """Settings as the command line loads them, so each value's source is known."""
    path = write(Path.home() / "waiter.toml", config) if config else None
    return load_settings(flags={**FAST, **flags}, config_path=path, env=env).settings


async def wait_signed(kps: FakeKps, ids: list[str], env: dict[str, str], **flags: str):
    async with kps.serve() as url:
        env = {"WAITER_ENDPOINT": url, "WAITER_PROJECT_ID": PROJECT, **env}
        return await wait_for(ids, load(env, **flags))


def test_a_good_signature_is_accepted_and_every_request_is_signed():
    kps = signing_kps()
    kps.add_task("t1", [(0, RUNNING), (3, DONE)])
    kps.add_task("t2", [(0, DONE)], replies={1: Reply(503, "SYS.0503")})

    results = by_id(run_virtual(wait_signed(kps, ["t1", "t2"], SDK_PAIR)))

    assert {r.outcome for r in results.values()} == {Outcome.SUCCESS}
    assert results["t2"].polls == 2  # the retry was signed anew and accepted
    for request in kps.requests:
        assert request.headers["Authorization"].startswith(f"SDK-HMAC-SHA256 Access={AK}, ")
        assert request.headers["X-Project-Id"] == PROJECT
        assert "X-Auth-Token" not in request.headers
        assert "X-Security-Token" not in request.headers


def test_temporary_keys_send_their_security_token():
    kps = signing_kps(security_tokens={AK: ST})
    kps.add_task("t1", [(0, DONE)])

    env = {**SDK_PAIR, "HUAWEICLOUD_SDK_SECURITY_TOKEN": ST}
    [result] = run_virtual(wait_signed(kps, ["t1"], env))

    assert result.outcome is Outcome.SUCCESS
    assert kps.requests[0].headers["X-Security-Token"] == ST


def test_bulk_listings_are_signed_too():
    kps = signing_kps()
    ids = [f"t{n}" for n in range(25)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING), (5, DONE)])

    results = run_virtual(wait_signed(kps, ids, SDK_PAIR))

    assert {r.outcome for r in results} == {Outcome.SUCCESS}
    assert kps.listing_requests
    for request in kps.listing_requests:
        assert request.headers["Authorization"].startswith("SDK-HMAC-SHA256 ")


def test_a_wrong_secret_key_stops_every_task_at_once_naming_the_source():
    kps = signing_kps()
    for task_id in ("a", "b", "c"):
        kps.add_task(task_id, [(0, RUNNING)])

    env = {"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": WRONG_SK}
    results = run_virtual(wait_signed(kps, ["a", "b", "c"], env, max_in_flight="1"))

    assert {r.outcome for r in results} == {Outcome.ERROR}
    assert len(kps.requests) == 1  # nothing more: bad signatures lock the key
    first = by_id(results)["a"]
    assert "APIGW.0301" in (first.error or "")
    assert "verify aksk signature fail" in (first.error or "")
    assert "the credentials from environment HUAWEICLOUD_SDK_AK were refused" in (first.error or "")
    assert "clock" not in (first.error or "")
    for result in results:
        assert WRONG_SK not in (result.error or "")


def test_an_unknown_access_key_names_its_source_too():
    kps = signing_kps()
    kps.add_task("t1", [(0, RUNNING)])

    [result] = run_virtual(wait_signed(kps, ["t1"], HW_PAIR))

    assert "ak *** not exist" in (result.error or "")
    assert "credentials from environment HW_ACCESS_KEY were refused" in (result.error or "")


@pytest.mark.parametrize(("minutes", "direction"), [(20, "behind"), (-30, "ahead of")])
def test_a_clock_off_by_more_than_15_minutes_says_to_check_the_clock(minutes: int, direction: str):
    # The server's clock is skewed instead of ours: the same distance, seen from either side.
    kps = signing_kps(wall_clock=lambda: datetime.now(UTC) + timedelta(minutes=minutes))
    kps.add_task("t1", [(0, RUNNING)])
    kps.add_task("t2", [(0, RUNNING)])

    results = run_virtual(wait_signed(kps, ["t1", "t2"], SDK_PAIR, max_in_flight="1"))

    assert {r.outcome for r in results} == {Outcome.ERROR}
    assert len(kps.requests) == 1
    error = by_id(results)["t1"].error or ""
    assert "signature expired" in error
    assert "check this machine's clock" in error
    assert f"about {abs(minutes)} minutes {direction} the server's" in error
    assert "credentials from environment HUAWEICLOUD_SDK_AK were refused" in error


def test_a_clock_skewed_on_the_client_side_is_caught_as_well():
    kps = signing_kps()
    kps.add_task("t1", [(0, RUNNING)])
    late = datetime.now(UTC) - timedelta(minutes=40)
    auth = SigningAuth(AkSkCredentials(AK, SK), project_id=PROJECT, clock=lambda: late)

    async def scenario() -> str:
        import aiohttp

        from waiter._apis._kps import KpsClient

        async with kps.serve() as url, aiohttp.ClientSession() as session:
            client = KpsClient(session, endpoint=url, project_id=PROJECT, auth=auth)
            with pytest.raises(AuthError) as caught:
                await client.fetch("t1")
            return str(caught.value)

    error = run_virtual(scenario())

    assert "check this machine's clock" in error
    assert "about 40 minutes behind the server's" in error


def test_a_server_that_takes_both_checks_tokens_as_before():
    kps = signing_kps(token=TOKEN)
    kps.add_task("t1", [(0, DONE)])

    [result] = run_virtual(wait_signed(kps, ["t1"], {"WAITER_AUTH_TOKEN": TOKEN}))

    assert result.outcome is Outcome.SUCCESS
    assert kps.requests[0].headers["X-Auth-Token"] == TOKEN


def test_a_wrong_token_names_its_variable():
    kps = signing_kps(token=TOKEN)
    kps.add_task("t1", [(0, RUNNING)])

    [result] = run_virtual(wait_signed(kps, ["t1"], {"OS_AUTH_TOKEN": "wrong-token-1"}))

    assert "the token from environment OS_AUTH_TOKEN is wrong or expired" in (result.error or "")


# --- the 401 explained, without a server ----------------------------------------------------


def _body(code: str, message: str) -> bytes:
    return json.dumps({"error_code": code, "error_msg": message}).encode()


def test_a_date_header_far_from_our_clock_blames_the_clock():
    now = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    headers = {"Date": "Mon, 06 May 2024 11:00:00 GMT"}

    error = error_from_answer(
        401, _body("APIGW.0301", "Incorrect IAM authentication information"), headers,
        credentials="profile file /x", signed=True, now=now,
    )  # fmt: skip

    assert "credentials from profile file /x were refused because" in str(error)
    assert "about 60 minutes ahead of the server's" in str(error)


def test_a_refused_signature_with_a_good_clock_says_to_check_the_keys():
    now = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    headers = {"Date": "Mon, 06 May 2024 12:01:00 GMT"}

    error = error_from_answer(
        401, _body("APIGW.0301", "verify aksk signature fail"), headers, signed=True, now=now
    )

    assert "the credentials were refused: check the access key and its secret key" in str(error)
    assert "clock" not in str(error)


def test_a_refused_token_never_blames_the_clock():
    headers = {"Date": "Mon, 06 May 2024 11:00:00 GMT"}

    error = error_from_answer(401, _body("APIGW.0301", "token expired"), headers)

    assert "the credentials were refused: the token is wrong or expired" in str(error)


# --- the project ID from IAM ----------------------------------------------------------------


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
        return await wait_for(ids, load(env, iam_endpoint=iam_url))


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
    write(profile, basic(project_id=PROJECT))
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


def test_without_a_region_there_is_nothing_to_look_up():
    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings(endpoint="https://kms.example.test", access_key=AK, secret_key=SK))

    message = config_error(excinfo)
    assert "no project ID" in message
    assert "so that waiter can look it up from IAM" in message


def test_a_token_without_a_project_id_is_still_refused_at_once():
    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings(region=REGION, token=TOKEN))

    assert config_error(excinfo).startswith("no project ID: set it with --project-id")


def test_a_plain_http_iam_endpoint_off_this_machine_is_refused():
    settings = Settings(
        region=REGION, access_key=AK, secret_key=SK, iam_endpoint="http://iam.example.test"
    )

    with pytest.raises(ConfigError) as excinfo:
        Waiter(settings)

    assert "auth.iam_endpoint http://iam.example.test is plain http" in config_error(excinfo)


def test_the_iam_endpoint_follows_the_region_unless_given():
    def iam_of(**fields: Any) -> str | None:
        ready = make_plan(Settings(access_key=AK, secret_key=SK, **fields))
        return ready.lookup.iam_endpoint if ready.lookup else None

    assert iam_of(region="ap-southeast-3") == "https://iam.ap-southeast-3.myhuaweicloud.com"
    assert iam_of(region="eu-west-101") == "https://iam.eu-west-101.myhuaweicloud.eu"
    given = iam_of(region=REGION, iam_endpoint="https://iam.{region}.example.test/")
    assert given == "https://iam.cn-north-4.example.test"
    env = {"WAITER_REGION": REGION, "HUAWEICLOUD_SDK_IAM_ENDPOINT": "https://iam.example.test"}
    assert load_settings(env=env).settings.iam_endpoint == "https://iam.example.test"


# --- temporary keys from the ECS metadata service ------------------------------------------


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


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_on_metadata(
    kps: FakeKps, metadata: FakeMetadata, ids: list[str], env: dict[str, str] | None = None
):
    async with kps.serve() as kps_url, metadata.serve() as metadata_url:
        env = {"WAITER_ENDPOINT": kps_url, "WAITER_PROJECT_ID": PROJECT, **(env or {})}
        config = f'[auth]\nmetadata_url = "{metadata_url}"\n'
        return await wait_for(ids, load(env, config, timeout="7200"))


METADATA = {"WAITER_AUTH_SOURCE": "ecs-metadata"}


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


# --- regions and endpoints ------------------------------------------------------------------


def endpoint_of(env: dict[str, str], **flags: str) -> tuple[str, str | None]:
    resolved = load_settings(flags=flags, env={"WAITER_AUTH_TOKEN": TOKEN, **env})
    ready = make_plan(resolved.settings)
    return ready.endpoint, ready.unknown_region


@pytest.mark.parametrize(
    ("region", "endpoint"),
    [
        ("cn-north-4", "https://kms.cn-north-4.myhuaweicloud.com"),
        ("ap-southeast-1", "https://kms.ap-southeast-1.myhuaweicloud.com"),
        ("tr-west-1", "https://kms.tr-west-1.myhuaweicloud.com"),
        ("eu-west-101", "https://kms.eu-west-101.myhuaweicloud.eu"),
    ],
)
def test_a_known_region_maps_to_its_endpoint(region: str, endpoint: str):
    assert endpoint_of({"WAITER_REGION": region, "WAITER_PROJECT_ID": PROJECT}) == (
        endpoint,
        None,
    )


def test_an_unknown_region_uses_the_template_and_warns_once():
    env = {"WAITER_REGION": "xx-moon-1", "WAITER_PROJECT_ID": PROJECT}
    endpoint, unknown = endpoint_of(env)
    assert (endpoint, unknown) == ("https://kms.xx-moon-1.myhuaweicloud.com", "xx-moon-1")

    async def scenario() -> None:
        async with Waiter(Settings(region="xx-moon-1", project_id=PROJECT, token=TOKEN)):
            pass  # nothing is polled, nothing is sent: a token needs no start-up request

    with structlog.testing.capture_logs() as events:
        run_virtual(scenario())

    [warning] = [e for e in events if e["event"] == "unknown_region"]
    assert warning["log_level"] == "warning"
    assert warning["endpoint"] == "https://kms.xx-moon-1.myhuaweicloud.com"
    assert "--endpoint" in warning["fix"]


def test_an_endpoint_given_for_an_unknown_region_draws_no_warning():
    env = {"WAITER_REGION": "xx-moon-1", "WAITER_PROJECT_ID": PROJECT}

    assert endpoint_of(env, endpoint="https://kms.moon.example") == (
        "https://kms.moon.example",
        None,
    )


def test_the_sdks_per_region_variable_sets_the_endpoint(tmp_path: Path):
    variable = "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4"
    env = {
        "WAITER_REGION": REGION,
        "WAITER_PROJECT_ID": PROJECT,
        variable: "https://kps.internal.example, https://kps.backup.example",
    }
    config = write(tmp_path / "c.toml", '[kps]\nendpoint = "https://from.config.example"\n')

    resolved = load_settings(config_path=config, env=env)
    assert resolved.settings.endpoint == "https://kps.internal.example"  # beats the file
    assert resolved.sources["endpoint"] == f"environment {variable}"
    assert endpoint_of(env, endpoint="https://flag.example")[0] == "https://flag.example"
    waiters = {**env, "WAITER_ENDPOINT": "https://waiter.example"}
    assert endpoint_of(waiters)[0] == "https://waiter.example"
    # It names KPS: another region, or another API, has its own variable.
    assert endpoint_of({**env, "WAITER_REGION": "cn-east-3"})[0] == (
        "https://kms.cn-east-3.myhuaweicloud.com"
    )
    ecs = load_settings(flags={"api": "ecs-job"}, env=env).settings
    assert ecs.endpoint is None
    ecs_env = {**env, "HUAWEICLOUD_SDK_REGION_ECS_CN_NORTH_4": "https://ecs.internal.example"}
    assert load_settings(flags={"api": "ecs-job"}, env=ecs_env).settings.endpoint == (
        "https://ecs.internal.example"
    )


def test_a_bad_per_region_endpoint_names_its_variable():
    env = {"WAITER_REGION": REGION, "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4": "kps.example"}

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert "must be an http(s) URL" in message
    assert "environment HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4" in message


def test_the_per_region_endpoint_is_used_for_the_wait():
    kps = signing_kps()
    kps.add_task("t1", [(0, DONE)])

    async def scenario():
        async with kps.serve() as url:
            env = {
                "WAITER_REGION": REGION, "WAITER_PROJECT_ID": PROJECT, **SDK_PAIR,
                "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4": url,
            }  # fmt: skip
            return await wait_for(["t1"], Settings.load(env=env))

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.SUCCESS


# --- the command line: --show-config and secrets --------------------------------------------


def run_main(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(), stdout=stdout, stderr=stderr, env=env)
    return code, stdout.getvalue(), stderr.getvalue()


def credentials_line(text: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith("# credentials: ")]
    return line


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (SDK_PAIR, "access key from environment HUAWEICLOUD_SDK_AK (signed requests)"),
        (
            {**HW_PAIR, "HW_SECURITY_TOKEN": ST},
            "temporary access key from environment HW_ACCESS_KEY (signed requests)",
        ),
        ({"WAITER_AUTH_TOKEN": TOKEN, **SDK_PAIR}, "IAM token from environment WAITER_AUTH_TOKEN"),
        (
            METADATA,
            "temporary access key from the ECS metadata service at "
            "http://169.254.169.254/openstack/latest/securitykey, fetched at start",
        ),
    ],
    ids=["sdk pair", "hw temporary", "token", "metadata"],
)
def test_show_config_names_the_credentials_in_use_and_no_secret(env: dict[str, str], says: str):
    code, stdout, stderr = run_main(["--show-config"], env)

    assert (code, stderr) == (0, "")
    tomllib.loads(stdout)
    assert says in credentials_line(stdout)
    for secret in (SK, OTHER_SK, ST, TOKEN):
        assert secret not in stdout


def test_show_config_names_the_profile_file_and_its_project_id(profile: Path):
    write(profile, basic(security_token=ST, project_id="fromthefile01"))

    code, stdout, _ = run_main(["--show-config"], {})

    assert code == 0
    assert credentials_line(stdout) == (
        f"# credentials: temporary access key from profile file {profile} (signed requests); "
        "project ID fromthefile01 from it"
    )
    assert SK not in stdout
    assert ST not in stdout


def test_show_config_shows_a_broken_profile_file_without_failing(profile: Path):
    write(profile, f"ak = {AK}\nsk = {SK}\n", mode=0o644)

    code, stdout, stderr = run_main(["--show-config"], {})

    assert (code, stderr) == (0, "")
    line = credentials_line(stdout)
    assert line.startswith(f"# credentials: none usable: credentials file {profile} is not an INI")
    assert SK not in stdout  # nor any warning line on stdout, where the TOML goes


def test_show_config_lists_the_new_auth_keys_with_their_sources(tmp_path: Path):
    config = write(tmp_path / "c.toml", '[auth]\nsource = "ecs-metadata"\n')

    code, stdout, _ = run_main(["--show-config", "--config", str(config)], {})

    assert code == 0
    auth = tomllib.loads(stdout)["auth"]
    assert auth["source"] == "ecs-metadata"
    assert auth["metadata_url"] == "http://169.254.169.254/openstack/latest/securitykey"
    assert f'source = "ecs-metadata"  # config file {config}' in stdout


@pytest.fixture
def signing_server() -> Iterator[FakeKpsServer]:
    with kps_on_a_thread(access_keys={AK: SK}, security_tokens={AK: ST}) as server:
        yield server


def cli_args(server: FakeKpsServer, *args: str) -> list[str]:
    return [
        "--endpoint", server.url, "--project-id", PROJECT, "--min-interval", "0.05",
        "--max-interval", "0.2", "--rate", "1000", "--log-format", "json", *args,
    ]  # fmt: skip


def test_a_whole_signed_wait_at_debug_level_shows_neither_secret_key_nor_security_token(
    signing_server: FakeKpsServer,
):
    signing_server.add_task("t1", [(0, RUNNING), (0.1, DONE)])
    signing_server.add_task("t2", [(0, DONE)], replies={1: Reply(503, "SYS.0503")})
    env = {**SDK_PAIR, "HUAWEICLOUD_SDK_SECURITY_TOKEN": ST}

    code, stdout, stderr = run_main(cli_args(signing_server, "-v", "t1", "t2"), env)

    assert code == 0
    events = [json.loads(line) for line in stderr.splitlines()]
    assert any(event["level"] == "debug" for event in events)
    assert signing_server.requests[0].headers["X-Security-Token"] == ST  # sent...
    for secret in (SK, ST):  # ...and never shown
        assert secret not in stdout
        assert secret not in stderr


def test_refused_keys_from_the_profile_file_exit_4_naming_the_file(
    signing_server: FakeKpsServer, profile: Path
):
    write(profile, basic(sk=WRONG_SK, security_token=ST))
    signing_server.add_task("t1", [(0, RUNNING)])
    signing_server.add_task("t2", [(0, RUNNING)])

    args = cli_args(signing_server, "-v", "--max-in-flight", "1", "t1", "t2")
    code, stdout, stderr = run_main(args, {})

    assert code == 4
    results = [json.loads(line) for line in stdout.splitlines()]
    assert len(results) == 2
    assert f"the credentials from profile file {profile} were refused" in results[0]["error"]
    assert len(signing_server.requests) == 1
    assert WRONG_SK not in stdout + stderr


def test_half_a_pair_on_the_command_line_exits_2_naming_both_variables(
    signing_server: FakeKpsServer,
):
    code, stdout, stderr = run_main(cli_args(signing_server, "t1"), {"HW_ACCESS_KEY": AK})

    assert (code, stdout) == (2, "")
    [line] = stderr.splitlines()
    assert "HW_ACCESS_KEY is set but HW_SECRET_KEY is not" in line
    assert signing_server.requests == []


def test_secrets_read_from_files_are_masked_in_logs_too(profile: Path):
    write(profile, basic(security_token=ST))
    redactor = Redactor([])

    find_credentials(Settings())  # reading the file teaches the redaction its secrets

    event = redactor(None, "info", {"event": f"sk={SK} token={ST}"})
    assert event["event"] == "sk=*** token=***"


def test_no_variable_of_the_developer_leaks_into_these_tests():
    # conftest clears them; this file relies on it for its "no credentials" cases.
    assert not [name for name in os.environ if name.startswith(("HUAWEICLOUD_", "HW_"))]
    assert not (Path.home() / ".huaweicloud").exists()


def test_show_config_names_the_profile_file_when_it_beats_the_metadata_service(profile: Path):
    write(profile, basic())

    text = render_toml(load_settings(env=dict(METADATA)))

    assert f"# credentials: access key from profile file {profile}" in text
