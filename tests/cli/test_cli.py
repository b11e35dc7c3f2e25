"""The command line as a user meets it: ``python -m waiter`` against the simulated KPS.

Most tests run the real program in a subprocess against the simulated KPS on 127.0.0.1 (on its
own thread, in real time: ``helpers.kps_on_a_thread``), with the token in the environment, and check
what a user or a pipeline would notice: the exit code, the JSON lines on stdout, the log events
or the one error line on stderr. A few fast tests call ``waiter._cli._main.main`` in-process.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from helpers import PROJECT, TOKEN, kps_on_a_thread

from waiter._cli._main import main
from waiter.testing._server import FakeKpsServer

READY, RUNNING, DONE, FAILED = "READY_RESET", "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"
RESULT_FIELDS = ["task_id", "outcome", "status", "server_id", "polls", "elapsed_s", "error"]
# Short waits between polls and no rate limit to speak of, so every run takes well under 2 s.
FAST = ["--min-interval", "0.05", "--max-interval", "0.2", "--rate", "1000"]
WRONG_TOKEN = "wrong-token-7c2e90"
SECRET_KEY = "sk-secret-5d8b11"
WAITER_SCRIPT = Path(sys.executable).parent / "waiter"


# --- the simulated KPS ---------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeKpsServer]:
    """The simulated KPS on its own thread (real time), with timelines from each first poll.

    A subprocess takes a varying few tenths of a second to start: counting from the first poll
    makes "running at the first poll, done 0.1 s later" hold however long that took.
    """
    with kps_on_a_thread(timelines_from_first_poll=True) as server:
        yield server


# --- running the program --------------------------------------------------------------------


def kps_args(server: FakeKpsServer, *args: str) -> list[str]:
    """Flags aiming at the simulated KPS with short intervals and JSON logs, then ``args``."""
    return [
        "--endpoint", server.url, "--project-id", PROJECT, *FAST, "--log-format", "json", *args,
    ]  # fmt: skip


def env_with(token: str | None = TOKEN) -> dict[str, str]:
    """The environment (already cleaned by the autouse fixture) with the token, if any."""
    env = dict(os.environ)
    if token is not None:
        env["WAITER_AUTH_TOKEN"] = token
    return env


@dataclass
class Ran:
    """A finished run: exit code and output."""

    code: int
    stdout: str
    stderr: str

    @property
    def results(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines()]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr.splitlines()]

    def events_named(self, name: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["event"] == name]

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {result["task_id"]: result for result in self.results}


@dataclass
class Running:
    """A waiter subprocess whose stdout and stderr are read line by line as they come."""

    proc: subprocess.Popen[str]
    env: Mapping[str, str]
    stdout_lines: list[str] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)
    first_stderr_line: threading.Event = field(default_factory=threading.Event)
    readers: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        stdin: str = "",
        command: Sequence[str] = (sys.executable, "-m", "waiter"),
    ) -> Running:
        proc = subprocess.Popen(
            [*command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(env),
        )
        running = cls(proc, env)
        assert proc.stdin is not None
        with proc.stdin:
            proc.stdin.write(stdin)
        for stream, lines in (
            (proc.stdout, running.stdout_lines),
            (proc.stderr, running.stderr_lines),
        ):
            reader = threading.Thread(target=running._read, args=(stream, lines), daemon=True)
            reader.start()
            running.readers.append(reader)
        return running

    def _read(self, stream: io.TextIOBase, lines: list[str]) -> None:
        with stream:
            for line in stream:
                lines.append(line)
                if lines is self.stderr_lines:
                    self.first_stderr_line.set()

    def wait_for_first_log_line(self, timeout: float = 60) -> str:
        assert self.first_stderr_line.wait(timeout), "waiter logged nothing"
        return self.stderr_lines[0]

    def finish(self, timeout: float = 30) -> Ran:
        """Wait for the exit; check that no traceback and no secret was shown.

        ``timeout`` only keeps a hang from blocking the suite: how soon a run ends is tested in
        virtual time (tests/test_run_invariant.py), since a busy machine stretches real seconds.
        """
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.close()
            pytest.fail(f"waiter did not end within {timeout} s")
        for reader in self.readers:
            reader.join(5)
        ran = Ran(code, "".join(self.stdout_lines), "".join(self.stderr_lines))
        check_nothing_leaks(ran, self.env)
        return ran

    def close(self) -> None:
        """Kill the process if it still runs, and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for reader in self.readers:
            reader.join(5)

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_nothing_leaks(ran: Ran, env: Mapping[str, str]) -> None:
    """What holds for every run: no traceback, and no secret from the environment shown."""
    for stream in (ran.stdout, ran.stderr):
        assert "Traceback" not in stream
        for name in ("WAITER_AUTH_TOKEN", "HUAWEICLOUD_SDK_SK"):
            if env.get(name):
                assert env[name] not in stream, f"the value of {name} was shown"


