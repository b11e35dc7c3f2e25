"""Regions and endpoints: a known region maps to its KPS endpoint, an unknown one uses the
template and warns once, and the SDK's per-region variable sets the endpoint.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import structlog
from helpers import (
    DONE,
    PROJECT,
    REGION,
    SDK_PAIR,
    TOKEN,
    closed_port,
    config_error,
    signing_kps,
    write,
)
from virtual_time import run_virtual

from waiter import ConfigError, Outcome, Settings, Waiter, wait_for
from waiter._config._settings import load_settings
from waiter._plan._plan import make_plan
from waiter._plan._regions import (
    DEFAULT_STS_ENDPOINT,
    GLOBAL_IAM_ENDPOINT,
    KPS_ENDPOINTS,
    iam_endpoint_for,
    sts_endpoint_for,
)


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
        ("ru-moscow-1", "https://kms.ru-moscow-1.myhuaweicloud.com"),
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
    # Made in code: the field, not the flag nor the SDK's variable, which code does not read.
    assert warning["fix"] == "if the endpoint is wrong, set endpoint"


def test_the_unknown_region_warning_names_the_flag_on_the_command_line():
    settings = load_settings(
        flags={"region": "xx-moon-1", "project_id": PROJECT}, env={"WAITER_AUTH_TOKEN": TOKEN}
    ).settings

    async def scenario() -> None:
        async with Waiter(settings):
            pass

    with structlog.testing.capture_logs() as events:
        run_virtual(scenario())

    [warning] = [e for e in events if e["event"] == "unknown_region"]
    assert warning["fix"].startswith("if the endpoint is wrong, set --endpoint (or WAITER_ENDPOINT")
    assert "HUAWEICLOUD_SDK_REGION_KPS_<REGION>" in warning["fix"]


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
    # Beats the file; the whole list, tried in turn as the SDK does.
    assert resolved.settings.endpoint == "https://kps.internal.example,https://kps.backup.example"
    assert resolved.sources["endpoint"] == f"environment {variable}"
    plan = make_plan(load_settings(env={"WAITER_AUTH_TOKEN": TOKEN, **env}).settings)
    assert (plan.endpoint, plan.fallbacks) == (
        "https://kps.internal.example",
        ("https://kps.backup.example",),
    )
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
    env = {"WAITER_REGION": REGION, "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4": "ftp://kps.example"}

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert "must be an http(s) URL" in message
    assert "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4 in the environment" in message


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


# --- the tables are the official SDK's (huaweicloudsdkkps / huaweicloudsdkcore 3.1.219) -------


def test_every_kps_region_of_the_sdk_is_known_with_the_sdks_endpoint():
    kps_region = pytest.importorskip("huaweicloudsdkkps.v3.region.kps_region")
    sdk = {name: region.endpoints for name, region in kps_region.KpsRegion.static_fields.items()}

    ours = {name: [endpoint] for name, endpoint in KPS_ENDPOINTS.items()}

    assert ours == sdk  # every region, and nothing the SDK does not have (eu-west-101)
    for region, [endpoint] in sdk.items():
        env = {"WAITER_REGION": region, "WAITER_PROJECT_ID": PROJECT}
        assert endpoint_of(env) == (endpoint, None), region


def _sdk_regions(table: str) -> list[str]:
    # The regions the SDK's own table has, read from its source: it offers no listing.

    endpoint = pytest.importorskip("huaweicloudsdkcore.auth.endpoint")
    source = Path(endpoint.__file__).read_text()
    body = re.search(table + r" = \{(.*?)\}", source, re.S)
    assert body is not None
    return re.findall(r'"([a-z0-9-]+)":', body.group(1))


@pytest.mark.parametrize("table", ["__IAM_ENDPOINT_DICT", "__STS_ENDPOINT_DICT"])
def test_iam_and_sts_endpoints_are_the_sdks_for_every_region_and_for_none(table: str):
    endpoint = pytest.importorskip("huaweicloudsdkcore.auth.endpoint")
    regions = [*_sdk_regions(table), "xx-moon-1", "eu-west-101", None]
    for region in regions:
        if table == "__IAM_ENDPOINT_DICT":
            sdk = endpoint.get_iam_endpoint_by_id(region, GLOBAL_IAM_ENDPOINT)
            assert iam_endpoint_for(region) == sdk, region
        else:
            sdk = endpoint.get_sts_endpoint_by_id(region, DEFAULT_STS_ENDPOINT)
            assert sts_endpoint_for(region) == sdk, region
    assert GLOBAL_IAM_ENDPOINT == "https://iam.myhuaweicloud.com"


def test_project_lookup_asks_the_iam_the_sdk_would_ask():
    endpoint = pytest.importorskip("huaweicloudsdkcore.auth.endpoint")
    for region in ["cn-north-4", "my-kualalumpur-1", "ru-moscow-1", "xx-moon-1"]:
        plan = make_plan(Settings(access_key="AK", secret_key="SK", region=region))
        assert plan.lookup is not None
        assert plan.lookup.iam_endpoint == endpoint.get_iam_endpoint_by_id(
            region, "https://iam.myhuaweicloud.com"
        ), region


# --- the SDK's per-region variable and regions file: lists, schemes, fail-over --------------


def test_an_endpoint_without_a_scheme_gets_https_as_the_sdks_client_adds():
    env = {
        "WAITER_REGION": REGION,
        "WAITER_PROJECT_ID": PROJECT,
        "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4": "kps.internal.example,https://b.example",
    }
    plan = make_plan(load_settings(env={"WAITER_AUTH_TOKEN": TOKEN, **env}).settings)
    assert (plan.endpoint, plan.fallbacks) == (
        "https://kps.internal.example",
        ("https://b.example",),
    )


def test_an_endpoint_that_cannot_be_reached_gives_way_to_the_next_in_the_list():
    kps = signing_kps()
    kps.add_task("t1", [(0, "RUNNING_RESET"), (3, DONE)])
    dead = f"http://127.0.0.1:{closed_port()}"

    async def scenario():
        async with kps.serve() as url:
            env = {
                "WAITER_REGION": REGION, "WAITER_PROJECT_ID": PROJECT, **SDK_PAIR,
                "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4": f"{dead},{url}",
            }  # fmt: skip
            return await wait_for(["t1"], Settings.load(env=env))

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.SUCCESS
    assert result.polls >= 2  # every poll answered by the second endpoint, none lost


def test_when_no_endpoint_answers_the_task_times_out_naming_the_last_failure():
    dead = [f"http://127.0.0.1:{closed_port()}" for _ in range(2)]

    async def scenario():
        env = {
            "WAITER_REGION": REGION, "WAITER_PROJECT_ID": PROJECT, "WAITER_AUTH_TOKEN": TOKEN,
            "WAITER_TIMEOUT": "5", "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4": ",".join(dead),
        }  # fmt: skip
        return await wait_for(["t1"], Settings.load(env=env))

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.TIMEOUT
    assert "ClientConnectorError" in (result.error or "")


@pytest.mark.parametrize("how", ["flag", "environment", "config file", "Settings"])
def test_waiters_own_endpoint_is_one_url_never_a_list(tmp_path: Path, how: str):
    listed = "https://a.example,https://b.example"
    env = {"WAITER_REGION": REGION, "WAITER_PROJECT_ID": PROJECT, "WAITER_AUTH_TOKEN": TOKEN}
    if how == "Settings":
        settings = Settings(endpoint=listed, project_id=PROJECT, token=TOKEN)
    elif how == "config file":
        config = write(tmp_path / "c.toml", f'[kps]\nendpoint = "{listed}"\n')
        settings = load_settings(config_path=config, env=env).settings
    elif how == "environment":
        settings = load_settings(env={**env, "WAITER_ENDPOINT": listed}).settings
    else:
        settings = load_settings(flags={"endpoint": listed}, env=env).settings

    with pytest.raises(ConfigError) as excinfo:
        make_plan(settings)

    message = config_error(excinfo)
    named = {
        "flag": "--endpoint",
        "environment": "WAITER_ENDPOINT in the environment",
        "config file": f"kps.endpoint in config file {tmp_path / 'c.toml'}",
        "Settings": "endpoint",
    }[how]
    assert message.startswith(f"{named} must be one URL, got {listed!r}")
    # The SDK's list, in a variable or its regions file, is read only when settings are loaded.
    assert ("HUAWEICLOUD_SDK_REGION_KPS_<REGION>" in message) == (how != "Settings")


def test_waiters_own_endpoint_keeps_its_template_and_has_no_fallbacks():
    env = {"WAITER_REGION": REGION, "WAITER_PROJECT_ID": PROJECT, "WAITER_AUTH_TOKEN": TOKEN}
    given = {"endpoint": "https://kps.{region}.internal.example/"}
    plan = make_plan(load_settings(flags=given, env=env).settings)
    assert (plan.endpoint, plan.fallbacks) == ("https://kps.cn-north-4.internal.example", ())


def test_each_listed_endpoint_is_checked_on_its_own_naming_the_variable():
    variable = "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4"
    env = {"WAITER_REGION": REGION, variable: "https://a.example, ftp://b.example"}

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert f"{variable} in the environment must be an http(s) URL" in message
    assert "got 'ftp://b.example'" in message


def _regions_file(tmp_path: Path, text: str) -> dict[str, str]:
    path = write(tmp_path / "regions.yaml", text)
    return {
        "WAITER_REGION": REGION,
        "WAITER_PROJECT_ID": PROJECT,
        "WAITER_AUTH_TOKEN": TOKEN,
        "HUAWEICLOUD_SDK_REGIONS_FILE": str(path),
    }


def test_the_sdks_regions_file_names_the_endpoints_below_the_per_region_variable(tmp_path: Path):
    env = _regions_file(
        tmp_path,
        "# as the SDK documents it\n"
        "ECS:\n  - id: cn-north-4\n    endpoint: https://ecs.example\n"
        "KPS:\n"
        "  - id: cn-north-4\n"
        "    endpoints:\n      - 'https://a.example'\n      - b.example\n"
        '  - id: cn-east-3\n    endpoint: "https://east.example"\n',
    )
    loaded = load_settings(env=env)
    assert loaded.settings.endpoint == "https://a.example,https://b.example"
    assert loaded.sources["endpoint"] == f"regions file {tmp_path / 'regions.yaml'}"
    # The variable beats the file, and a region the file does not list keeps the table's.
    variable = {**env, "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4": "https://var.example"}
    assert load_settings(env=variable).settings.endpoint == "https://var.example"
    other = load_settings(env={**env, "WAITER_REGION": "cn-south-1"}).settings
    assert make_plan(other).endpoint == "https://kms.cn-south-1.myhuaweicloud.com"


def test_the_default_regions_file_is_read_from_the_home_folder(home: Path):
    write(
        home / ".huaweicloud" / "regions.yaml",
        "KPS:\n  - id: cn-north-4\n    endpoint: https://h.example\n",
    )
    env = {"WAITER_REGION": REGION, "WAITER_PROJECT_ID": PROJECT, "HOME": str(home)}
    assert load_settings(env=env).settings.endpoint == "https://h.example"


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        ("KPS:\n  - id: cn-north-4\n    url: https://x\n", 3, "unknown key 'url'"),
        ("  - id: cn-north-4\n", 1, "an indented line before any service name"),
        ("KPS: [1, 2]\n", 1, "expected a service name"),
        ("KPS:\n  endpoint: https://x\n", 2, "expected `- id: REGION`"),
        ("KPS:\n  - id: cn-north-4\n    endpoints: https://x\n", 3, "endpoints takes a list"),
    ],
)
def test_a_regions_file_waiter_cannot_read_is_one_line_naming_the_line(
    tmp_path: Path, text: str, line: int, why: str
):
    env = _regions_file(tmp_path, text)

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert f"regions file {tmp_path / 'regions.yaml'}, line {line}: {why}" in message
