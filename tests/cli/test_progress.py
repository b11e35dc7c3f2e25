"""Progress for humans (a live line) and for CI logs (a periodic event)."""

from __future__ import annotations

import asyncio
import io

import structlog

from waiter import Outcome, TaskResult
from waiter._cli._progress import LiveLine, Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _result(task_id: str, outcome: Outcome) -> TaskResult:
    return TaskResult(task_id, outcome, None, None, 1, 1.0, None)


def test_log_lines_print_above_the_live_line_never_through_it():
    screen = _Terminal()
    live = LiveLine(screen)
    live.show("waiter: 2 of 2 pending")

    live.write("an event\n")

    # Cleared, the event printed, the line drawn again below it.
    assert screen.getvalue().endswith("\r\x1b[2Kan event\nwaiter: 2 of 2 pending")


def test_closing_the_live_line_gives_its_place_back():
    screen = _Terminal()
    live = LiveLine(screen)
    live.show("waiter: 1 of 1 pending")

    live.close()
    live.write("summary\n")

    assert screen.getvalue().endswith("\r\x1b[2Ksummary\n")


def test_the_line_counts_outcomes_pending_and_time_left():
    async def scenario() -> str:
        progress = Progress(total=3, timeout=90, live=None, every=30)
        runner = asyncio.create_task(progress.run())
        await asyncio.sleep(0)
        progress.record(_result("a", Outcome.SUCCESS))
        progress.record(_result("b", Outcome.FAILURE))
        line = progress.line()
        runner.cancel()
        return line

    line = asyncio.run(scenario())

    assert line.startswith("waiter: 1 of 3 pending | 1 success, 1 failure | 0:00 elapsed, 1:3")


def test_without_a_terminal_a_progress_event_is_logged_every_period():
    async def scenario() -> None:
        progress = Progress(total=2, timeout=60, live=None, every=0.05)
        runner = asyncio.create_task(progress.run())
        progress.record(_result("a", Outcome.SUCCESS))
        await asyncio.sleep(0.18)
        runner.cancel()

    with structlog.testing.capture_logs() as events:
        asyncio.run(scenario())

    ticks = [e for e in events if e["event"] == "progress"]
    assert 2 <= len(ticks) <= 4
    assert ticks[0]["pending"] == 1
    assert ticks[0]["success"] == 1
