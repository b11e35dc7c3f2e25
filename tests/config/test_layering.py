"""Settings layering: defaults, config file, environment and flags, each level beating the one
below and named as the source; of several variables for one setting, the first set wins.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write

from waiter import Settings
from waiter._config._settings import load_settings
from waiter._config._table import SPECS_BY_NAME


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
