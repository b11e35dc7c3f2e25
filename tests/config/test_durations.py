"""Times as seconds or durations, true/false as people write them, and status lists from the
environment: the same from a flag, a variable and the config file.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from helpers import write

from waiter._config._settings import load_settings
from waiter._config._table import SPECS, format_duration, parse_seconds

TIME_SETTINGS = [spec for spec in SPECS if spec.is_duration]


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("90", 90), ("1.5", 1.5), (" 45 ", 45), ("1e3", 1000), (90, 90), (2.5, 2.5),
        ("1.5s", 1.5), ("10m", 600), ("2h", 7200), ("1h30m", 5400), ("1h0m5s", 3605),
        ("1m30s", 90), ("500ms", 0.5), ("1s500ms", 1.5), ("0.5h", 1800), ("90s", 90),
        ("2m250ms", 120.25),
    ],
)  # fmt: skip
def test_a_time_is_seconds_or_a_duration(written: object, seconds: float):
    assert parse_seconds(written) == seconds


@pytest.mark.parametrize(
    "written",
    ["", "soon", "10 m", "10M", "1m1h", "1h1h", "5d", "m", "h30", "1.s", "-", "nan", "inf",
     "1" + "0" * 400 + "h", True, None, [10]],
)  # fmt: skip
def test_anything_else_is_refused_with_an_example(written: object):
    with pytest.raises(ValueError, match=r"seconds or a duration such as 90, 1\.5s, 10m or 1h30m"):
        parse_seconds(written)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (1800, "30m"), (5400, "1h30m"), (2, "2s"), (90, "1m30s"), (3600, "1h"), (3605, "1h5s"),
        (0, "0s"), (1.5, "1.5s"), (0.25, "0.25s"), (90.5, "90.5s"), (1e-05, "1e-05"),
        # Refused by every check, but a message may show one: plain seconds, as given.
        (-5, "-5.0"), (-1.5, "-1.5"),
    ],
)  # fmt: skip
def test_a_time_is_shown_as_a_person_writes_it(seconds: float, shown: str):
    assert format_duration(seconds) == shown


def test_every_shown_time_reads_back_exactly():
    rng = random.Random(13)
    samples = [rng.uniform(0, 10**6) for _ in range(2000)]
    samples += [float(rng.randrange(0, 10**7)) for _ in range(2000)]
    samples += [rng.uniform(0, 1) * 10 ** -rng.randrange(0, 12) for _ in range(500)]
    samples += [-1.5, -3600.0]
    for seconds in samples:
        assert parse_seconds(format_duration(seconds)) == seconds, seconds


@pytest.mark.parametrize("spec", TIME_SETTINGS, ids=lambda spec: spec.name)
def test_each_time_setting_takes_a_duration_everywhere(tmp_path: Path, env: dict[str, str], spec):
    section, key = str(spec.key).split(".")
    config = write(tmp_path / "c.toml", f'[{section}]\n{key} = "1h2m"\n')
    # A longer min_interval than the default max_interval would be refused: raise that too.
    more = {"max_interval": "5h"} if spec.name == "min_interval" else {}

    from_file = load_settings(flags=more, config_path=config, env=env).settings
    from_env = load_settings(flags=more, env={**env, spec.env[0]: "1h3m"}).settings
    from_flag = load_settings(flags={spec.name: "1h4m", **more}, env=env).settings

    assert getattr(from_file, spec.name) == 3720
    assert getattr(from_env, spec.name) == 3780
    assert getattr(from_flag, spec.name) == 3840


def test_the_oidc_lifetime_takes_a_duration_in_whole_seconds(env: dict[str, str]):
    env["HUAWEICLOUD_OIDC_DURATION_SECONDS"] = "2h"
    assert load_settings(env=env).settings.oidc_duration_seconds == 7200


@pytest.mark.parametrize(
    ("written", "value"),
    [("1", True), ("true", True), ("YES", True), ("on", True), (" True ", True),
     ("0", False), ("false", False), ("no", False), ("Off", False)],
)  # fmt: skip
def test_a_switch_from_the_environment_reads_as_people_write_it(
    env: dict[str, str], written: str, value: bool
):
    env |= {"WAITER_FAIL_FAST": written, "WAITER_PROGRESS": written}

    settings = load_settings(env=env).settings

    assert settings.fail_fast is value
    assert settings.progress is value


def test_status_patterns_from_the_environment_are_comma_separated(env: dict[str, str]):
    env |= {"WAITER_SUCCESS": "DONE, OK_*", "WAITER_PENDING": "QUEUED,,RUNNING_*,"}

    settings = load_settings(env=env).settings

    assert settings.success == ("DONE", "OK_*")
    assert settings.pending == ("QUEUED", "RUNNING_*")


def test_a_repeated_flag_and_commas_add_up(env: dict[str, str]):
    settings = load_settings(flags={"failure": ["FAILED_*,ERROR", "BROKEN"]}, env=env).settings

    assert settings.failure == ("FAILED_*", "ERROR", "BROKEN")


def test_a_flag_beats_the_variable_which_beats_the_file(tmp_path: Path, env: dict[str, str]):
    config = write(tmp_path / "c.toml", '[output]\njunit_xml = "file.xml"\n[poll]\nbulk = "on"\n')
    env |= {"WAITER_JUNIT_XML": "env.xml", "WAITER_BULK": "off", "WAITER_OUTPUT": "text"}

    loaded = load_settings(flags={"bulk": "auto"}, config_path=config, env=env)

    assert loaded.settings.junit_xml == Path("env.xml")
    assert loaded.sources["junit_xml"] == "environment WAITER_JUNIT_XML"
    assert (loaded.settings.bulk, loaded.sources["bulk"]) == ("auto", "flag --bulk")
    assert loaded.settings.output == "text"