def run_waiter(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: str = "",
    command: Sequence[str] = (sys.executable, "-m", "waiter"),
) -> Ran:
    env = env_with() if env is None else env
    with Running.start(args, env=env, stdin=stdin, command=command) as running:
        return running.finish()


# --- results and exit codes -----------------------------------------------------------------


def test_all_tasks_succeed_exit_0_with_one_result_line_each(server: FakeKpsServer):
    server.add_task("t1", [(0, RUNNING), (0.1, DONE)], server_id="srv-1")
    server.add_task("t2", [(0, DONE)], server_id="srv-2")

    ran = run_waiter(kps_args(server, "t1", "t2"))

    assert ran.code == 0
    assert sorted(r["task_id"] for r in ran.results) == ["t1", "t2"]
    for result in ran.results:
        assert list(result) == RESULT_FIELDS
        assert result["outcome"] == "success"
        assert result["status"] == DONE
        assert result["error"] is None
        assert isinstance(result["polls"], int)
        assert isinstance(result["elapsed_s"], int | float)
    results = ran.by_id()
    assert results["t1"]["server_id"] == "srv-1"
    assert results["t2"]["server_id"] == "srv-2"
    assert results["t1"]["polls"] >= 2  # it was running at first
    assert results["t2"]["polls"] == 1
    assert results["t1"]["elapsed_s"] >= 0.1  # waited until it was done


def test_one_failed_task_exits_1(server: FakeKpsServer):
    server.add_task("good", [(0, DONE)])
    server.add_task("bad", [(0, RUNNING), (0.1, FAILED)])

    ran = run_waiter(kps_args(server, "good", "bad"))

    assert ran.code == 1
    results = ran.by_id()
    assert results["good"]["outcome"] == "success"
    assert results["bad"]["outcome"] == "failure"
    assert results["bad"]["status"] == FAILED


def test_an_unknown_status_exits_4_saying_how_to_accept_it(server: FakeKpsServer):
    server.add_task("odd", [(0, "PAUSED_RESET")])

    ran = run_waiter(kps_args(server, "odd"))

    assert ran.code == 4
    [result] = ran.results
    assert result["outcome"] == "error"
    assert result["status"] == "PAUSED_RESET"
    # The result reads the same to the library: it names the field, the flag and the key.
    assert "add it to pending (--pending, status.pending)" in result["error"]


def test_a_wrong_token_exits_4_naming_the_refusal(server: FakeKpsServer):
    server.add_task("t1", [(0, RUNNING)])
    server.add_task("t2", [(0, RUNNING)])

    ran = run_waiter(kps_args(server, "t1", "t2"), env=env_with(token=WRONG_TOKEN))

    assert ran.code == 4
    assert {r["outcome"] for r in ran.results} == {"error"}
    assert len(ran.results) == 2
    errors = " ".join(r["error"] for r in ran.results)
    assert "APIGW.0301" in errors  # the gateway's code for a 401
    assert "credentials were refused" in errors
    assert len(server.requests) <= 2  # no retries that could lock the account


def test_a_task_still_running_at_the_deadline_exits_3(server: FakeKpsServer):
    server.add_task("slow", [(0, RUNNING)])

    # The task never ends: only the deadline can end the run before finish() gives up.
    with Running.start(kps_args(server, "--timeout", "0.5", "slow"), env=env_with()) as running:
        ran = running.finish()

    assert ran.code == 3
    [result] = ran.results
    assert result["outcome"] == "timeout"
    assert result["status"] == RUNNING
    assert "deadline of 0.5 s" in result["error"]
    assert result["elapsed_s"] >= 0.5


# --- where task IDs come from ---------------------------------------------------------------


