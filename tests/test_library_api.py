"""The library speaks Python: an empty list is an empty answer, not a command line's complaint."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from virtual_time import run_virtual

import waiter
from waiter.testing import fake_kps

DONE = "SUCCESS_RESET"


def test_wait_for_no_task_ids_returns_an_empty_list_and_sends_nothing():
    async def scenario():
        async with fake_kps({"t1": [(0, DONE)]}) as kps:
            return kps, await waiter.wait_for([], kps.settings())

    kps, results = run_virtual(scenario())

    assert results == []
    assert kps.requests == []


def test_wait_for_no_task_ids_still_checks_the_settings():
    async def scenario():
        return await waiter.wait_for([], waiter.Settings(token="t"))  # no project, no region

    with pytest.raises(waiter.ConfigError) as caught:
        run_virtual(scenario())

    message = str(caught.value)
    assert "stdin" not in message
    assert "--ids-file" not in message


def test_as_completed_with_no_task_ids_yields_nothing_and_the_waiter_goes_on():
    async def scenario():
        async with fake_kps({"t1": [(0, DONE)]}) as kps, waiter.Waiter(kps.settings()) as w:
            nothing = [result async for result in w.as_completed([])]
            after = await w.wait("t1")
            return nothing, after

    nothing, after = run_virtual(scenario())

    assert nothing == []
    assert after.outcome is waiter.Outcome.SUCCESS


def test_a_single_string_is_still_refused_as_task_ids():
    async def scenario():
        async with fake_kps() as kps:
            await waiter.wait_for("t1", kps.settings())  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="not a single string"):
        run_virtual(scenario())


# --- errors about settings made in code name fields, never the command line's words ----------

# What only the command line reads: flags, variables, config keys and where they come from.
CLI_WORDS = (
    "--", "WAITER_", "HUAWEICLOUD_", "HW_", "OS_", "HC_CONTAINER", "ACTIONS_ID_TOKEN",
    "kps.", "poll.", "tls.", "auth.", "api.", "status.", "output.", "log.", "environment",
    "config file",
)  # fmt: skip
TOKEN = {"project_id": "p", "token": "tok", "endpoint": "https://kms.example.test"}


def _files(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty"
    empty.write_text("")
    empty.chmod(0o600)
    token = tmp_path / "id-token"
    token.write_text("id-token-value")
    token.chmod(0o600)
    profile = tmp_path / "profile"
    profile.write_text("[basic]\nak = AKEXAMPLE\nsk = sk-example\nproject_id = a/b\n")
    profile.chmod(0o600)
    return {"empty": empty, "token": token, "profile": profile, "missing": tmp_path / "missing"}


# Each: the settings (given the files above), and the field the error must name.
BAD_IN_CODE: dict[str, tuple[Callable[[dict[str, Path]], dict[str, Any]], str]] = {
    "negative time": (lambda f: {"timeout": -1}, "timeout"),
    "duration string": (lambda f: {"timeout": "10m"}, "timeout"),
    "timedelta": (lambda f: {"request_timeout": timedelta(seconds=5)}, "request_timeout"),
    "infinite": (lambda f: {"timeout": math.inf}, "timeout"),
    "nan": (lambda f: {"min_interval": math.nan}, "min_interval"),
    "bool for a number": (lambda f: {"rate": True}, "rate"),
    "float for a count": (lambda f: {"max_in_flight": 2.5}, "max_in_flight"),
    "str for a switch": (lambda f: {"fail_fast": "yes"}, "fail_fast"),
    "str for patterns": (lambda f: {"success": "SUCCESS_*"}, "success"),
    "list for patterns": (lambda f: {"pending": ["A_*"]}, "pending"),
    "str for a path": (lambda f: {"token_file": "/run/token"}, "token_file"),
    "unknown api": (lambda f: {"api": "grpc"}, "api"),
    "min over max": (lambda f: {"min_interval": 30, "max_interval": 5}, "min_interval"),
    "no project ID": (lambda f: {"region": "cn-north-4", "token": "tok"}, "project_id"),
    "no region": (lambda f: {"project_id": "p", "token": "tok"}, "region"),
    "no credentials": (lambda f: {"region": "cn-north-4", "project_id": "p"}, "token"),
    "endpoint list": (lambda f: {**TOKEN, "endpoint": "https://a.test,https://b.test"},
                      "endpoint"),
    "plain http": (lambda f: {**TOKEN, "endpoint": "http://kms.example.test"}, "endpoint"),
    "plain http IAM": (lambda f: {"region": "cn-north-4", "access_key": "AK", "secret_key": "SK",
                                  "iam_endpoint": "http://iam.example.test"}, "iam_endpoint"),
    "CA bundle": (lambda f: {**TOKEN, "ca_bundle": f["empty"]}, "ca_bundle"),
    "missing token file": (lambda f: {**TOKEN, "token": None, "token_file": f["missing"]},
                           "token_file"),
    "empty token file": (lambda f: {**TOKEN, "token": None, "token_file": f["empty"]},
                         "token_file"),
    "profile's project ID": (lambda f: {"endpoint": "https://kms.example.test",
                                        "credentials_file": f["profile"]}, "credentials_file"),
    "missing profile": (lambda f: {"endpoint": "https://kms.example.test",
                                   "credentials_file": f["missing"]}, "credentials_file"),
    "http without template": (lambda f: {"api": "http", "success": ("ok",),
                                         "failure": ("no",), "pending": ("p",)}, "url_template"),
    "http without statuses": (lambda f: {"api": "http", "url_template": "https://x.test/{task_id}",
                                         "status_field": "/s"}, "success"),
    "header clash": (lambda f: {"api": "http", "url_template": "https://x.test/{task_id}",
                                "status_field": "/s", "success": ("ok",), "failure": ("no",),
                                "pending": ("p",), "api_huawei_auth": True, "token": "tok",
                                "api_auth": "Bearer x", "api_auth_header": "X-Auth-Token"},
                     "api_auth_header"),
    "empty API auth file": (lambda f: {"api": "http", "url_template": "https://x.test/{task_id}",
                                       "status_field": "/s", "success": ("ok",),
                                       "failure": ("no",), "pending": ("p",),
                                       "api_auth_file": f["empty"]}, "api_auth_file"),
    "half federation": (lambda f: {**TOKEN, "token": None, "idp_id": "idp"}, "id_token_file"),
    "OIDC without a token": (lambda f: {**TOKEN, "token": None, "oidc_provider_urn": "urn:p",
                                        "oidc_agency_urn": "urn:a"}, "oidc_id_token"),
    "half pod identity": (lambda f: {**TOKEN, "token": None,
                                     "pod_credentials_uri": "http://169.254.170.2/v1/c"},
                          "pod_token_file"),
    # Refused when the Waiter starts, before anything is sent.
    "IAM template without region": (lambda f: {**TOKEN, "token": None, "idp_id": "idp",
                                               "id_token_file": f["token"],
                                               "iam_endpoint": "https://iam.{region}.test"},
                                    "region"),
    "plain http STS": (lambda f: {**TOKEN, "token": None, "oidc_provider_urn": "urn:p",
                                  "oidc_agency_urn": "urn:a", "oidc_id_token": "id.token.x",
                                  "sts_endpoint": "http://sts.example.test"},
                       "sts_endpoint"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_IN_CODE))
def test_every_refusal_of_settings_made_in_code_names_fields_not_flags(tmp_path: Path, case: str):
    make, field = BAD_IN_CODE[case]

    async def scenario() -> None:
        async with waiter.Waiter(waiter.Settings(**make(_files(tmp_path)))):
            pass  # pragma: no cover - every case is refused before this

    with pytest.raises(waiter.ConfigError) as caught:
        run_virtual(scenario())

    message = str(caught.value)
    assert "\n" not in message
    for word in CLI_WORDS:
        assert word not in message, f"{word!r} in a library error: {message!r}"
    assert field in message, f"{field!r} not named: {message!r}"
