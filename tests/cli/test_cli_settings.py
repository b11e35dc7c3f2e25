"""Settings as a user gives them to ``python -m waiter``: durations and variables, stopping at
the first error, and ``--demo`` refusing what it would ignore. The real program in a subprocess
against the simulated KPS on 127.0.0.1 (on its own thread, in real time), or ``main()``
in-process where only the answer to bad usage is looked at.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import PROJECT, TOKEN, kps_on_a_thread, run_main

from waiter.testing._fake import Reply
from waiter.testing._server import FakeKpsServer

RUNNING, DONE = "RUNNING_RESET", "SUCCESS_RESET"


@pytest.fixture
def server() -> Iterator[FakeKpsServer]:
    with kps_on_a_thread(timelines_from_first_poll=True) as server:
        yield server


def waiter(
    server: FakeKpsServer, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m waiter`` aimed at the simulated KPS, the token and JSON logs given in the
    environment (``env`` adds to it), then ``args``."""
    environment = {
        **os.environ,
        "WAITER_AUTH_TOKEN": TOKEN,
        "WAITER_ENDPOINT": server.url,
        "WAITER_PROJECT_ID": PROJECT,
        "WAITER_LOG_FORMAT": "json",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "waiter", *args],
        capture_output=True, text=True, env=environment, timeout=60, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def results(ran: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    return {r["task_id"]: r for r in map(json.loads, ran.stdout.splitlines())}


# --- durations and variables ---------------------------------------------------------------------


def test_a_duration_flag_and_a_duration_variable_drive_the_wait(server: FakeKpsServer):
    server.add_task("slow", [(0, RUNNING)])  # never done
    server.add_task("quick", [(0, RUNNING), (0.3, DONE)])

    ran = waiter(
        server, "--min-interval", "50ms", "--max-interval", "0.2s", "slow", "quick",
        env={"WAITER_TIMEOUT": "2s", "WAITER_RATE": "1000"},
    )  # fmt: skip

    assert ran.returncode == 3, ran.stderr
    found = results(ran)
    assert found["quick"]["outcome"] == "success"
    assert found["slow"]["outcome"] == "timeout"
    assert "deadline of 2 s reached" in str(found["slow"]["error"])
    # 50 ms apart at first, 200 ms at most: far more polls in 2 s than the default 2 s allows.
    assert len(server.requests_for("slow")) >= 8


def test_settings_from_variables_show_as_durations(server: FakeKpsServer):
    ran = waiter(
        server, "--show-config", "--request-timeout", "1m30s",
        env={"WAITER_TIMEOUT": "1h30m", "WAITER_FAIL_FAST_ERRORS": "yes", "WAITER_OUTPUT": "text",
             "WAITER_PENDING": "QUEUED,RUNNING_*"},
    )  # fmt: skip

    assert ran.returncode == 0, ran.stderr
    assert 'timeout = "1h30m"  # environment WAITER_TIMEOUT' in ran.stdout
    assert 'request_timeout = "1m30s"  # flag --request-timeout' in ran.stdout
    assert "fail_fast_errors = true  # environment WAITER_FAIL_FAST_ERRORS" in ran.stdout
    assert 'format = "text"  # environment WAITER_OUTPUT' in ran.stdout
    assert 'pending = ["QUEUED", "RUNNING_*"]  # environment WAITER_PENDING' in ran.stdout


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--timeout", "10minutes"], {}, "--timeout must be seconds or a duration such as 90, "
         "1.5s, 10m or 1h30m, got '10minutes'"),
        # Both from one place: it is said once.
        ([], {"WAITER_MIN_INTERVAL": "1h", "WAITER_MAX_INTERVAL": "5m"}, "WAITER_MIN_INTERVAL (1h) "
         "is more than WAITER_MAX_INTERVAL (5m) in the environment: make the shortest wait"),
        ([], {"WAITER_FAIL_FAST": "sometimes"}, "WAITER_FAIL_FAST in the environment must be true "
         "or false"),
    ],
    ids=["flag", "variables", "switch"],
)  # fmt: skip
def test_a_bad_time_or_switch_is_one_line_and_exit_2(
    server: FakeKpsServer, args: list[str], env: dict[str, str], says: str
):
    ran = waiter(server, *args, "t1", env=env)

    assert ran.returncode == 2
    assert ran.stdout == ""
    [line] = ran.stderr.splitlines()
    assert line.startswith(f"waiter: error: {says}")
    assert server.requests == []