def test_task_ids_from_stdin_skip_blank_lines_and_comments(server: FakeKpsServer):
    server.add_task("t1", [(0, DONE)])
    server.add_task("t2", [(0, DONE)])

    ran = run_waiter(kps_args(server, "-"), stdin="# tasks of tonight\n\nt1\n   \n  # t3\nt2\n")

    assert ran.code == 0
    assert sorted(r["task_id"] for r in ran.results) == ["t1", "t2"]
    assert {request.task_id for request in server.requests} == {"t1", "t2"}


def test_task_ids_from_a_file(server: FakeKpsServer, tmp_path: Path):
    server.add_task("t1", [(0, DONE)])
    server.add_task("t2", [(0, FAILED)])
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("# from the deploy job\nt1\n\nt2\n", encoding="utf-8")

    ran = run_waiter(kps_args(server, "--ids-file", str(ids_file)))

    assert ran.code == 1
    assert ran.by_id()["t1"]["outcome"] == "success"
    assert ran.by_id()["t2"]["outcome"] == "failure"


def test_duplicates_across_arguments_stdin_and_file_are_reported_once(
    server: FakeKpsServer, tmp_path: Path
):
    for task_id in ("t1", "t2", "t3"):
        server.add_task(task_id, [(0, DONE)])
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("t2\nt3\nt1\n", encoding="utf-8")

    ran = run_waiter(
        kps_args(server, "t1", "-", "t2", "t1", "--ids-file", str(ids_file)),
        stdin="t3\nt1\n",
    )

    assert ran.code == 0
    assert sorted(r["task_id"] for r in ran.results) == ["t1", "t2", "t3"]
    assert Counter(request.task_id for request in server.requests) == {
        "t1": 1,
        "t2": 1,
        "t3": 1,
    }


# --- output and log formats -----------------------------------------------------------------


def test_text_output_is_aligned_lines_and_a_summary(server: FakeKpsServer):
    server.add_task("a", [(0, DONE)])
    server.add_task("a-much-longer-id", [(0, RUNNING), (0.1, FAILED)])

    ran = run_waiter(kps_args(server, "--output", "text", "a", "a-much-longer-id"))

    assert ran.code == 1
    header, *lines, summary = ran.stdout.splitlines()
    assert header.split() == [
        "TASK_ID", "OUTCOME", "STATUS", "SERVER_ID", "POLLS", "ELAPSED", "ERROR",
    ]  # fmt: skip
    assert len(lines) == 2
    by_id = {line.split()[0]: line for line in lines}
    assert by_id["a"].split()[1:3] == ["success", DONE]
    assert by_id["a-much-longer-id"].split()[1:3] == ["failure", FAILED]
    # The columns line up under the header: each field starts where its name does.
    for index, name in enumerate(["OUTCOME", "STATUS", "SERVER_ID"], start=1):
        assert {line.index(line.split()[index]) for line in lines} == {header.index(name)}
    elapsed_ends = header.index("ELAPSED") + len("ELAPSED")
    assert {line.index("s", elapsed_ends - 1) for line in lines} == {elapsed_ends - 1}
    assert summary.startswith("2 tasks in ")
    assert summary.endswith("1 success, 1 failure")
    assert "{" not in ran.stdout


def test_json_logs_carry_status_changes_task_ends_and_a_final_summary(
    server: FakeKpsServer,
):
    server.add_task("ok", [(0, READY), (0.05, RUNNING), (0.15, DONE)])
    server.add_task("bad", [(0, RUNNING), (0.1, FAILED)])

    ran = run_waiter(kps_args(server, "ok", "bad"))

    assert ran.code == 1
    for event in ran.events:
        assert {"event", "level", "timestamp"} <= set(event)
    changes = ran.events_named("status_changed")
    assert [e["status"] for e in changes if e["task_id"] == "ok"][-1] == DONE
    assert [e["status"] for e in changes if e["task_id"] == "bad"] == [RUNNING, FAILED]
    ended = {e["task_id"]: e for e in ran.events_named("task_ended")}
    assert ended["ok"]["outcome"] == "success"
    assert ended["bad"]["outcome"] == "failure"
    [finished] = ran.events_named("run_finished")
    assert finished["tasks"] == 2
    assert finished["success"] == finished["failure"] == 1
    assert finished["error"] == finished["timeout"] == finished["cancelled"] == 0
    assert ran.events[-1]["event"] == "run_finished"


