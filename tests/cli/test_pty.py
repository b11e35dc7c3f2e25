"""The command line on a real terminal: ``python -m waiter`` with a pseudo-terminal for stderr
(and stdout), at 40 and 120 columns, against the simulated KPS.

What the program writes is replayed on a tiny terminal (``terminal_screen.Screen``), so the
tests see what a user would: the rows left on the screen at the end, and every line that was
too wide for it. Nothing here depends on how long anything takes: the tasks stay pending for a
second and a half after their first poll (the fake's timelines count from it), the block is
redrawn twice a second and at each task's end, and the process has a minute to exit.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import pytest
import structlog
from helpers import PROJECT, TOKEN, kps_on_a_thread
from terminal_screen import Screen

from waiter._cli._logs import configure_logging, console_colors
from waiter.testing._server import FakeKpsServer

READY, RUNNING, DONE, FAILED = "READY_RESET", "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"
UUID = "aee8d2fe-5484-4753-9177-5a38dc15546c"
TASKS = ["build-1", "build-2", UUID]
# Any colour or style: ESC [ ... m.
SGR = re.compile(r"\x1b\[[0-9;]*m")
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?3[0-7]m")
# A row of the live block: the summary line, or a task's line (two spaces, its ID, two spaces).
BLOCK_ROW = re.compile(r"^(waiter: \d+ of \d+ pending|  \S+  )")
EXIT_WITHIN = 60  # seconds: generous, for a busy machine; never an assertion on speed


@pytest.fixture
def server() -> Iterator[FakeKpsServer]:
    with kps_on_a_thread(timelines_from_first_poll=True) as server:
        yield server


def add_tasks(server: FakeKpsServer) -> None:
    """Three tasks that end one after the other, from 1.5 s after their first poll: the block,
    redrawn twice a second, shows each of them pending at least once (and at each end)."""
    for n, task_id in enumerate(TASKS):
        last = FAILED if task_id == "build-2" else DONE
        server.add_task(task_id, [(0, READY), (0.3, RUNNING), (1.5 + 0.5 * n, last)])


def args(server: FakeKpsServer, *more: str) -> list[str]:
    return [
        "--endpoint", server.url, "--project-id", PROJECT, "--min-interval", "0.1",
        "--max-interval", "0.2", "--rate", "1000", "--timeout", "60", *more,
    ]  # fmt: skip


def environment(**more: str) -> dict[str, str]:
    """The suite's clean environment, no colour choice of the developer's, and the token."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return {**env, "WAITER_AUTH_TOKEN": TOKEN, **more}


@dataclass
class Ran:
    code: int
    terminal: str  # every byte written to the pseudo-terminal, decoded
    stdout: str  # when stdout was a pipe
    stderr: str  # when stderr was a pipe
    columns: int

    def screen(self) -> Screen:
        return Screen(self.columns).feed(self.terminal)


def run_on_a_terminal(
    argv: Sequence[str],
    *,
    columns: int,
    env: Mapping[str, str],
    stdout_on_terminal: bool = True,
    stderr_on_terminal: bool = True,
) -> Ran:
    """Run ``python -m waiter`` with stdout and/or stderr on a pseudo-terminal of ``columns``."""
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    chunks: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: every writer has closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "waiter", *argv],
            stdin=subprocess.DEVNULL,
            stdout=secondary if stdout_on_terminal else subprocess.PIPE,
            stderr=secondary if stderr_on_terminal else subprocess.PIPE,
            env=dict(env),
        )
    finally:
        os.close(secondary)  # the child holds its own copy: EIO comes when it exits
    try:
        stdout, stderr = proc.communicate(timeout=EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"waiter did not exit within {EXIT_WITHIN} s")
    finally:
        reader.join(EXIT_WITHIN)
        os.close(main)
    terminal = b"".join(chunks).decode()
    out = stdout.decode() if stdout else ""
    err = stderr.decode() if stderr else ""
    for shown in (terminal, out, err):
        assert "Traceback" not in shown
        assert TOKEN not in shown
    return Ran(proc.returncode, terminal, out, err, columns)


# --- the live block and the table on one terminal -------------------------------------------------


@pytest.mark.parametrize("columns", [40, 120])
def test_on_a_terminal_the_block_fits_lists_each_task_and_leaves_one_line_a_task(
    server: FakeKpsServer, columns: int
):
    add_tasks(server)

    ran = run_on_a_terminal(args(server, *TASKS), columns=columns, env=environment())

    assert ran.code == 1  # build-2 failed
    screen = ran.screen()
    # No line of the block ever reached the right margin: it never wrapped (log lines and
    # table rows, printed once above it, may).
    assert not [row for row in screen.wrapped if BLOCK_ROW.match(row)]
    # With three tasks, each had a line of its own under the summary, with its status.
    # (At 40 columns a long ID is cut, so that the status stays in view.)
    for task_id in TASKS:
        line = rf"\r\n  {task_id[:8]}\S* +(READY_RESET|RUNNING_RESET|-) +\d+ polls?"
        assert re.search(line, ran.terminal), f"no line for {task_id} in the block"
    lines = screen.lines()
    # The block is gone at the end: the summary is the last line, nothing of the block is left.
    assert lines[-1].startswith("3 tasks in ")
    assert not [line for line in lines if BLOCK_ROW.match(line)]
    # One line a task: the table's row (at the start of a line), no task_ended event besides.
    assert "task_ended" not in ran.terminal
    for task_id in TASKS:
        assert len([line for line in lines if line.startswith(task_id + " ")]) == 1
    assert len([line for line in lines if line.startswith("TASK_ID ")]) == 1
    # Colours on a terminal, unless told otherwise (see the NO_COLOR test).
    assert COLOUR.search(ran.terminal)