# --- --fail-fast-errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("odd", "ending"),
    [
        ([(0, "PAUSED_RESET")], "unknown status 'PAUSED_RESET'"),
        ([(0, Reply(403, "KPS.0403", "Policy doesn't allow kps:domainKeypairs:get"))], "KPS.0403"),
    ],
    ids=["unknown-status", "403"],
)
@pytest.mark.parametrize("how", [["--fail-fast-errors"], ["--fail-fast", "--fail-fast-errors"]])
def test_fail_fast_errors_stops_the_others_at_the_first_error(
    server: FakeKpsServer, odd: list[tuple[float, object]], ending: str, how: list[str]
):
    server.add_task("odd", odd)  # type: ignore[arg-type]
    server.add_task("slow", [(0, RUNNING)])  # would run until the deadline

    ran = waiter(server, *how, "--min-interval", "0.05", "--timeout", "30", "odd", "slow")

    assert ran.returncode == 4, ran.stderr
    found = results(ran)
    assert found["odd"]["outcome"] == "error"
    assert ending in str(found["odd"]["error"])
    assert found["slow"]["outcome"] == "cancelled"
    assert found["slow"]["error"] == "cancelled by fail_fast_errors: odd ended in error"


def test_the_variable_turns_it_on_too(server: FakeKpsServer):
    server.add_task("odd", [(0, "PAUSED_RESET")])
    server.add_task("slow", [(0, RUNNING)])

    ran = waiter(server, "--timeout", "30s", "odd", "slow", env={"WAITER_FAIL_FAST_ERRORS": "1"})

    assert ran.returncode == 4
    assert results(ran)["slow"]["outcome"] == "cancelled"


def test_fail_fast_alone_does_not_stop_at_an_error(server: FakeKpsServer):
    server.add_task("odd", [(0, "PAUSED_RESET")])
    server.add_task("later", [(0, RUNNING), (0.3, DONE)])

    ran = waiter(server, "--fail-fast", "--min-interval", "0.05", "odd", "later")

    assert ran.returncode == 4
    assert results(ran)["later"]["outcome"] == "success"


def test_a_task_id_after_the_flag_is_still_a_task_id(server: FakeKpsServer):
    # A plain switch, not --fail-fast[=x]: the word after it is never taken as its value.
    server.add_task("t1", [(0, DONE)])

    ran = waiter(server, "--fail-fast-errors", "t1")

    assert ran.returncode == 0, ran.stderr
    assert list(results(ran)) == ["t1"]


# --- --demo refuses what it would ignore -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "variables", "drop"),
    [
        (["t1", "t2"], {}, "the task IDs"),
        (["-"], {}, "- (task IDs from stdin)"),
        (["--ids-file", "ids.txt"], {}, "--ids-file"),
        (["--all"], {}, "--all"),
        (["--api", "ecs-job"], {}, "--api ecs-job"),
        ([], {"WAITER_API": "http"}, "api http from environment WAITER_API (or add --api kps)"),
        (["t1", "--ids-file", "x", "--api", "http"], {}, "the task IDs, --ids-file and --api http"),
    ],
    ids=["ids", "stdin", "ids-file", "all", "api", "api-variable", "several"],
)
def test_demo_refuses_what_it_would_ignore(
    env: dict[str, str], args: list[str], variables: dict[str, str], drop: str
):
    code, stdout, stderr = run_main(["--demo", *args], {**env, **variables})

    assert code == 2
    assert stdout == ""
    assert stderr == (
        "waiter: error: --demo waits on its own tasks of a simulated KPS and would ignore the "
        f"rest: drop {drop}\n"
    )


def test_demo_takes_an_explicit_kps_over_the_environments_api(env: dict[str, str]):
    env["WAITER_API"] = "http"

    code, _, stderr = run_main(["--demo", "--api", "kps", "--show-config"], env)

    assert (code, stderr) == (0, "")


def test_demo_refusal_as_a_user_meets_it(tmp_path: Path):
    ran = subprocess.run(
        [sys.executable, "-m", "waiter", "--demo", "task-1"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip

    assert ran.returncode == 2
    assert ran.stderr.endswith("drop the task IDs\n")
    assert ran.stdout == ""