# --- bad usage ------------------------------------------------------------------------------

ENDPOINT, PROJECT_ARGS = ["--endpoint", "{url}"], ["--project-id", PROJECT]


@dataclass(frozen=True)
class Misuse:
    """A wrong command line or environment, and what its one error line must say."""

    args: list[str]
    says: str  # what the error line must contain
    env: Mapping[str, str | None] = field(default_factory=dict)  # None: remove the variable


MISUSES = {
    "no task IDs": Misuse([*ENDPOINT, *PROJECT_ARGS], "no task IDs given"),
    "dot-dot ID": Misuse([*ENDPOINT, *PROJECT_ARGS, "../x"], "task ID '../x' is not valid"),
    "slash in ID": Misuse([*ENDPOINT, *PROJECT_ARGS, "ok", "a/b"], "task ID 'a/b' is not valid"),
    "129-char ID": Misuse([*ENDPOINT, *PROJECT_ARGS, "x" * 129], f"task ID '{'x' * 129}' is not"),
    "unknown flag": Misuse(
        [*ENDPOINT, *PROJECT_ARGS, "--bogus", "t1"], "unrecognized arguments: --bogus"
    ),
    "timeout not a number": Misuse(
        [*ENDPOINT, *PROJECT_ARGS, "--timeout", "soon", "t1"],
        "--timeout must be seconds or a duration such as 90, 1.5s, 10m or 1h30m, got 'soon'",
    ),
    "negative min interval": Misuse(
        [*ENDPOINT, *PROJECT_ARGS, "--min-interval", "-1", "t1"],
        "--min-interval must be more than 0, got -1",
    ),
    "min above max interval": Misuse(
        [*ENDPOINT, *PROJECT_ARGS, "--min-interval", "5", "--max-interval", "1", "t1"],
        "--min-interval (5s) is more than --max-interval (1s)",
    ),
    "no project ID": Misuse(
        [*ENDPOINT, "t1"], "no project ID: set --project-id (or WAITER_PROJECT_ID,"
    ),
    "no region nor endpoint": Misuse(
        [*PROJECT_ARGS, "t1"], "no region: set --region (or WAITER_REGION,"
    ),
    "no token": Misuse(
        [*ENDPOINT, *PROJECT_ARGS, "t1"],
        "no credentials: set WAITER_AUTH_TOKEN",
        {"WAITER_AUTH_TOKEN": None},
    ),
    "AK without SK": Misuse(
        [*ENDPOINT, *PROJECT_ARGS, "t1"],
        "HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is not",
        {"WAITER_AUTH_TOKEN": None, "HUAWEICLOUD_SDK_AK": "AKEXAMPLE0001"},
    ),
    "SK without AK": Misuse(
        [*ENDPOINT, *PROJECT_ARGS, "t1"],
        "HW_SECRET_KEY is set but HW_ACCESS_KEY is not",
        {"WAITER_AUTH_TOKEN": None, "HW_SECRET_KEY": SECRET_KEY},
    ),
    "AK and SK from two families": Misuse(
        [*ENDPOINT, *PROJECT_ARGS, "t1"],
        "HW_SECRET_KEY is set, but a pair comes from one family",
        {
            "WAITER_AUTH_TOKEN": None,
            "HUAWEICLOUD_SDK_AK": "AKEXAMPLE0001",
            "HW_SECRET_KEY": SECRET_KEY,
        },
    ),
    "missing ids file": Misuse(
        [*ENDPOINT, *PROJECT_ARGS, "--ids-file", "{tmp}/missing.txt"],
        "--ids-file {tmp}/missing.txt cannot be read",
    ),
    # Refused before any connection: an attempt would fail to resolve and retry (exit 3).
    "plain http off loopback": Misuse(
        ["--endpoint", "http://example.invalid", *PROJECT_ARGS, "t1"],
        "--endpoint is http://example.invalid, plain http and not on this machine",
    ),
}


