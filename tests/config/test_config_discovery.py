"""Where the config file is found: an explicit path, ``WAITER_CONFIG``, ``XDG_CONFIG_HOME``, then
``~/.config``; a missing file that was asked for is an error; ``Settings.load`` finds it
as the command line does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import config_error, write

from waiter import ConfigError, Settings
from waiter._config._settings import load_settings


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
