"""What ``Waiter(settings)`` checks before anything runs: a project ID, a region or endpoint,
credentials, and no plain http off this machine; each refusal says how to fix it, in the words
of whoever made the settings: fields in code, variables and config keys for ``Settings.load``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from helpers import config_error

from waiter import ConfigError, Settings, Waiter

# Words of the command line that a refusal of settings made in code must not use.
CLI_WORDS = ("--", "WAITER_", "HUAWEICLOUD_", "kps.", "tls.", "auth.", "environment")


def in_code(message: str) -> str:
    for word in CLI_WORDS:
        assert word not in message, f"{word!r} in a library error: {message!r}"
    return message


GOOD = {"region": "cn-north-4", "project_id": "0123456789abcdef", "token": "tok"}


def test_a_waiter_is_made_from_complete_settings_without_a_running_loop():
    Waiter(Settings(**GOOD))
    Waiter(Settings(project_id="p", token="tok", endpoint="https://kms.example.com"))


def test_a_waiter_without_a_project_id_says_how_to_give_one():
    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings(region="cn-north-4", token="tok"))

    assert in_code(config_error(excinfo)) == "no project ID: set project_id"
    assert excinfo.value.setting == "project_id"


def test_a_waiter_without_region_or_endpoint_says_how_to_give_one():
    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings(project_id="p", token="tok"))

    assert in_code(config_error(excinfo)) == (
        "no region: set region; or set endpoint to the whole endpoint URL"
    )
    assert excinfo.value.setting == "region"


def test_a_waiter_without_credentials_says_how_to_give_them():
    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings(region="cn-north-4", project_id="p"))

    message = in_code(config_error(excinfo))
    assert message.startswith(
        "no credentials: set token or token_file; or an access key pair (access_key and "
        "secret_key); or the profile file ~/.huaweicloud/credentials or one named by "
        "credentials_file;"
    )
    for way in ("oidc_provider_urn", "idp_id", "pod_credentials_uri", "set source to ecs-metadata"):
        assert way in message


def test_a_waiter_refuses_plain_http_off_this_machine():
    settings = Settings(project_id="p", token="tok", endpoint="http://kms.example.com")

    with pytest.raises(ConfigError) as excinfo:
        Waiter(settings)

    assert in_code(config_error(excinfo)) == (
        "endpoint is http://kms.example.com, plain http and not on this machine: credentials "
        "would cross in clear text; use https, or set allow_insecure_http if you really mean it"
    )
    Waiter(dataclasses.replace(settings, allow_insecure_http=True))
    Waiter(dataclasses.replace(settings, endpoint="http://127.0.0.1:8080"))


def test_a_waiter_from_loaded_settings_checks_the_same(tmp_path: Path, env: dict[str, str]):
    env.update({"WAITER_REGION": "cn-north-4", "WAITER_AUTH_TOKEN": "tok"})
    with pytest.raises(ConfigError, match="no project ID"):
        Waiter(Settings.load(env=env))
    env["OS_PROJECT_ID"] = "p"
    Waiter(Settings.load(env=env))


def test_loaded_settings_are_told_the_variables_and_keys_that_give_a_setting(
    env: dict[str, str],
):
    # Settings.load reads the environment and the config file, not flags: no flag is advice.
    env["WAITER_AUTH_TOKEN"] = "tok"

    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings.load(env=env))

    assert config_error(excinfo) == (
        "no region: set WAITER_REGION (or HW_REGION_NAME, OS_REGION_NAME, kps.region); or set "
        "WAITER_ENDPOINT (or kps.endpoint) to the whole endpoint URL"
    )


def test_settings_changed_in_code_are_named_as_fields_again(env: dict[str, str]):
    # A value replaced in code no longer comes from where it was read.
    loaded = Settings.load(env={**env, "WAITER_AUTH_TOKEN": "tok", "WAITER_REGION": "cn-north-4"})

    with pytest.raises(ConfigError) as excinfo:
        Waiter(dataclasses.replace(loaded, endpoint="http://kms.example.com"))

    assert config_error(excinfo).startswith("endpoint is http://kms.example.com, plain http")