@pytest.mark.parametrize(("columns", "server_id_shown"), [(80, False), (120, True)])
def test_the_text_table_fits_the_terminal_but_for_an_error(
    server: FakeKpsServer, columns: int, server_id_shown: bool
):
    add_tasks(server)

    ran = run_on_a_terminal(args(server, *TASKS), columns=columns, env=environment())

    screen = ran.screen()
    header = next(line for line in screen.lines() if line.startswith("TASK_ID "))
    # Every column fits 120 columns with a UUID task ID (118); at 80, SERVER_ID makes way.
    assert ("SERVER_ID" in header) is server_id_shown
    # The header and the rows of the tasks that succeeded never wrapped; a failed task's row
    # may, since its error is never cut.
    succeeded = ("build-1 ", UUID + " ")
    wrapped = [row for row in screen.wrapped if row.startswith(("TASK_ID ", *succeeded))]
    assert not wrapped
    for task_id in succeeded:
        row = next(line for line in screen.lines() if line.startswith(task_id)).split()
        # TASK_ID OUTCOME STATUS [SERVER_ID] POLLS ELAPSED, and no error
        assert len(row) == (6 if server_id_shown else 5)
        assert row[1:3] == ["success", "SUCCESS_RESET"]


def test_no_color_turns_the_colours_off_even_on_a_terminal(server: FakeKpsServer):
    server.add_task("t1", [(0, DONE)])

    ran = run_on_a_terminal(args(server, "t1"), columns=120, env=environment(NO_COLOR="1"))

    assert ran.code == 0
    assert "status_changed" in ran.terminal  # the console log was there, in plain text
    assert not SGR.search(ran.terminal)


def test_json_logs_and_debug_logs_on_the_terminal_keep_every_task_ended(server: FakeKpsServer):
    server.add_task("t1", [(0, DONE)])
    server.add_task("t2", [(0, FAILED)])

    json_logs = run_on_a_terminal(
        args(server, "--log-format", "json", "t1", "t2"), columns=120, env=environment()
    )
    debug_logs = run_on_a_terminal(args(server, "-v", "t1", "t2"), columns=120, env=environment())

    assert json_logs.terminal.count('"event": "task_ended"') == 2
    assert debug_logs.terminal.count("task_ended") == 2


def test_with_stdout_in_a_pipe_the_console_keeps_task_ended(server: FakeKpsServer):
    server.add_task("t1", [(0, DONE)])

    ran = run_on_a_terminal(
        args(server, "--output", "text", "t1"),
        columns=120,
        env=environment(),
        stdout_on_terminal=False,
    )

    assert ran.code == 0
    assert ran.stdout.splitlines()[1].startswith("t1 ")
    assert "task_ended" in ran.terminal  # the table went elsewhere: the console says it


# --- FORCE_COLOR without a terminal ------------------------------------------------------------


def _run_into_pipes(
    argv: Sequence[str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run(
        [sys.executable, "-m", "waiter", *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=EXIT_WITHIN,
        check=False,
    )
    assert "Traceback" not in ran.stderr
    return ran


@pytest.mark.parametrize(
    ("more", "coloured"),
    [
        ({"FORCE_COLOR": "1"}, True),
        ({}, False),
        ({"FORCE_COLOR": ""}, False),  # set but empty: as if unset
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR wins
    ],
    ids=["force", "neither", "force-empty", "both"],
)
def test_force_color_colours_the_console_log_into_a_pipe(
    server: FakeKpsServer, more: dict[str, str], coloured: bool
):
    server.add_task("t1", [(0, DONE)])

    ran = _run_into_pipes(args(server, "--log-format", "console", "t1"), environment(**more))

    assert ran.returncode == 0
    assert "task_ended" in ran.stderr  # not a terminal: every event is kept
    assert bool(COLOUR.search(ran.stderr)) is coloured
    assert not SGR.search(ran.stdout)  # the results never carry colours


# --- the decisions, in-process ---------------------------------------------------------------


class _Pipe:
    def isatty(self) -> bool:
        return False


class _Tty:
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "env", "expected"),
    [
        (_Tty(), {}, True),
        (_Pipe(), {}, False),
        (_Tty(), {"NO_COLOR": "1"}, False),
        (_Tty(), {"NO_COLOR": ""}, True),  # empty: as if unset (no-color.org)
        (_Pipe(), {"FORCE_COLOR": "1"}, True),
        (_Pipe(), {"FORCE_COLOR": "0"}, True),  # any non-empty value
        (_Tty(), {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
    ],
)
def test_console_colours_follow_no_color_then_force_color_then_the_tty(
    stream: object, env: dict[str, str], expected: bool
):
    assert console_colors(stream, env) is expected  # type: ignore[arg-type]


def test_the_console_leaves_out_the_events_it_is_told_to_and_json_keeps_them():
    for json_logs in (False, True):
        stream = io.StringIO()
        configure_logging(
            json=json_logs, level="info", stream=stream, env={}, console_omits={"task_ended"}
        )
        log = structlog.get_logger("waiter")
        log.info("task_ended", task_id="t1")
        log.warning("task_ended", task_id="t2")
        log.info("status_changed", task_id="t1")

        output = stream.getvalue()
        assert ("task_ended" in output) is json_logs
        assert "status_changed" in output
