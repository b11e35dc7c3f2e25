"""``waiter --help`` as a user reads it: the real program in a subprocess, its flags grouped, each
with its choices or kind of value, its default (as ``Settings`` has it) and its variables; the
settings without a flag listed after them; and nothing heavy loaded to say so.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache

import pytest

from waiter import Settings
from waiter._cli._run import EVENT_LOOP_VARIABLE
from waiter._config._table import SPECS, format_duration, parse_bool

# What --help must never load: the settings dataclass and what it needs, the run, the network.
HEAVY = ("dataclasses", "pathlib", "typing", "asyncio", "aiohttp", "structlog", "tomllib",
         "waiter._config._settings", "waiter._waiter", "waiter._cli._run")  # fmt: skip


def waiter_help(columns: int = 100) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "waiter", "--help"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


@cache
def help_text() -> str:
    ran = waiter_help()
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


@cache
def entries() -> dict[str, str]:
    """Each entry of --help: its first word (``--timeout``, ``WAITER_AUTH_SOURCE``) -> its whole
    text, wrapped lines joined."""
    found: dict[str, str] = {}
    current = None
    for line in help_text().splitlines():
        head = re.match(r"  (\S+)", line)
        if head and not line.startswith("   "):
            current = head.group(1).rstrip(",")
            found[current] = line.strip()
        elif current and line.startswith("   "):
            found[current] += " " + line.strip()
        else:
            current = None
    return {name: " ".join(text.split()) for name, text in found.items()}


def shown(value: object, spec) -> str:
    """A default as a user would write it, worked out from Settings' own value."""
    if spec.is_duration:
        return format_duration(value)  # type: ignore[arg-type]
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


FLAG_SPECS = [spec for spec in SPECS if spec.flag]


def test_help_exits_0_with_the_usage_on_stdout():
    ran = waiter_help()

    assert ran.returncode == 0
    assert ran.stdout.startswith("usage: waiter [OPTIONS] TASK_ID [TASK_ID ...]\n")
    assert "waiter --demo" in ran.stdout.split("\n\n")[0]
    assert "exit codes: 0 every task succeeded" in ran.stdout


def test_help_names_the_event_loop_variable_and_its_choices():
    text = " ".join(help_text().split())

    assert f"{EVENT_LOOP_VARIABLE}=auto" in text
    assert "asyncio or uvloop" in text


def test_help_groups_the_flags_in_order():
    titles = [line for line in help_text().splitlines() if re.fullmatch(r"\S.*:", line)]

    assert [title.split(" (")[0].rstrip(":") for title in titles] == [
        "what to wait on", "timing", "auth and endpoint", "statuses and task API",
        "output and reports", "logging", "config and help", "settings without a flag",
        "credentials",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "usage",
    ["--bulk {auto,on,off}", "--output {auto,json,text}", "--api {kps,ecs-job,http}",
     "--log-format {auto,json,console}", "--log-level {debug,info,warning,error}",
     "--timeout DURATION", "--min-interval DURATION", "--not-found-grace DURATION",
     "--request-timeout DURATION", "--progress-every DURATION", "--max-in-flight N", "--rate N",
     "--ca-bundle PATH", "--junit-xml PATH", "--ids-file PATH", "--config PATH",
     "--endpoint URL", "--iam-endpoint URL", "--region REGION", "--project-id ID",
     "--success PATTERN", "--status-field POINTER", "--url-template TEMPLATE"],
)  # fmt: skip
def test_each_flag_shows_its_choices_or_the_kind_of_value_it_takes(usage: str):
    flag = usage.split(maxsplit=1)[0]

    assert entries()[flag].startswith(usage + " "), entries()[flag]


@pytest.mark.parametrize("spec", FLAG_SPECS, ids=lambda spec: str(spec.flag))
def test_each_flag_shows_the_default_settings_has(spec):
    default = getattr(Settings(), spec.name)
    entry = entries()[str(spec.flag)]

    if spec.parse is parse_bool:
        assert "[default:" not in entry  # a switch: the line says what giving it does
    elif default is not None:
        assert f"[default: {shown(default, spec)}]" in entry, entry
    elif spec.unset:
        assert f"[default: {spec.unset}]" in entry, entry


@pytest.mark.parametrize("spec", FLAG_SPECS, ids=lambda spec: str(spec.flag))
def test_each_flag_names_its_variables(spec):
    entry = entries()[str(spec.flag)]

    listed = re.search(r"\[env: ([^\]]+)\]", entry)
    assert listed, f"{spec.flag} names no variable: {entry}"
    names = [item.split("=")[0] for item in listed.group(1).split(", ")]
    assert names == list(spec.env)


def test_every_variable_is_in_the_help():
    # A setting without a flag is an entry of its own, its variables first.
    missing = [v for spec in SPECS for v in spec.env if v not in help_text()]

    assert not missing
    for spec in SPECS:
        if spec.flag is None:
            entry = entries()[spec.env[0]]
            assert entry.startswith(", ".join(spec.env)), entry
            if spec.key:
                assert f"[{spec.key}]" in entry


def test_each_switch_says_what_giving_it_does():
    assert entries()["--no-progress"].startswith("--no-progress no live progress line")
    assert "[env: WAITER_PROGRESS=false]" in entries()["--no-progress"]
    assert "stop at the first task that ends in failure" in entries()["--fail-fast"]
    assert "[env: WAITER_FAIL_FAST=true]" in entries()["--fail-fast"]
    assert "stop at the first task that ends in error" in entries()["--fail-fast-errors"]


def test_times_are_explained_once_for_the_timing_group():
    assert "timing (a time is seconds or a duration: 90, 1.5s, 10m or 1h30m):" in help_text()


def test_help_loads_only_argparse_and_the_settings_table():
    ran = waiter_help()

    imported = {line.split("|")[-1].strip() for line in ran.stderr.splitlines() if "|" in line}
    assert "waiter._config._table" in imported
    assert not [module for module in HEAVY if module in imported]


@pytest.mark.parametrize("columns", [40, 200])
def test_help_fits_narrow_and_wide_terminals(columns: int):
    ran = waiter_help(columns)

    assert ran.returncode == 0
    _usage, rest = ran.stdout.split("\n\n", 1)
    # The help texts are filled to the width (COLUMNS - 2, at least 40). A word is never cut
    # in two, so a long one (a URL, a variable) may run over; so may an entry's name (a flag
    # with its choices, a setting's variables), which argparse puts on a line of its own.
    width = max(columns - 2, 40) + 2  # argparse's indentation takes its own liberties
    texts = [line for line in rest.splitlines() if line.startswith("   ")]
    assert all(len(line.split()) == 1 for line in texts if len(line) > width)
    words = set(re.split(r"[\s,=\]\[]+", ran.stdout))
    assert {variable for spec in SPECS for variable in spec.env} <= words
    assert "https://iam.myhuaweicloud.com" in words
