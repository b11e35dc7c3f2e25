"""Progress for humans (a live block) and for CI logs (a periodic event).

What is drawn is replayed on a tiny terminal (``terminal_screen.Screen``), so the tests see
what a user would: the rows left on the screen, and whether a line was too wide for it.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Sequence

import structlog
from helpers import fake_kps, settings_for
from terminal_screen import Screen
from virtual_time import run_virtual

from waiter import Outcome, TaskResult, Waiter
from waiter._cli._columns import columns, fit, pad
from waiter._cli._progress import MAX_TASK_LINES, LiveBlock, Progress, task_lines
from waiter._engine._engine import PendingTask
from waiter._redact import remember_secrets

UUID = "aee8d2fe-5484-4753-9177-5a38dc15546c"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Size:
    """A terminal size a test can change between draws, as a user resizing the window."""

    def __init__(self, columns: int, lines: int = 24) -> None:
        self.columns, self.lines = columns, lines

    def __call__(self) -> tuple[int, int]:
        return self.columns, self.lines


def _result(task_id: str, outcome: Outcome) -> TaskResult:
    return TaskResult(task_id, outcome, None, None, 1, 1.0, None)


def _block(columns: int = 80, lines: int = 24) -> tuple[_Terminal, LiveBlock, _Size]:
    screen, size = _Terminal(), _Size(columns, lines)
    return screen, LiveBlock(screen, size=size), size


# --- the block on a terminal --------------------------------------------------------------------


def test_log_lines_print_above_the_block_never_through_it():
    screen, live, _ = _block()
    live.show(["waiter: 2 of 2 pending"])

    live.write("an event\n")

    # Erased, the event printed, the block drawn again below it.
    assert screen.getvalue().endswith("\r\x1b[2Kan event\nwaiter: 2 of 2 pending")


def test_a_block_of_several_lines_is_redrawn_in_place_with_log_lines_above():
    screen, live, _ = _block()
    live.show(["waiter: 2 of 2 pending", "  a  READY_RESET  1 poll", "  b  -            0 polls"])
    live.write("event one\n")
    live.show(["waiter: 1 of 2 pending", "  b  RUNNING_RESET  2 polls"])
    live.write("event two\n")

    assert Screen(80).feed(screen.getvalue()).lines() == [
        "event one",
        "event two",
        "waiter: 1 of 2 pending",
        "  b  RUNNING_RESET  2 polls",
    ]


def test_closing_the_block_gives_its_place_back():
    screen, live, _ = _block()
    live.show(["waiter: 1 of 1 pending", f"  {UUID}  RUNNING_RESET  3 polls"])

    live.close()
    live.write("summary\n")

    assert Screen(80).feed(screen.getvalue()).lines() == ["summary"]


def test_every_line_is_cut_to_the_width_measured_at_each_draw():
    screen, live, size = _block(columns=120)
    long_line = "waiter: 3 of 3 pending | 0:01 elapsed, 29:58 left"
    task_line = f"  {UUID}  RUNNING_RESET  3 polls"
    live.show([long_line, task_line])
    drawn_wide = len(screen.getvalue())
    size.columns = 40  # the window is made narrower: the next draw fits the new width
    live.write("an event\n")
    live.show([long_line, task_line])

    terminal = Screen(120).feed(screen.getvalue()[:drawn_wide])
    assert terminal.lines() == [long_line, task_line]
    terminal.resize(40).feed(screen.getvalue()[drawn_wide:])
    assert terminal.wrapped == []  # no line of the block reached the margin
    [event, summary, task] = terminal.lines()
    assert event == "an event"
    assert summary == long_line[:38] + "…"
    assert columns(summary) == 39  # one short of the width
    assert task.startswith(f"  {UUID[:20]}")


def test_a_block_taller_than_the_terminal_shows_its_first_line_only():
    screen, live, _ = _block(lines=3)
    live.show(["waiter: 3 of 3 pending", "  a  X  1 poll", "  b  X  1 poll", "  c  X  1 poll"])

    assert Screen(80).feed(screen.getvalue()).lines() == ["waiter: 3 of 3 pending"]


def test_a_terminal_that_went_away_stops_the_block_drawing():
    class _Gone(_Terminal):
        def write(self, text: str) -> int:
            raise OSError(5, "Input/output error")

    live = LiveBlock(_Gone(), size=_Size(80))

    live.show(["waiter: 1 of 1 pending"])  # no exception: drawing is best effort
    live.close()


# --- columns: wide characters, cutting ---------------------------------------------------------


def test_wide_and_zero_width_characters_are_counted_as_a_terminal_shows_them():
    assert columns("RUNNING") == 7
    assert columns("密钥不存在") == 10  # two columns each
    assert columns("e\u0301") == 1  # e and a combining acute accent
    assert fit("密钥不存在", 6) == "密钥…"  # a wide character is never cut in half
    assert fit("short", 6) == "short"
    assert pad("密钥", 6) == "密钥  "


def test_a_cjk_status_does_not_push_the_block_past_the_width():
    screen, live, _ = _block(columns=40)
    status = "运行中" * 10  # 60 columns wide
    live.show(["waiter: 1 of 1 pending", *task_lines([PendingTask("t1", status, 2)], 39)])

    terminal = Screen(40).feed(screen.getvalue())
    assert terminal.wrapped == []
    assert terminal.lines()[1].startswith("  t1  运行中")


# --- what the block shows ----------------------------------------------------------------------


def test_each_pending_task_gets_a_line_with_its_status_and_polls():
    tasks = [PendingTask("build-1", "RUNNING_RESET", 3), PendingTask("b2", None, 1)]

    assert task_lines(tasks, 119) == [
        "  build-1  RUNNING_RESET  3 polls",
        "  b2       -              1 poll",
    ]


def test_task_ids_are_cut_first_so_the_status_stays_in_view():
    tasks = [PendingTask(UUID, "RUNNING_RESET", 12)]

    [line] = task_lines(tasks, 39)

    assert line == f"  {UUID[:11]}…  RUNNING_RESET  12 polls"
    assert columns(line) <= 39


def test_a_servers_status_is_masked_and_escaped_in_the_block():
    remember_secrets("sekrit-token-value-123456")
    tasks = [PendingTask("t1", "\x1b[2JRUN sekrit-token-value-123456 \u202e", 1)]

    [line] = task_lines(tasks, 119)

    assert line == "  t1  \\x1b[2JRUN *** \\u202e  1 poll"


def _progress(total: int, pending: Sequence[PendingTask]) -> tuple[Progress, list[int]]:
    """Progress over a snapshot of ``pending``; the list of the limits it was asked with."""
    asked: list[int] = []

    def pending_tasks(limit: int) -> Sequence[PendingTask]:
        asked.append(limit)
        return pending[:limit]

    progress = Progress(total=total, timeout=60, live=None, every=30, pending_tasks=pending_tasks)
    return progress, asked


def test_with_few_tasks_left_the_block_lists_them_under_the_summary():
    pending = [PendingTask(f"t{n}", "RUNNING_RESET", n) for n in range(MAX_TASK_LINES)]
    progress, _ = _progress(MAX_TASK_LINES, pending)

    [summary, *tasks] = progress.lines(119)

    assert summary.startswith(f"waiter: {MAX_TASK_LINES} of {MAX_TASK_LINES} pending")
    assert [line.split()[0] for line in tasks] == [task.task_id for task in pending]


def test_with_many_tasks_left_the_block_is_the_summary_alone_and_asks_for_no_snapshot():
    pending = [PendingTask(f"t{n}", "RUNNING_RESET", 1) for n in range(MAX_TASK_LINES + 1)]
    progress, asked = _progress(MAX_TASK_LINES + 1, pending)

    assert len(progress.lines(119)) == 1
    assert asked == []

    progress.record(_result("t0", Outcome.SUCCESS))  # now few enough

    assert len(progress.lines(119)) == 1 + MAX_TASK_LINES
    assert asked == [MAX_TASK_LINES]


# --- the summary line, and the event without a terminal ------------------------------------------


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

    line = run_virtual(scenario())  # in real time, a busy machine could make it 1:29 left

    assert line.startswith("waiter: 1 of 3 pending | 1 success, 1 failure | 0:00 elapsed, 1:3")


def test_without_a_terminal_a_progress_event_is_logged_every_period():
    async def scenario() -> None:
        progress = Progress(total=2, timeout=600, live=None, every=30)
        runner = asyncio.create_task(progress.run())
        progress.record(_result("a", Outcome.SUCCESS))
        await asyncio.sleep(75)  # virtual: two periods and a half
        runner.cancel()

    with structlog.testing.capture_logs() as events:
        run_virtual(scenario())

    ticks = [e for e in events if e["event"] == "progress"]
    assert len(ticks) == 2
    assert [tick["elapsed_s"] for tick in ticks] == [30, 60]
    assert ticks[0]["pending"] == 1
    assert ticks[0]["success"] == 1
    assert ticks[1]["remaining_s"] == 540


# --- the engine's snapshot -----------------------------------------------------------------------


def test_the_waiter_snapshot_shows_each_unfinished_task_with_its_last_status():
    kps = fake_kps()
    kps.add_task("slow", [(0, "READY_RESET"), (10, "RUNNING_RESET"), (100, "SUCCESS_RESET")])
    kps.add_task("quick", [(0, "RUNNING_RESET"), (40, "SUCCESS_RESET")])
    seen: dict[str, list[PendingTask]] = {}

    async def scenario() -> None:
        async with kps.serve() as url, Waiter(settings_for(url, max_interval=4.0)) as waiter:
            ended = asyncio.create_task(_drain(waiter.as_completed(["slow", "quick"])))
            await asyncio.sleep(20)
            seen["both running"] = waiter._pending(5)
            seen["more than the limit"] = waiter._pending(1)
            await asyncio.sleep(40)
            seen["one left"] = waiter._pending(5)
            await ended
            seen["none left"] = waiter._pending(5)

    run_virtual(scenario())

    assert [(t.task_id, t.status) for t in seen["both running"]] == [
        ("slow", "RUNNING_RESET"),
        ("quick", "RUNNING_RESET"),
    ]
    assert all(task.polls >= 2 for task in seen["both running"])
    assert seen["more than the limit"] == []
    assert [(t.task_id, t.status) for t in seen["one left"]] == [("slow", "RUNNING_RESET")]
    assert seen["none left"] == []


async def _drain(results: AsyncIterator[TaskResult]) -> None:
    async for _ in results:
        pass
