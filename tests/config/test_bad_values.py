"""A bad value is one line naming the setting as it was given, and what is accepted.

On the command line that is the flag, the variable or the config key the user wrote; in code it
is the ``Settings`` field, never a flag or a variable the library user did not use. A malformed
secret is refused without echoing it.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import config_error

from waiter import ConfigError, Settings
from waiter._config._settings import load_settings

# What any message about a bad time says is accepted.
DURATIONS = "seconds or a duration such as 90, 1.5s, 10m or 1h30m"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("WAITER_TIMEOUT", "soon", f"WAITER_TIMEOUT in the environment must be {DURATIONS}, got "
         "'soon'"),
        ("WAITER_TIMEOUT", "0", "WAITER_TIMEOUT in the environment must be more than 0, got 0"),
        ("WAITER_TIMEOUT", "nan", f"WAITER_TIMEOUT in the environment must be {DURATIONS}"),
        ("WAITER_TIMEOUT", "10 m", f"WAITER_TIMEOUT in the environment must be {DURATIONS}"),
        ("WAITER_TIMEOUT", "1m1h", f"WAITER_TIMEOUT in the environment must be {DURATIONS}"),
        ("WAITER_REQUEST_TIMEOUT", "-2s", "WAITER_REQUEST_TIMEOUT in the environment must be"),
        ("OS_REGION_NAME", "cn north", "OS_REGION_NAME in the environment must be a region name "
         "such as cn-north-4, got 'cn north'"),
        ("HW_PROJECT_ID", "a/b", "HW_PROJECT_ID in the environment must be 1-64 characters"),
        ("WAITER_ENDPOINT", "file:///etc/x", "WAITER_ENDPOINT in the environment must be an "
         "http(s) URL"),
        ("WAITER_LOG_LEVEL", "loud", "WAITER_LOG_LEVEL in the environment must be one of debug, "
         "info, warning, error, got 'loud'"),
        ("WAITER_FAIL_FAST", "maybe", "WAITER_FAIL_FAST in the environment must be true or false "
         "(or 1/0, yes/no, on/off), got 'maybe'"),
        ("WAITER_RATE", "10m", "WAITER_RATE in the environment must be a number, got '10m'"),
        ("WAITER_MAX_IN_FLIGHT", "2.5", "WAITER_MAX_IN_FLIGHT in the environment must be a whole "
         "number"),
        ("WAITER_PROGRESS_EVERY", "500ms", "WAITER_PROGRESS_EVERY in the environment must be at "
         "least 1 second, got 0.5"),
        ("WAITER_OIDC_DURATION_SECONDS", "1.5s", "WAITER_OIDC_DURATION_SECONDS in the environment "
         "must be a whole number of seconds"),
    ],
)  # fmt: skip
def test_a_bad_environment_variable_is_named(
    env: dict[str, str], variable: str, value: str, says: str
):
    env[variable] = value

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    assert says in config_error(excinfo)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        ({"timeout": "-3"}, "--timeout must be more than 0, got -3"),
        ({"timeout": "soon"}, f"--timeout must be {DURATIONS}, got 'soon'"),
        ({"max_in_flight": "many"}, "--max-in-flight must be a whole number, got 'many'"),
        ({"project_id": "a/b"}, "--project-id must be 1-64 characters of A-Z a-z 0-9 . _ -, got "
         "'a/b'"),
        ({"region": "CN_NORTH"}, "--region must be a region name such as cn-north-4"),
        ({"min_interval": "9", "max_interval": "3"}, "--min-interval (9s) is more than "
         "--max-interval (3s): make the shortest wait between polls at most the longest"),
        # The other side left at its default: named by the flag that changes it.
        ({"min_interval": "1m"}, "--min-interval (1m) is more than --max-interval (20s)"),
    ],
)  # fmt: skip
def test_a_bad_flag_is_named(env: dict[str, str], flags: dict[str, object], says: str):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(flags=flags, env=env)

    assert says in config_error(excinfo)


def test_two_bad_sources_are_each_named_by_where_they_came_from(env: dict[str, str]):
    env["WAITER_MAX_INTERVAL"] = "5s"

    with pytest.raises(ConfigError) as excinfo:
        load_settings(flags={"min_interval": "10s"}, env=env)

    assert config_error(excinfo).startswith(
        "--min-interval (10s) is more than WAITER_MAX_INTERVAL in the environment (5s)"
    )


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
    if name == "security_token":  # a security token alone is refused before it is looked at
        env |= {"HW_ACCESS_KEY": "AKEXAMPLE", "HW_SECRET_KEY": "sk-example"}

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert "secret-start" not in message
    assert "secret-end" not in message
    assert "71f3" not in message
    assert message.startswith(f"{variable} in the environment contains spaces or control")
    assert excinfo.value.setting == name


def test_a_secret_of_the_wrong_type_is_refused_without_echoing_it():
    with pytest.raises(ConfigError) as excinfo:
        Settings(token=b"abc-5e2d")  # type: ignore[arg-type]

    message = config_error(excinfo)
    assert "5e2d" not in message
    assert message == "token must be a str, got a value of type bytes"


def test_values_of_the_annotated_types_are_taken_as_they_are(tmp_path: Path):
    settings = Settings(
        timeout=600, min_interval=0.5, max_in_flight=4, fail_fast=True, token_file=tmp_path,
        success=("DONE",), oidc_policy_ids=("id1",), api="http", oidc_duration_seconds=900,
    )  # fmt: skip

    assert (settings.timeout, settings.min_interval, settings.max_in_flight) == (600, 0.5, 4)
    assert (settings.token_file, settings.success) == (tmp_path, ("DONE",))


def test_a_secret_given_in_code_with_a_space_is_refused_without_echoing_it():
    with pytest.raises(ConfigError) as excinfo:
        Settings(token="abc-5e2d 7a9f-xyz")

    message = config_error(excinfo)
    assert "5e2d" not in message
    assert "7a9f" not in message
    assert message.startswith("token contains spaces or control characters")


# --- in code: the field, never a flag, variable or config key ----------------------------------

# Words of the command line a library error must not use.
CLI_WORDS = ("--", "WAITER_", "poll.", "kps.", "output.", "api.", "log.", "auth.", "environment")


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"timeout": -1}, "timeout must be more than 0, got -1"),
        ({"min_interval": 0}, "min_interval must be more than 0, got 0"),
        ({"max_interval": -2.5}, "max_interval must be more than 0, got -2.5"),
        ({"min_interval": 30}, "min_interval (30s) is more than max_interval (20s): make the "
         "shortest wait between polls at most the longest"),
        ({"min_interval": 5, "max_interval": 1.5}, "min_interval (5s) is more than max_interval "
         "(1.5s)"),
        ({"max_in_flight": 0}, "max_in_flight must be more than 0, got 0"),
        ({"rate": 0}, "rate must be more than 0, got 0"),
        ({"not_found_grace": -1}, "not_found_grace must be 0 or more, got -1"),
        ({"request_timeout": 0}, "request_timeout must be more than 0, got 0"),
        ({"progress_every": 0.5}, "progress_every must be at least 1 second, got 0.5"),
        ({"region": "cn north"}, "region must be a region name such as cn-north-4"),
        ({"project_id": ".."}, "project_id must be 1-64 characters"),
        ({"endpoint": "ftp://x.example"}, "endpoint must be an http(s) URL"),
        ({"status_field": "status"}, "status_field is not a JSON pointer"),
        ({"url_template": "https://x.example/"}, "url_template must be an http(s) URL containing "
         "{task_id}"),
        ({"api_auth_header": "Host"}, "api_auth_header must be a header that carries"),
        ({"oidc_duration_seconds": 0}, "oidc_duration_seconds must be more than 0"),
        ({"access_key": "AKEXAMPLE"}, "access_key is given but secret_key is not"),
        ({"security_token": "st"}, "security_token is given without access_key and secret_key"),
        ({"api_auth": "Bearer a\x01"}, "api_auth contains control or non-ASCII characters"),
        # A value of the wrong type: what the field takes, never a TypeError from deep inside.
        ({"timeout": "10m"}, "timeout must be a number of seconds, got '10m' (give 600)"),
        ({"timeout": "soon"}, "timeout must be a number of seconds, got 'soon'"),
        ({"timeout": timedelta(minutes=2)}, "timeout must be a number of seconds, got "
         "datetime.timedelta(seconds=120) (give its .total_seconds(): 120)"),
        ({"timeout": math.inf}, "timeout must be a number of seconds, got inf (it must be "
         "finite)"),
        ({"max_interval": math.nan}, "max_interval must be a number of seconds, got nan"),
        ({"rate": -math.inf}, "rate must be a number, got -inf (it must be finite)"),
        ({"not_found_grace": None}, "not_found_grace must be a number of seconds, got None"),
        ({"timeout": True}, "timeout must be a number of seconds, got True"),
        ({"max_in_flight": 8.0}, "max_in_flight must be a whole number, got 8.0"),
        ({"oidc_duration_seconds": "1h"}, "oidc_duration_seconds must be a whole number of "
         "seconds, got '1h'"),
        ({"fail_fast": "yes"}, "fail_fast must be True or False, got 'yes'"),
        ({"region": 4}, "region must be a str, got 4"),
        ({"token_file": "/run/token"}, "token_file must be a pathlib.Path, got '/run/token' (wrap "
         "it in pathlib.Path)"),
        ({"success": "SUCCESS_*"}, 'success must be a tuple of status patterns such as '
         "(\"SUCCESS_*\",), got 'SUCCESS_*' (one is a one-item tuple: ('SUCCESS_*',))"),
        ({"failure": ["FAILED_*"]}, "failure must be a tuple of status patterns such as "
         "(\"SUCCESS_*\",), got ['FAILED_*'] (a tuple, not a list)"),
        ({"pending": ()}, "pending must be a tuple of status patterns such as (\"SUCCESS_*\",), "
         "got ()"),
        ({"oidc_policy_ids": "id1"}, 'oidc_policy_ids must be a tuple of IDs such as ("id1", '
         "\"id2\"), got 'id1'"),
        ({"api": "grpc"}, "api must be one of kps, ecs-job, http, got 'grpc'"),
        ({"log_level": "INFO"}, "log_level must be one of debug, info, warning, error, got "
         "'INFO'"),
    ],
)  # fmt: skip
def test_a_bad_value_in_code_names_the_field_only(given: dict[str, object], says: str):
    with pytest.raises(ConfigError) as excinfo:
        Settings(**given)  # type: ignore[arg-type]

    message = config_error(excinfo)
    assert message.startswith(says)
    for word in CLI_WORDS:
        assert word not in message, f"{word!r} in a library error: {message!r}"
    assert excinfo.value.setting in {*given, "secret_key", "access_key", "security_token"}