@pytest.mark.parametrize("misuse", MISUSES.values(), ids=MISUSES.keys())
def test_bad_usage_exits_2_with_one_line_and_polls_nothing(
    misuse: Misuse, server: FakeKpsServer, tmp_path: Path
):
    server.add_task("t1", [(0, DONE)])  # were the misuse let through, it would end at once

    def fill(text: str) -> str:
        return text.replace("{url}", server.url).replace("{tmp}", str(tmp_path))

    env = env_with()
    for name, value in misuse.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value

    # FAST first, so a misuse's own interval flags win; were anything polled, a short deadline.
    ran = run_waiter([*FAST, "--timeout", "3", *(fill(arg) for arg in misuse.args)], env=env)

    assert ran.code == 2
    assert ran.stdout == ""
    [line] = ran.stderr.splitlines()
    assert line.startswith("waiter: error: ")
    assert fill(misuse.says) in line
    assert server.requests == []


# --- configuration and secrets --------------------------------------------------------------


def test_show_config_prints_toml_with_sources_and_hides_the_token(server: FakeKpsServer):
    ran = run_waiter(kps_args(server, "--show-config", "t1"))

    assert ran.code == 0
    assert ran.stderr == ""
    settings = tomllib.loads(ran.stdout)
    assert settings["kps"]["endpoint"] == server.url
    assert settings["kps"]["project_id"] == PROJECT
    assert settings["poll"]["min_interval"] == "0.05s"
    assert settings["poll"]["timeout"] == "30m"
    lines = ran.stdout.splitlines()
    assert any(line.startswith("endpoint = ") and "# flag --endpoint" in line for line in lines)
    assert any(line.startswith("timeout = ") and "# default" in line for line in lines)
    assert any('"***"' in line and "environment WAITER_AUTH_TOKEN" in line for line in lines)
    assert TOKEN not in ran.stdout
    assert server.requests == []


def test_the_token_never_appears_even_in_debug_logs(server: FakeKpsServer):
    server.add_task("t1", [(0, RUNNING), (0.1, DONE)])

    ran = run_waiter(kps_args(server, "--log-level", "debug", "t1"))

    assert ran.code == 0
    assert any(event["level"] == "debug" for event in ran.events)
    assert server.requests[0].headers["X-Auth-Token"] == TOKEN  # it was sent...
    assert TOKEN not in ran.stdout  # ...and never shown
    assert TOKEN not in ran.stderr


# --- interruption ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"]
)
def test_a_signal_cancels_every_task_once_and_exits_at_once(
    server: FakeKpsServer, signum: signal.Signals, code: int
):
    task_ids = ["t1", "t2", "t3"]
    for task_id in task_ids:
        server.add_task(task_id, [(0, RUNNING)])

    # The tasks never end and the deadline is twice finish()'s patience: only the signal can end
    # the run in time. That it ends within a second is held in virtual time, where the engine's
    # stop is tested (tests/test_run_invariant.py); here, real seconds would flake under load.
    with Running.start(kps_args(server, "--timeout", "60", *task_ids), env=env_with()) as running:
        running.wait_for_first_log_line()
        running.proc.send_signal(signum)
        ran = running.finish()

    assert ran.code == code
    assert sorted(r["task_id"] for r in ran.results) == task_ids
    assert {r["outcome"] for r in ran.results} == {"cancelled"}
    assert {r["error"] for r in ran.results} == {f"interrupted by {signum.name}"}
    [finished] = ran.events_named("run_finished")
    assert finished["cancelled"] == 3


# Starts waiter the way a shell starts a background job in a script (`waiter ... &`), or nohup:
# with SIGINT ignored, a disposition exec keeps.
_WITH_SIGINT_IGNORED = (
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, '-m', 'waiter', *sys.argv[1:]])",
)


def test_a_sigint_the_parent_ignored_stays_ignored_as_with_every_shell_tool(
    server: FakeKpsServer,
):
    server.add_task("t1", [(0, RUNNING)])

    args = kps_args(server, "--timeout", "60", "t1")
    with Running.start(args, env=env_with(), command=_WITH_SIGINT_IGNORED) as running:
        running.wait_for_first_log_line()
        running.proc.send_signal(signal.SIGINT)
        polls_at_sigint = len(server.requests)
        for _ in range(3000):  # it keeps polling; 30 s at most, so a stopped run fails here
            if len(server.requests) >= polls_at_sigint + 3:
                break
            time.sleep(0.01)
        else:
            pytest.fail("waiter stopped polling after an ignored SIGINT")
        running.proc.send_signal(signal.SIGTERM)
        ran = running.finish()

    assert ran.code == 143
    [result] = ran.results
    assert result["outcome"] == "cancelled"
    assert result["error"] == "interrupted by SIGTERM"


