"""Where the library's events go: the application's structlog when it configured one, else the
standard library's logger "waiter" (quiet until asked), and there always after log_to_stdlib().

tests/conftest.py configures structlog for every test: a test of the unconfigured case resets it
first (the fixture resets it again afterwards), or runs in a subprocess of its own.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest
import structlog
from virtual_time import run_virtual

import waiter
from waiter._event_log import StdlibEventLog
from waiter._redact import remember_secrets
from waiter.testing import Reply, fake_kps

RUNNING, DONE, FAILED = "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"
TOKEN = "tok-5d1c9e0b7a3f4e21"
TASKS = {"ok": [(0, RUNNING), (3, DONE)], "bad": [(0, FAILED)]}


def _wait(tasks=TASKS, **settings):
    async def scenario():
        async with fake_kps(tasks, token=TOKEN) as kps:
            return await waiter.wait_for(list(tasks), kps.settings(min_interval=1, **settings))

    return run_virtual(scenario())


def _run_script(*parts: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "".join(textwrap.dedent(part) for part in parts)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# A wait in a fresh process, on instant waits: one task succeeds, one fails.
_A_WAIT = """
    import asyncio, sys
    import waiter
    from waiter.testing import fake_kps, testing

    async def main():
        tasks = {"ok": [(0, "RUNNING_RESET"), (30, "SUCCESS_RESET")], "bad": [(0, "FAILED_RESET")]}
        async with fake_kps(tasks) as kps:
            return await waiter.wait_for(["ok", "bad"], kps.settings())

    with testing():
        results = asyncio.run(main())
    sys.exit(0 if [r.outcome.value for r in results] == ["success", "failure"] else 9)
"""


def test_an_unconfigured_application_sees_nothing_on_stdout_and_only_warnings_on_stderr():
    ran = _run_script(_A_WAIT)

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == ""  # structlog's default would print every event here, debug included
    # Python's last-resort handler: warnings and worse, the message alone. The failed task's
    # end is a warning; the rest (run_started, status_changed, poll_scheduled...) is not shown.
    [line] = ran.stderr.splitlines()
    assert line.startswith("task_ended task_id=bad outcome=failure status=FAILED_RESET ")


def test_log_to_stdlib_is_one_call_that_shows_waiters_events_on_stderr_even_past_structlog():
    ran = _run_script(
        """
        import structlog, sys
        # The application logs its own events with structlog, to stdout.
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stdout))
        import waiter
        logger = waiter.log_to_stdlib("info")
        assert waiter.log_to_stdlib("info") is logger  # a second call adds no second handler
        """,
        _A_WAIT,
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == ""
    lines = ran.stderr.splitlines()
    assert any(" INFO waiter: run_started tasks=2 " in line for line in lines), ran.stderr
    # Each once (a second call added no second handler), after the time: "DATE TIME LEVEL ...".
    ended = sorted(line.split(" ", 2)[2] for line in lines if " task_ended " in line)
    assert len(ended) == 2
    assert ended[0].startswith("INFO waiter: task_ended task_id=ok outcome=success status=")
    assert ended[1].startswith("WARNING waiter: task_ended task_id=bad outcome=failure ")
    assert "poll_scheduled" not in ran.stderr  # a debug event, below the level asked for


def test_without_structlog_configured_a_stdlib_handler_receives_every_event(caplog):
    structlog.reset_defaults()
    caplog.set_level(logging.DEBUG, logger="waiter")

    ok, bad = _wait()

    records = [record for record in caplog.records if record.name == "waiter"]
    events = [record.waiter_event for record in records]
    assert events[0] == "run_started"
    assert events[-1] == "run_finished"
    assert {"status_changed", "poll_scheduled", "task_ended"} <= set(events)
    ended = {r.waiter_fields["task_id"]: r for r in records if r.waiter_event == "task_ended"}
    assert ended["ok"].levelno == logging.INFO
    assert ended["bad"].levelno == logging.WARNING
    assert ended["bad"].getMessage().startswith("task_ended task_id=bad outcome=failure ")
    assert ended["ok"].waiter_fields["polls"] == ok.polls
    assert (ok.outcome, bad.outcome) == (waiter.Outcome.SUCCESS, waiter.Outcome.FAILURE)


def test_the_stdlib_records_are_redacted(caplog):
    structlog.reset_defaults()
    caplog.set_level(logging.DEBUG, logger="waiter")
    echo = f"upstream said: X-Auth-Token: {TOKEN}".encode()

    [result] = _wait({"echo": [(0, Reply(502, body=echo))]}, timeout=10)

    assert result.outcome is waiter.Outcome.TIMEOUT
    retried = [r for r in caplog.records if getattr(r, "waiter_event", "") == "retry_scheduled"]
    assert retried
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in str(getattr(record, "waiter_fields", ""))
    assert "***" in retried[0].getMessage()


def test_an_application_that_configured_structlog_gets_the_events_there_and_not_in_stdlib(caplog):
    caplog.set_level(logging.DEBUG, logger="waiter")

    with structlog.testing.capture_logs() as events:
        _wait()

    names = [event["event"] for event in events]
    assert names[0] == "run_started"
    assert {"status_changed", "poll_scheduled", "task_ended", "run_finished"} <= set(names)
    assert not [record for record in caplog.records if record.name == "waiter"]


def test_the_choice_is_made_when_the_waiter_is_made():
    structlog.reset_defaults()
    made_before = waiter.Waiter(waiter.Settings(endpoint="http://127.0.0.1:1", project_id="p",
                                                token="t"))  # fmt: skip

    with structlog.testing.capture_logs() as events:
        made_before._log.info("probe")
        waiter.Waiter(made_before.settings)._log.info("probe")

    assert len(events) == 1  # only the Waiter made once structlog was configured


def test_a_traceback_in_a_stdlib_record_is_masked_and_server_text_cannot_drive_a_terminal(caplog):
    caplog.set_level(logging.DEBUG, logger="waiter.test")
    remember_secrets(TOKEN)
    log = StdlibEventLog(logging.getLogger("waiter.test"))

    try:
        raise RuntimeError(f"echoed X-Auth-Token: {TOKEN}")
    except RuntimeError:
        log.debug("task_crashed", task_id="t1", status="\x1b[2JRUNNING", exc_info=True)

    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith('task_crashed task_id=t1 status="\\u001b[2JRUNNING"\nTraceback')
    assert "RuntimeError: echoed X-Auth-Token: ***" in message
    assert TOKEN not in message
    assert record.exc_info is None  # the formatter must not print the unmasked text again


def test_an_event_below_the_level_is_not_even_formatted(caplog):
    caplog.set_level(logging.WARNING, logger="waiter.test")

    class Loud:
        def __str__(self) -> str:
            raise AssertionError("formatted although nobody would see it")

    StdlibEventLog(logging.getLogger("waiter.test")).debug("poll_scheduled", what=Loud())

    assert caplog.records == []


def test_log_to_stdlib_refuses_a_level_that_is_none():
    with pytest.raises(ValueError, match="level must be a logging level such as 'info'"):
        waiter.log_to_stdlib("loud")
