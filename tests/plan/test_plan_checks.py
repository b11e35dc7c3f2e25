"""What ``Waiter(settings)`` checks before anything runs: a project ID, a region or endpoint,
credentials, and no plain http off this machine; each refusal says how to fix it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from helpers import config_error

from waiter import ConfigError, Settings, Waiter

GOOD = {"region": "cn-north-4", "project_id": "0123456789abcdef", "token": "tok"}


def test_a_waiter_is_made_from_complete_settings_without_a_running_loop():
    Waiter(Settings(**GOOD))
    Waiter(Settings(project_id="p", token="tok", endpoint="https://kms.example.com"))


def test_a_waiter_without_a_project_id_says_how_to_give_one():
    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings(region="cn-north-4", token="tok"))

    message = config_error(excinfo)
    assert "project ID" in message
    for way in ("--project-id", "WAITER_PROJECT_ID", "kps.project_id"):
        assert way in message
    assert excinfo.value.setting == "project_id"


def test_a_waiter_without_region_or_endpoint_says_how_to_give_one():
    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings(project_id="p", token="tok"))

    message = config_error(excinfo)
    for way in ("region", "--region", "WAITER_REGION", "kps.region", "--endpoint"):
        assert way in message
    assert excinfo.value.setting == "region"


def test_a_waiter_without_credentials_says_how_to_give_them():
    with pytest.raises(ConfigError) as excinfo:
        Waiter(Settings(region="cn-north-4", project_id="p"))

    message = config_error(excinfo)
    assert "no credentials" in message
    for way in ("WAITER_AUTH_TOKEN", "--token-file"):
        assert way in message


def test_a_waiter_refuses_plain_http_off_this_machine():
    settings = Settings(project_id="p", token="tok", endpoint="http://kms.example.com")

    with pytest.raises(ConfigError) as excinfo:
        Waiter(settings)

    message = config_error(excinfo)
    assert "http://kms.example.com" in message
    assert "--allow-insecure-http" in message
    Waiter(dataclasses.replace(settings, allow_insecure_http=True))
    Waiter(dataclasses.replace(settings, endpoint="http://127.0.0.1:8080"))


def test_a_waiter_from_loaded_settings_checks_the_same(tmp_path: Path, env: dict[str, str]):
    env.update({"WAITER_REGION": "cn-north-4", "WAITER_AUTH_TOKEN": "tok"})
    with pytest.raises(ConfigError, match="no project ID"):
        Waiter(Settings.load(env=env))
    env["OS_PROJECT_ID"] = "p"
    Waiter(Settings.load(env=env))