# --- the rest of the command line -----------------------------------------------------------


def test_version_exits_0():
    ran = run_waiter(["--version"])

    assert ran.code == 0
    assert ran.stdout.strip() == f"waiter {version('task-waiter')}"


def test_help_exits_0_and_explains_the_exit_codes():
    ran = run_waiter(["--help"])

    assert ran.code == 0
    assert ran.stdout.startswith("usage: waiter")
    assert "--min-interval" in ran.stdout
    assert "exit codes" in ran.stdout


def test_the_console_script_behaves_like_python_m_waiter(server: FakeKpsServer):
    server.add_task("t1", [(0, RUNNING), (0.1, DONE)])

    ran = run_waiter(kps_args(server, "t1"), command=[str(WAITER_SCRIPT)])

    assert ran.code == 0
    [result] = ran.results
    assert result["task_id"] == "t1"
    assert result["outcome"] == "success"
    assert ran.events_named("run_finished")


# --- in-process: main() returns the exit code -----------------------------------------------


def run_main(argv: list[str], env: dict[str, str], stdin: str = "") -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=stdout, stderr=stderr, env=env)
    assert "Traceback" not in stdout.getvalue() + stderr.getvalue()
    return code, stdout.getvalue(), stderr.getvalue()


IN_PROCESS_ENV = {"WAITER_AUTH_TOKEN": TOKEN, "HOME": "/nonexistent"}


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        ([], "", "no task IDs given"),
        (["-"], "\n# only a comment\n", "no task IDs given"),
        (["t1", ".."], "", "task ID '..' is not valid"),
        (["--timeout", "soon", "t1"], "", "--timeout must be seconds or a duration"),
        (["--output", "yaml", "t1"], "", "--output must be one of auto, json, text, got 'yaml'"),
        (["--bogus", "t1"], "", "unrecognized arguments: --bogus"),
    ],
    ids=["no IDs", "only comments on stdin", "dot-dot", "bad timeout", "bad output", "bad flag"],
)
def test_main_returns_2_for_bad_usage_with_one_line(
    server: FakeKpsServer, args: list[str], stdin: str, says: str
):
    code, stdout, stderr = run_main(
        kps_args(server, "--timeout", "2", *args), IN_PROCESS_ENV, stdin
    )

    assert code == 2
    assert stdout == ""
    [line] = stderr.splitlines()
    assert line.startswith("waiter: error: ")
    assert says in line
    assert server.requests == []


def test_main_without_a_token_returns_2_before_any_request(server: FakeKpsServer):
    code, stdout, stderr = run_main(kps_args(server, "t1"), {"HOME": "/nonexistent"})

    assert code == 2
    assert stdout == ""
    assert stderr.startswith("waiter: error: no credentials")
    assert server.requests == []


@pytest.mark.parametrize(
    ("flag", "says"),
    [("--version", "waiter "), ("--help", "usage: waiter")],
    ids=["--version", "--help"],
)
def test_main_writes_help_and_version_to_the_stdout_it_is_given(flag: str, says: str):
    code, stdout, stderr = run_main([flag], IN_PROCESS_ENV)

    assert code == 0
    assert stdout.startswith(says)
    assert stderr == ""


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stdout is in an interactive shell."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("flags", "json_lines"), [(["--output", "json"], True), ([], False)], ids=["json", "auto"]
)
def test_main_on_a_terminal_prints_text_unless_output_json(
    server: FakeKpsServer, flags: list[str], json_lines: bool
):
    server.add_task("t1", [(0, DONE)])
    server.add_task("t2", [(0, DONE)])
    stdout = Terminal()

    code = main(
        kps_args(server, *flags, "t1", "t2"),
        stdin=io.StringIO(),
        stdout=stdout,
        stderr=io.StringIO(),
        env=IN_PROCESS_ENV,
    )

    assert code == 0
    lines = stdout.getvalue().splitlines()
    if json_lines:
        assert len(lines) == 2
        assert sorted(json.loads(line)["task_id"] for line in lines) == ["t1", "t2"]
        assert all(list(json.loads(line)) == RESULT_FIELDS for line in lines)
    else:
        assert len(lines) == 4  # the header, two results and the summary
        assert lines[-1].endswith("2 success")
        assert not any(line.startswith("{") for line in lines)


