"""A bad value from the environment, a flag or code is one line naming the setting and where it
came from; a malformed secret is refused without echoing it.
"""

from __future__ import annotations

import pytest
from helpers import config_error

from waiter import ConfigError, Settings
from waiter._config._settings import load_settings


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("WAITER_TIMEOUT", "soon", ["environment WAITER_TIMEOUT", "poll.timeout", "'soon'"]),
        ("WAITER_TIMEOUT", "0", ["poll.timeout", "more than 0", "environment WAITER_TIMEOUT"]),
        ("WAITER_TIMEOUT", "nan", ["environment WAITER_TIMEOUT", "a number of seconds"]),
        ("OS_REGION_NAME", "cn north", ["kps.region", "'cn north'", "environment OS_REGION_NAME"]),
        ("HW_PROJECT_ID", "a/b", ["kps.project_id", "'a/b'", "environment HW_PROJECT_ID"]),
        ("WAITER_ENDPOINT", "file:///etc/x", ["kps.endpoint", "environment WAITER_ENDPOINT"]),
        ("WAITER_LOG_LEVEL", "loud", ["log.level", "debug, info, warning, error"]),
    ],
)
def test_a_bad_environment_variable_is_named(
    env: dict[str, str], variable: str, value: str, expected: list[str]
):
    env[variable] = value

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"timeout": "-3"}, ["flag --timeout", "more than 0", "-3"]),
        ({"max_in_flight": "many"}, ["flag --max-in-flight", "whole number", "'many'"]),
        ({"project_id": "a/b"}, ["--project-id", "'a/b'"]),
        ({"region": "CN_NORTH"}, ["--region", "'CN_NORTH'"]),
        ({"min_interval": "9", "max_interval": "3"}, ["--min-interval", "--max-interval"]),
    ],
)
def test_a_bad_flag_is_named(env: dict[str, str], flags: dict[str, object], expected: list[str]):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(flags=flags, env=env)

    message = config_error(excinfo)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


@pytest.mark.parametrize(
    ("variable", "name"),
    [
        ("WAITER_AUTH_TOKEN", "token"),
        ("OS_AUTH_TOKEN", "token"),
        ("HUAWEICLOUD_SDK_SK", "secret_key"),
        ("HW_SECURITY_TOKEN", "security_token"),
    ],
)
def test_a_secret_with_a_newline_is_refused_without_echoing_it(
    env: dict[str, str], variable: str, name: str
):
    env[variable] = "secret-start-71f3\nsecret-end-99e0"

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert "secret-start" not in message
    assert "secret-end" not in message
    assert "71f3" not in message
    assert name in message
    assert f"environment {variable}" in message
    assert excinfo.value.setting == name


def test_a_secret_given_in_code_with_a_space_is_refused_without_echoing_it():
    with pytest.raises(ConfigError) as excinfo:
        Settings(token="abc-5e2d 7a9f-xyz")

    message = config_error(excinfo)
    assert "5e2d" not in message
    assert "7a9f" not in message
    assert "token" in message


def test_a_bad_value_in_code_raises_config_error_naming_the_setting():
    with pytest.raises(ConfigError) as excinfo:
        Settings(max_in_flight=0)

    message = config_error(excinfo)
    assert "poll.max_in_flight" in message
    assert "--max-in-flight" in message
    assert excinfo.value.setting == "max_in_flight"
