"""Settings resolution as a user meets it: precedence, config discovery, and the errors."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from waiter import ConfigError, Settings, Waiter
from waiter._apis._task_ids import check_task_ids, parse_id_lines
from waiter._auth._headers import SigningAuth, TokenAuth
from waiter._auth._sources import find_credentials
from waiter._cli._show_config import render_toml
from waiter._config._settings import load_settings
from waiter._config._table import SPECS, SPECS_BY_NAME

CONFIG_KEYS = {spec.key for spec in SPECS if spec.key}
SECRET_NAMES = {spec.name for spec in SPECS if spec.secret}


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """A minimal environment, passed explicitly to load_settings(); os.environ is never touched."""
    return {"HOME": str(home)}


def auth_from_settings(settings: Settings) -> TokenAuth | SigningAuth:
    """The Auth a Waiter would send requests with, for the credentials the settings lead to."""
    found = find_credentials(settings)
    if found.token is not None:
        return TokenAuth(found.token, found.source)
    assert found.keys is not None
    return SigningAuth(found.keys, source=found.source)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def config_error(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    """The message, checked to be the one line the command line prints."""
    message = str(excinfo.value)
    assert message.strip(), "a ConfigError must say something"
    assert "\n" not in message, f"not one line: {message!r}"
    assert "\r" not in message, f"not one line: {message!r}"
    return message


# --- precedence ----------------------------------------------------------------------------


@pytest.mark.parametrize("top", ["default", "config", "environment", "flag"])
def test_each_level_overrides_the_one_below_and_is_named_as_the_source(
    tmp_path: Path, env: dict[str, str], top: str
):
    levels = ["default", "config", "environment", "flag"]
    given = levels[: levels.index(top) + 1]
    config = write(tmp_path / "c.toml", "[poll]\ntimeout = 600\n")
    if "environment" in given:
        env["WAITER_TIMEOUT"] = "300"
    resolved = load_settings(
        flags={"timeout": "60"} if "flag" in given else None,
        config_path=config if "config" in given else None,
        env=env,
    )

    expected = {"default": 1800.0, "config": 600.0, "environment": 300.0, "flag": 60.0}[top]
    assert resolved.settings.timeout == expected
    source = {
        "default": None,
        "config": f"config file {config}",
        "environment": "environment WAITER_TIMEOUT",
        "flag": "flag --timeout",
    }[top]
    assert resolved.sources.get("timeout") == source
    if top == "default":
        assert "timeout" not in resolved.sources


def test_a_flag_beats_the_environment_and_the_config_file_at_once(
    tmp_path: Path, env: dict[str, str]
):
    config = write(tmp_path / "c.toml", '[kps]\nregion = "cn-north-1"\n')
    env["WAITER_REGION"] = "cn-north-2"

    resolved = load_settings(flags={"region": "cn-north-3"}, config_path=config, env=env)

    assert resolved.settings.region == "cn-north-3"
    assert resolved.sources["region"] == "flag --region"


def test_settings_from_different_levels_combine(tmp_path: Path, env: dict[str, str]):
    config = write(tmp_path / "c.toml", "[poll]\ntimeout = 600\nmin_interval = 5\n")
    env["WAITER_TIMEOUT"] = "300"

    resolved = load_settings(flags={"max_interval": "50"}, config_path=config, env=env)

    settings = resolved.settings
    assert (settings.timeout, settings.min_interval, settings.max_interval) == (300, 5, 50)
    assert settings.rate == Settings().rate  # untouched: the default
    assert resolved.sources == {
        "timeout": "environment WAITER_TIMEOUT",
        "min_interval": f"config file {config}",
        "max_interval": "flag --max-interval",
    }


def test_flag_values_as_the_command_line_gives_them(env: dict[str, str]):
    # argparse hands over strings, True for switches and lists for repeatable flags.
    flags = {
        "timeout": "90.5",
        "max_in_flight": "4",
        "fail_fast": True,
        "success": ["DONE", "OK_*"],
        "output": "TEXT",
    }
    settings = load_settings(flags=flags, env=env).settings

    assert settings.timeout == 90.5
    assert settings.max_in_flight == 4
    assert settings.fail_fast is True
    assert settings.success == ("DONE", "OK_*")
    assert settings.output == "text"


MULTI_VARIABLE = {
    "region": ("WAITER_REGION", "HW_REGION_NAME", "OS_REGION_NAME"),
    "project_id": (
        "WAITER_PROJECT_ID",
        "HUAWEICLOUD_SDK_PROJECT_ID",
        "HW_PROJECT_ID",
        "OS_PROJECT_ID",
    ),
    "token": ("WAITER_AUTH_TOKEN", "HW_AUTH_TOKEN", "OS_AUTH_TOKEN"),
}
FIRST_SET_CASES = [
    (name, index) for name, variables in MULTI_VARIABLE.items() for index in range(len(variables))
]


def _value(name: str, index: int) -> str:
    return f"cn-north-{index + 1}" if name == "region" else f"{name}-value-{index}"


def test_the_table_of_variables_is_what_the_contract_says():
    for name, variables in MULTI_VARIABLE.items():
        assert SPECS_BY_NAME[name].env == variables


@pytest.mark.parametrize(("name", "first_set"), FIRST_SET_CASES)
def test_the_first_variable_that_is_set_wins(env: dict[str, str], name: str, first_set: int):
    variables = MULTI_VARIABLE[name]
    for index, variable in enumerate(variables):
        if index >= first_set:
            env[variable] = _value(name, index)

    resolved = load_settings(env=env)

    assert getattr(resolved.settings, name) == _value(name, first_set)
    assert resolved.sources[name] == f"environment {variables[first_set]}"


@pytest.mark.parametrize(("name", "first_set"), [c for c in FIRST_SET_CASES if c[1] > 0])
@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_variable_counts_as_unset(
    env: dict[str, str], name: str, first_set: int, empty: str
):
    variables = MULTI_VARIABLE[name]
    for index, variable in enumerate(variables):
        env[variable] = empty if index < first_set else _value(name, index)

    resolved = load_settings(env=env)

    assert getattr(resolved.settings, name) == _value(name, first_set)
    assert resolved.sources[name] == f"environment {variables[first_set]}"


def test_an_empty_variable_does_not_hide_the_config_file(tmp_path: Path, env: dict[str, str]):
    config = write(tmp_path / "c.toml", "[poll]\ntimeout = 600\n")
    env["WAITER_TIMEOUT"] = ""

    resolved = load_settings(config_path=config, env=env)

    assert resolved.settings.timeout == 600
    assert resolved.sources["timeout"] == f"config file {config}"


def test_only_empty_variables_leave_the_setting_unset(env: dict[str, str]):
    for variables in MULTI_VARIABLE.values():
        env.update(dict.fromkeys(variables, ""))

    resolved = load_settings(env=env)

    assert (resolved.settings.region, resolved.settings.project_id) == (None, None)
    assert resolved.settings.token is None
    assert resolved.sources == {}


# --- config file discovery -------------------------------------------------------------------


def _timeout_file(path: Path, seconds: int) -> Path:
    return write(path, f"[poll]\ntimeout = {seconds}\n")


def test_an_explicit_path_is_read_and_beats_every_other_place(
    tmp_path: Path, home: Path, env: dict[str, str]
):
    explicit = _timeout_file(tmp_path / "explicit.toml", 11)
    env["WAITER_CONFIG"] = str(_timeout_file(tmp_path / "from-env.toml", 22))
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    _timeout_file(tmp_path / "xdg" / "waiter" / "config.toml", 33)
    _timeout_file(home / ".config" / "waiter" / "config.toml", 44)

    resolved = load_settings(config_path=explicit, env=env)

    assert resolved.config_file == explicit
    assert resolved.settings.timeout == 11
    assert resolved.sources["timeout"] == f"config file {explicit}"


def test_waiter_config_is_read_when_no_path_is_given(
    tmp_path: Path, home: Path, env: dict[str, str]
):
    from_env = _timeout_file(tmp_path / "from-env.toml", 22)
    env["WAITER_CONFIG"] = str(from_env)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    _timeout_file(tmp_path / "xdg" / "waiter" / "config.toml", 33)
    _timeout_file(home / ".config" / "waiter" / "config.toml", 44)

    resolved = load_settings(env=env)

    assert resolved.config_file == from_env
    assert resolved.settings.timeout == 22


def test_xdg_config_home_is_read_when_neither_path_nor_variable_is_given(
    tmp_path: Path, home: Path, env: dict[str, str]
):
    xdg_file = _timeout_file(tmp_path / "xdg" / "waiter" / "config.toml", 33)
    _timeout_file(home / ".config" / "waiter" / "config.toml", 44)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")

    resolved = load_settings(env=env)

    assert resolved.config_file == xdg_file
    assert resolved.settings.timeout == 33


def test_home_dot_config_is_the_default_place(home: Path, env: dict[str, str]):
    home_file = _timeout_file(home / ".config" / "waiter" / "config.toml", 44)

    resolved = load_settings(env=env)

    assert resolved.config_file == home_file
    assert resolved.settings.timeout == 44
    assert resolved.sources["timeout"] == f"config file {home_file}"


def test_empty_waiter_config_and_xdg_variables_count_as_unset(home: Path, env: dict[str, str]):
    home_file = _timeout_file(home / ".config" / "waiter" / "config.toml", 44)
    env.update({"WAITER_CONFIG": "", "XDG_CONFIG_HOME": ""})

    resolved = load_settings(env=env)

    assert resolved.config_file == home_file


def test_no_config_file_anywhere_means_defaults(tmp_path: Path, env: dict[str, str]):
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-without-a-file")

    resolved = load_settings(env=env)

    assert resolved.config_file is None
    assert resolved.settings == Settings()
    assert resolved.sources == {}


def test_an_explicit_path_that_does_not_exist_is_an_error_naming_it(
    tmp_path: Path, env: dict[str, str]
):
    missing = tmp_path / "nope" / "config.toml"

    with pytest.raises(ConfigError) as excinfo:
        load_settings(config_path=missing, env=env)

    message = config_error(excinfo)
    assert str(missing) in message
    assert "--config" in message
    assert "fix the path" in message


def test_waiter_config_naming_a_missing_file_is_an_error_naming_it(
    tmp_path: Path, env: dict[str, str]
):
    missing = tmp_path / "nope.toml"
    env["WAITER_CONFIG"] = str(missing)

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert str(missing) in message
    assert "WAITER_CONFIG" in message


def test_a_missing_default_file_is_not_an_error(tmp_path: Path, env: dict[str, str]):
    env["XDG_CONFIG_HOME"] = str(tmp_path / "empty")
    assert load_settings(env=env).config_file is None


# --- the token: which source wins, and the token file ---------------------------------------


def test_token_file_flag_beats_a_token_in_the_environment(tmp_path: Path, env: dict[str, str]):
    token_file = write(tmp_path / "token", "from-the-file\n")
    env["WAITER_AUTH_TOKEN"] = "from-the-environment"

    resolved = load_settings(flags={"token_file": str(token_file)}, env=env)

    assert resolved.settings.token is None
    assert resolved.settings.token_file == token_file
    assert resolved.sources["token_file"] == "flag --token-file"
    assert "token" not in resolved.sources
    headers = auth_from_settings(resolved.settings).headers("GET", "https://example.test/")
    assert headers == {"X-Auth-Token": "from-the-file"}


def test_a_token_in_the_environment_beats_the_config_files_token_file(
    tmp_path: Path, env: dict[str, str]
):
    token_file = write(tmp_path / "token", "from-the-file\n")
    config = write(tmp_path / "c.toml", f'[auth]\ntoken_file = "{token_file}"\n')
    env["HW_AUTH_TOKEN"] = "from-the-environment"

    resolved = load_settings(config_path=config, env=env)

    assert resolved.settings.token == "from-the-environment"
    assert resolved.settings.token_file is None
    assert resolved.sources["token"] == "environment HW_AUTH_TOKEN"
    assert "token_file" not in resolved.sources
    headers = auth_from_settings(resolved.settings).headers("GET", "https://example.test/")
    assert headers == {"X-Auth-Token": "from-the-environment"}


def test_the_config_files_token_file_is_used_when_nothing_beats_it(
    tmp_path: Path, env: dict[str, str]
):
    token_file = write(tmp_path / "token", "  from-the-file \n\n")
    config = write(tmp_path / "c.toml", f'[auth]\ntoken_file = "{token_file}"\n')

    resolved = load_settings(config_path=config, env=env)

    assert resolved.settings.token_file == token_file
    assert resolved.sources["token_file"] == f"config file {config}"
    headers = auth_from_settings(resolved.settings).headers("GET", "https://example.test/")
    assert headers == {"X-Auth-Token": "from-the-file"}  # stripped


def test_token_file_flag_beats_the_config_files_token_file(tmp_path: Path, env: dict[str, str]):
    config = write(tmp_path / "c.toml", f'[auth]\ntoken_file = "{tmp_path / "old"}"\n')
    new = write(tmp_path / "new", "new-token")

    resolved = load_settings(flags={"token_file": str(new)}, config_path=config, env=env)

    assert resolved.settings.token_file == new
    assert auth_from_settings(resolved.settings).headers("GET", "u") == {
        "X-Auth-Token": "new-token"
    }


def test_a_token_file_path_starting_with_a_tilde_is_in_the_home_directory(
    home: Path, env: dict[str, str]
):
    # Path.expanduser reads the process's HOME, which conftest points at a temporary directory.
    settings = load_settings(flags={"token_file": "~/token"}, env=env).settings
    assert settings.token_file == Path("~/token").expanduser()
    assert "~" not in str(settings.token_file)


def test_a_missing_token_file_is_an_error_naming_it(tmp_path: Path):
    missing = tmp_path / "no-such-token"

    with pytest.raises(ConfigError) as excinfo:
        auth_from_settings(Settings(token_file=missing))

    message = config_error(excinfo)
    assert str(missing) in message
    assert "--token-file" in message


@pytest.mark.parametrize("content", ["", "\n", "   \n\t\n"])
def test_an_empty_token_file_is_an_error_naming_it(tmp_path: Path, content: str):
    token_file = write(tmp_path / "token", content)

    with pytest.raises(ConfigError) as excinfo:
        auth_from_settings(Settings(token_file=token_file))

    message = config_error(excinfo)
    assert str(token_file) in message
    assert "empty" in message


def test_a_token_file_holding_two_lines_is_refused_without_echoing_the_token(tmp_path: Path):
    token_file = write(tmp_path / "token", "first-half-0a1b\nsecond-half-2c3d\n")

    with pytest.raises(ConfigError) as excinfo:
        auth_from_settings(Settings(token_file=token_file))

    message = config_error(excinfo)
    assert "first-half-0a1b" not in message
    assert "second-half-2c3d" not in message


def test_a_malformed_token_file_is_named_in_the_error(tmp_path: Path):
    token_file = write(tmp_path / "token", "first-half\nsecond-half\n")

    with pytest.raises(ConfigError) as excinfo:
        auth_from_settings(Settings(token_file=token_file))

    assert str(token_file) in config_error(excinfo)


def test_a_token_given_in_code_wins_over_a_token_file(tmp_path: Path):
    settings = Settings(token="in-code", token_file=tmp_path / "does-not-matter")
    assert auth_from_settings(settings).headers("GET", "u") == {"X-Auth-Token": "in-code"}


# --- bad input: one line, naming the setting and how to fix it -------------------------------

BAD_CONFIG_FILES = [
    pytest.param("[poll\ntimeout = 5\n", ["not valid TOML", "fix it"], id="not-toml"),
    pytest.param("timeout =\n", ["not valid TOML", "fix it"], id="no-value"),
    pytest.param(b"\xff\xfe[\x00p\x00", ["not valid TOML", "fix it"], id="not-utf8"),
    pytest.param("[poll]\ntimout = 5\n", ["'poll.timout'", "did you mean poll.timeout"], id="typo"),
    pytest.param(
        "[polling]\ntimeout = 5\n", ["'polling.timeout'", "did you mean poll.timeout"], id="section"
    ),
    pytest.param("[bogus]\nzzz = 5\n", ["'bogus.zzz'", "config.example.toml"], id="unknown"),
    pytest.param("timeout = 5\n", ["'timeout'", "did you mean poll.timeout"], id="no-section"),
    pytest.param(
        "[poll]\ntimeout = 'soon'\n", ["poll.timeout", "a number of seconds", "'soon'"], id="soon"
    ),
    pytest.param(
        '[poll]\nfail_fast = "maybe"\n', ["poll.fail_fast", "true or false", "'maybe'"], id="bool"
    ),
    pytest.param(
        "[poll]\nmax_in_flight = 2.5\n", ["poll.max_in_flight", "whole number", "2.5"], id="count"
    ),
    pytest.param(
        "[status]\nsuccess = 5\n", ["status.success", 'such as ["SUCCESS_*"]'], id="patterns"
    ),
    pytest.param('[status]\nfailure = ["", "X"]\n', ["status.failure", "non-empty"], id="blank"),
    pytest.param('[output]\nformat = "yaml"\n', ["output.format", "auto, json, text"], id="fmt"),
    pytest.param(
        "[poll]\nmin_interval = -1\n",
        ["poll.min_interval", "more than 0", "-1", "--min-interval"],
        id="negative-interval",
    ),
    pytest.param(
        "[poll]\nnot_found_grace = -5\n",
        ["poll.not_found_grace", "0 or more", "--not-found-grace"],
        id="negative-grace",
    ),
    pytest.param(
        "[poll]\ntimeout = 0\n", ["poll.timeout", "more than 0", "--timeout"], id="zero-timeout"
    ),
    pytest.param(
        "[poll]\nmin_interval = 30\nmax_interval = 10\n",
        ["poll.min_interval (30)", "poll.max_interval (10)", "at most --max-interval"],
        id="min-over-max",
    ),
    pytest.param(
        '[kps]\nregion = "cn north"\n',
        ["kps.region", "'cn north'", "such as cn-north-4", "--region"],
        id="region",
    ),
    pytest.param(
        '[kps]\nproject_id = "abc/../def"\n',
        ["kps.project_id", "A-Z a-z 0-9 . _ -", "--project-id"],
        id="project-id",
    ),
    pytest.param(
        '[kps]\nendpoint = "ftp://kms.example.com"\n',
        ["kps.endpoint", "http(s) URL", "--endpoint"],
        id="ftp-endpoint",
    ),
    pytest.param(
        '[kps]\nendpoint = "kms.example.com"\n', ["kps.endpoint", "http(s) URL"], id="no-scheme"
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CONFIG_FILES)
def test_a_bad_config_file_is_one_line_naming_the_file_the_key_and_the_fix(
    tmp_path: Path, env: dict[str, str], text: str | bytes, expected: list[str]
):
    config = write(tmp_path / "config.toml", text)

    with pytest.raises(ConfigError) as excinfo:
        load_settings(config_path=config, env=env)

    message = config_error(excinfo)
    assert str(config) in message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


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


# --- what Waiter(settings) checks ------------------------------------------------------------

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


# --- task IDs --------------------------------------------------------------------------------


def test_id_lines_ignore_blanks_and_comments():
    text = "a1\n\n   \n# a comment\n  # indented comment\n  b2  \nc3\r\n"
    assert parse_id_lines(text) == ["a1", "b2", "c3"]


def test_task_ids_are_deduplicated_in_first_seen_order():
    assert check_task_ids(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


@pytest.mark.parametrize(
    "bad", ["", ".", "..", "a/b", "a b", "%2e", "a\nb", "a\\b", "é", "x" * 129, "a?b", "a#b"]
)
def test_a_malformed_task_id_is_refused_naming_it(bad: str):
    with pytest.raises(ConfigError) as excinfo:
        check_task_ids(["good-id", bad])

    message = config_error(excinfo)
    assert repr(bad) in message
    assert "1-128 characters" in message


def test_the_longest_task_id_of_the_allowed_alphabet_is_accepted():
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
    longest = (alphabet * 2)[:128]
    assert len(longest) == 128
    assert check_task_ids([longest, "...", "a.b", "-"]) == [longest, "...", "a.b", "-"]


def test_no_task_ids_is_an_error_saying_how_to_give_them():
    with pytest.raises(ConfigError) as excinfo:
        check_task_ids([])

    message = config_error(excinfo)
    assert "no task IDs" in message
    assert "--ids-file" in message


def test_task_ids_from_a_list_that_is_only_comments_are_an_error():
    with pytest.raises(ConfigError):
        check_task_ids(parse_id_lines("# nothing here\n\n"))


# --- --show-config (render_toml) -------------------------------------------------------------


def _sections(text: str) -> dict[str, list[str]]:
    """The lines of each [section] of a rendered file."""
    lines: dict[str, list[str]] = {}
    section = ""
    for line in text.splitlines():
        header = re.fullmatch(r"\[(\w+)\]", line.strip())
        if header:
            section = header.group(1)
        else:
            lines.setdefault(section, []).append(line)
    return lines


SET_LINE = re.compile(r"\w+ = .+  # (default|config file .+|environment \w+|flag --[\w-]+)")


@pytest.fixture
def rich(tmp_path: Path, env: dict[str, str]):
    """Settings from every level, with every kind of secret in the environment."""
    token_file = write(tmp_path / "token", "tok")
    config = write(
        tmp_path / "c.toml",
        '[kps]\nregion = "cn-north-4"\n'
        "[poll]\ntimeout = 600\nrate = 2.5\nfail_fast = true\n"
        f'[tls]\nca_bundle = "{tmp_path / "ca.pem"}"\n'
        '[status]\npending = ["QUEUED", "RUNNING_*"]\n'
        '[log]\nlevel = "debug"\n',
    )
    env.update(
        {
            "WAITER_PROJECT_ID": "0123456789abcdef",
            "WAITER_AUTH_TOKEN": "tok-secret-1a2b3c",
            "HUAWEICLOUD_SDK_AK": "ak-secret-4d5e6f",
            "HUAWEICLOUD_SDK_SK": "sk-secret-7a8b9c",
            # One family: a security token from HW_* would not belong to this pair.
            "HUAWEICLOUD_SDK_SECURITY_TOKEN": "st-secret-0d1e2f",
        }
    )
    flags = {"max_interval": "45", "output": "text", "token_file": str(token_file)}
    return load_settings(flags=flags, config_path=config, env=env)


def test_show_config_is_valid_toml_with_every_key(env: dict[str, str]):
    resolved = load_settings(env=env)
    text = render_toml(resolved)

    document = tomllib.loads(text)
    sections = _sections(text)
    for spec in SPECS:
        if spec.key is None:
            continue
        table, key = spec.key.split(".")
        value = getattr(resolved.settings, spec.name)
        if value is None:
            assert table not in document or key not in document[table]
            assert any(line.startswith(f"# {key} ") for line in sections[table]), spec.key
        else:
            assert key in document[table], spec.key


def test_show_config_names_the_source_of_each_value(rich):
    text = render_toml(rich)
    sections = _sections(text)

    assert f"# config file: {rich.config_file}" in text
    assert f"timeout = 600  # config file {rich.config_file}" in sections["poll"]
    assert "max_interval = 45  # flag --max-interval" in sections["poll"]
    assert "min_interval = 2  # default" in sections["poll"]
    assert "rate = 2.5" in text
    assert 'project_id = "0123456789abcdef"  # environment WAITER_PROJECT_ID' in sections["kps"]
    assert 'format = "text"  # flag --output' in sections["output"]
    assert 'pending = ["QUEUED", "RUNNING_*"]' in "\n".join(sections["status"])
    # every set key is "key = value  # source"
    for lines in sections.values():
        for line in lines:
            if line and not line.startswith("#"):
                assert SET_LINE.fullmatch(line), line


def test_show_config_never_shows_a_secret(rich):
    text = render_toml(rich)

    for secret in ("tok-secret", "1a2b3c", "ak-secret", "sk-secret", "st-secret"):
        assert secret not in text
    # the token file beat the token, so the token is gone; the other secrets are shown as ***
    for name in ("access_key", "secret_key", "security_token"):
        assert f'# {name} = "***"' in text
    assert "token_file = " in text  # a path, not a secret


def test_show_config_shows_a_token_from_the_environment_as_stars(env: dict[str, str]):
    env["OS_AUTH_TOKEN"] = "tok-secret-9f8e7d"
    text = render_toml(load_settings(env=env))

    assert "tok-secret" not in text
    assert '# token = "***"  # environment OS_AUTH_TOKEN' in text


def test_show_config_output_read_back_as_a_config_file_gives_the_same_settings(
    tmp_path: Path, home: Path, rich
):
    saved = write(tmp_path / "saved.toml", render_toml(rich))

    again = load_settings(config_path=saved, env={"HOME": str(home)}).settings

    # Everything but the secrets, which are never written out.
    no_secrets = dict.fromkeys(SECRET_NAMES)
    assert again == dataclasses.replace(rich.settings, **no_secrets)
    assert again != Settings()


def test_settings_repr_never_shows_a_secret(rich):
    everything = Settings(
        token="tok-secret-1", access_key="ak-secret-2", secret_key="sk-secret-3",
        security_token="st-secret-4",
    )  # fmt: skip
    for settings in (rich.settings, everything):
        shown = repr(settings) + str(settings)
        assert "secret" not in shown
        assert "tok-secret" not in shown
    assert "Settings(" in repr(everything)


# --- Settings.load and the SPECS table -------------------------------------------------------


def test_settings_load_is_resolve_without_flags(tmp_path: Path, env: dict[str, str]):
    config = write(tmp_path / "c.toml", '[poll]\ntimeout = 600\n[kps]\nregion = "cn-north-1"\n')
    env.update({"HW_REGION_NAME": "cn-north-9", "WAITER_AUTH_TOKEN": "tok"})

    loaded = Settings.load(config, env)

    assert loaded == load_settings(config_path=config, env=env).settings
    assert (loaded.timeout, loaded.region, loaded.token) == (600, "cn-north-9", "tok")


def test_settings_load_finds_the_config_file_as_the_command_line_does(
    tmp_path: Path, env: dict[str, str]
):
    _timeout_file(tmp_path / "xdg" / "waiter" / "config.toml", 77)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")

    assert Settings.load(env=env) == load_settings(env=env).settings
    assert Settings.load(env=env).timeout == 77
    assert Settings.load(str(_timeout_file(tmp_path / "s.toml", 5)), env).timeout == 5


def test_settings_load_raises_the_same_errors(tmp_path: Path, env: dict[str, str]):
    config = write(tmp_path / "c.toml", "[poll]\ntimout = 5\n")
    with pytest.raises(ConfigError, match=r"did you mean poll\.timeout"):
        Settings.load(config, env)


# Fields whose config key is not "<section>.<field name>" (the contract names them).
RENAMED = {
    "output": "output.format",
    "log_format": "log.format",
    "log_level": "log.level",
    "api": "api.kind",
    # --api http's own auth: section-prefixed, as log_format is, since "auth" alone is ambiguous.
    "api_huawei_auth": "api.huawei_auth",
    "api_auth_header": "api.auth_header",
    "api_auth_file": "api.auth_file",
}


def test_every_settings_field_has_exactly_one_spec():
    field_names = [f.name for f in dataclasses.fields(Settings)]
    spec_names = [spec.name for spec in SPECS]
    assert sorted(spec_names) == sorted(field_names)
    assert len(set(spec_names)) == len(spec_names)


def test_config_keys_are_the_settings_fields_that_have_them():
    with_keys = {spec.name: spec.key for spec in SPECS if spec.key}
    assert len(set(with_keys.values())) == len(with_keys), "two settings share a config key"
    assert set(with_keys.values()) == CONFIG_KEYS
    for name, key in with_keys.items():
        assert key == RENAMED.get(name) or key.split(".")[1] == name, (name, key)
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", key)
    # Only the secrets have no config key: they never go in a file.
    no_key = {f.name for f in dataclasses.fields(Settings)} - set(with_keys)
    assert (
        no_key
        == SECRET_NAMES
        == {"token", "access_key", "secret_key", "security_token", "api_auth"}
    )


def test_secrets_have_no_flag_and_are_kept_out_of_repr():
    repr_fields = {f.name for f in dataclasses.fields(Settings) if f.repr}
    for spec in SPECS:
        if spec.secret:
            assert spec.flag is None, f"{spec.name} must never be a flag"
            assert spec.name not in repr_fields


def test_every_default_survives_its_own_parser():
    defaults = Settings()
    for spec in SPECS:
        default = getattr(defaults, spec.name)
        if default is not None:
            raw = list(default) if isinstance(default, tuple) else default
            assert spec.parse(raw) == default, spec.name


def test_an_unknown_empty_section_is_an_error(tmp_path: Path):
    config = write(tmp_path / "config.toml", "[tsl]\n")

    with pytest.raises(ConfigError) as excinfo:
        load_settings(config_path=config, env={})

    assert "'[tsl]'" in config_error(excinfo)


def test_a_config_path_that_is_a_directory_says_so(tmp_path: Path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(config_path=tmp_path, env={})

    assert "is not a file" in config_error(excinfo)