def test_main_with_a_wrong_token_names_http_401(server: FakeKpsServer):
    server.add_task("t1", [(0, RUNNING)])
    env = {"WAITER_AUTH_TOKEN": WRONG_TOKEN, "HOME": "/nonexistent"}

    code, stdout, _ = run_main(kps_args(server, "t1"), env)

    assert code == 4
    [result] = [json.loads(line) for line in stdout.splitlines()]
    assert "401" in result["error"]


# --- pipeline reports and progress -----------------------------------------------------------


def test_junit_and_markdown_reports_describe_every_task(server: FakeKpsServer, tmp_path: Path):
    server.add_task("ok", [(0, DONE)])
    server.add_task("bad", [(0, FAILED)])
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    summary.write_text("earlier step\n")

    code, _, _ = run_main(
        kps_args(server, "ok", "bad", "--junit-xml", str(junit), "--summary-file", str(summary)),
        IN_PROCESS_ENV,
    )

    assert code == 1
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    text = summary.read_text()
    assert text.startswith("earlier step\n")  # appended, as $GITHUB_STEP_SUMMARY needs
    assert "| ok | success |" in text
    assert "| bad | failure |" in text


def test_a_report_folder_that_does_not_exist_is_bad_usage_before_polling(
    server: FakeKpsServer, tmp_path: Path
):
    server.add_task("ok", [(0, DONE)])
    missing = tmp_path / "no-such-folder" / "junit.xml"

    code, stdout, stderr = run_main(
        kps_args(server, "ok", "--junit-xml", str(missing)), IN_PROCESS_ENV
    )

    assert code == 2
    assert stdout == ""
    assert "--junit-xml" in stderr
    assert str(missing.parent) in stderr
    assert server.requests == []


def test_without_a_terminal_progress_events_keep_a_long_wait_from_being_silent(
    server: FakeKpsServer,
):
    # Ticks come a second apart at best and late under load: 3.5 s leaves room for two.
    server.add_task("slow", [(0, RUNNING), (3.5, DONE)])

    # One second is the shortest period --progress-every takes.
    code, _, stderr = run_main(kps_args(server, "slow", "--progress-every", "1"), IN_PROCESS_ENV)

    assert code == 0
    ticks = [e for e in map(json.loads, stderr.splitlines()) if e["event"] == "progress"]
    assert len(ticks) >= 2
    assert ticks[0]["pending"] == 1


def test_a_token_file_others_can_read_gets_a_warning(server: FakeKpsServer, tmp_path: Path):
    server.add_task("ok", [(0, DONE)])
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o644)

    code, stdout, stderr = run_main(
        kps_args(server, "ok", "--token-file", str(token_file)), {"HOME": "/nonexistent"}
    )

    assert code == 0
    [warning] = [e for e in map(json.loads, stderr.splitlines()) if e["level"] == "warning"]
    assert warning["event"] == "token_file_readable_by_others"
    assert warning["fix"] == f"chmod 600 {token_file}"
    assert TOKEN not in stdout + stderr


def test_the_command_line_waits_on_ecs_jobs_with_api_ecs_job(server: FakeKpsServer):
    server.add_task("job-1", [(0, "RUNNING"), (0.1, "SUCCESS")])

    code, stdout, _ = run_main(kps_args(server, "--api", "ecs-job", "job-1"), IN_PROCESS_ENV)

    assert code == 0
    [result] = [json.loads(line) for line in stdout.splitlines()]
    assert (result["outcome"], result["status"]) == ("success", "SUCCESS")


def test_uvloop_runs_the_wait_when_installed(server: FakeKpsServer):
    pytest.importorskip("uvloop")
    server.add_task("ok", [(0, DONE)])

    code, _, stderr = run_main(kps_args(server, "ok", "-v"), IN_PROCESS_ENV)

    assert code == 0
    [loop] = [e for e in map(json.loads, stderr.splitlines()) if e["event"] == "event_loop"]
    assert loop["kind"].startswith("uvloop")
