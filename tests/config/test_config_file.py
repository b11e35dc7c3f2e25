"""A bad config file (not TOML, an unknown key or section, a bad value) is one line naming the
file, the key and the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import config_error, write

from waiter import ConfigError
from waiter._config._settings import load_settings

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
        "[poll]\ntimeout = 'soon'\n",
        ["poll.timeout in config file", "seconds or a duration such as 90, 1.5s", "'soon'"],
        id="soon",
    ),
    pytest.param(
        '[poll]\ntimeout = "10 minutes"\n', ["poll.timeout", "1h30m", "'10 minutes'"], id="words"
    ),
    pytest.param('[poll]\nrate = "10m"\n', ["poll.rate", "a number", "'10m'"], id="rate-unit"),
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
        ["poll.min_interval in config file", "must be more than 0, got -1"],
        id="negative-interval",
    ),
    pytest.param(
        "[poll]\nnot_found_grace = -5\n",
        ["poll.not_found_grace in config file", "0 or more"],
        id="negative-grace",
    ),
    pytest.param(
        '[poll]\ntimeout = "0s"\n', ["poll.timeout in config file", "more than 0"], id="zero"
    ),
    pytest.param(
        '[poll]\nmin_interval = "30s"\nmax_interval = 10\n',
        ["poll.min_interval (30s) is more than poll.max_interval (10s) in config file"],
        id="min-over-max",
    ),
    pytest.param(
        '[kps]\nregion = "cn north"\n',
        ["kps.region in config file", "'cn north'", "such as cn-north-4"],
        id="region",
    ),
    pytest.param(
        '[kps]\nproject_id = "abc/../def"\n',
        ["kps.project_id in config file", "A-Z a-z 0-9 . _ -"],
        id="project-id",
    ),
    pytest.param(
        '[kps]\nendpoint = "ftp://kms.example.com"\n',
        ["kps.endpoint in config file", "http(s) URL"],
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
    assert message.count(str(config)) == 1, f"the file is named more than once: {message!r}"
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


def test_an_unknown_empty_section_is_an_error(tmp_path: Path):
    config = write(tmp_path / "config.toml", "[tsl]\n")

    with pytest.raises(ConfigError) as excinfo:
        load_settings(config_path=config, env={})

    assert "'[tsl]'" in config_error(excinfo)


def test_a_config_path_that_is_a_directory_says_so(tmp_path: Path):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(config_path=tmp_path, env={})

    assert "is not a file" in config_error(excinfo)
