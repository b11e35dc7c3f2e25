"""The token: which of a token and a token file wins, and the token file's own errors (missing,
empty, more than one line), never echoing the token.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import config_error, write

from waiter import ConfigError, Settings
from waiter._auth._headers import SigningAuth, TokenAuth
from waiter._auth._sources import find_credentials
from waiter._config._settings import load_settings


def auth_from_settings(settings: Settings) -> TokenAuth | SigningAuth:
    """The Auth a Waiter would send requests with, for the credentials the settings lead to."""
    found = find_credentials(settings)
    if found.token is not None:
        return TokenAuth(found.token, found.source)
    assert found.keys is not None
    return SigningAuth(found.keys, source=found.source)


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

    # Given in code: named by its field.
    assert config_error(excinfo) == (
        f"token_file {missing} cannot be read (No such file or directory); fix the path"
    )


def test_a_missing_token_file_from_the_command_line_names_the_flag(
    tmp_path: Path, env: dict[str, str]
):
    missing = tmp_path / "no-such-token"
    settings = load_settings(flags={"token_file": str(missing)}, env=env).settings

    with pytest.raises(ConfigError) as excinfo:
        auth_from_settings(settings)

    assert config_error(excinfo).startswith(f"--token-file {missing} cannot be read")


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
