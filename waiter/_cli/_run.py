"""Running a wait for the command line: logging, progress, results, reports, signals.

What the command line promises holds here: every task is reported once (on stdout while it can
be written, in the reports and the logs always), the run ends by the deadline or soon after a
signal, and nothing that fails on the way out (stdout, stderr, a report) turns into a traceback.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, TextIO, cast

import structlog

from .._config._settings import Settings
from .._config._table import shown
from .._errors import ConfigError
from .._event_log import BestEffortLog
from .._plan._plan import Plan, make_plan
from .._result import Outcome, TaskResult
from ._all_running import with_running_tasks
from ._columns import is_terminal
from ._exit import EXIT_ERROR, EXIT_FAILURE, EXIT_OK, EXIT_TIMEOUT
from ._interrupts import Interrupts
from ._logs import configure_logging
from ._output import ResultPrinter
from ._progress import LiveBlock, Progress
from ._reports import append_markdown_summary, write_junit_xml

if TYPE_CHECKING:
    from .._waiter import Waiter

__all__ = [
    "EVENT_LOOP_VARIABLE",
    "Streams",
    "exit_code",
    "loop_factory",
    "print_cancelled",
    "run_demo",
    "run_wait",
]

# Which event loop the command line runs on (loop_factory): not a setting of the wait, so no
# config key or flag, only this variable.
EVENT_LOOP_VARIABLE = "WAITER_EVENT_LOOP"


def exit_code(results: Sequence[TaskResult], *, output_lost: bool = False) -> int:
    """The contract's exit code for a finished (not interrupted) set of results.

    A task cancelled without a failure (the wait was stopped) and results that could not be
    printed (``output_lost``) count as errors: the pipeline did not get what it asked for.
    """
    outcomes = {result.outcome for result in results}
    if Outcome.FAILURE in outcomes:
        return EXIT_FAILURE
    if output_lost or outcomes & {Outcome.ERROR, Outcome.CANCELLED}:
        return EXIT_ERROR
    if Outcome.TIMEOUT in outcomes:
        return EXIT_TIMEOUT
    return EXIT_OK


@dataclass(frozen=True)
class Streams:
    """Where a command-line run talks to the world, and what it has told it so far."""

    stdout: TextIO
    stderr: TextIO
    interrupts: Interrupts
    # The IDs whose result reached stdout: the command line reports the others if a signal
    # stops it before the wait could.
    reported: set[str] = field(default_factory=set)
    # The environment the command line was given (None: os.environ): NO_COLOR, FORCE_COLOR.
    env: Mapping[str, str] | None = None


def run_wait(
    settings: Settings, task_ids: Sequence[str], streams: Streams, *, all_running: bool = False
) -> int:
    """Wait on ``task_ids``, and with ``all_running`` (``--all``) on the running tasks too."""
    prepared = _prepare(settings, streams)  # a bad setting stops here: no loop, no aiohttp
    streams.interrupts.check()
    run = _CommandRun(settings, task_ids, prepared, streams, all_running=all_running)
    with asyncio.Runner(loop_factory=prepared.loop_factory) as runner:
        return runner.run(run.wait())


def run_demo(settings: Settings, streams: Streams) -> int:
    from ._demo import demo_settings, demo_tasks, serve_demo

    async def demo() -> int:
        async with serve_demo() as endpoint:
            demo = demo_settings(settings, endpoint)
            prepared = _prepare(demo, streams)
            return await _CommandRun(demo, demo_tasks(), prepared, streams).wait()

    with asyncio.Runner(loop_factory=loop_factory(_env(streams))) as runner:
        return runner.run(demo())


def print_cancelled(
    settings: Settings | None, task_ids: Sequence[str], reason: str, stdout: TextIO
) -> None:
    """Report tasks that a signal stopped before their wait began (best effort: stdout may
    be gone too)."""
    text = _text_output(settings.output if settings else "auto", stdout)
    printer = ResultPrinter(text=text, stream=stdout, task_ids=task_ids)
    results = [
        TaskResult(task_id, Outcome.CANCELLED, None, None, 0, 0.0, reason) for task_id in task_ids
    ]
    try:
        for result in results:
            printer.result(result)
        printer.summary(results, 0.0)
    except (OSError, ValueError):
        pass


@dataclass(frozen=True)
class _Prepared:
    plan: Plan  # the checked settings, handed to the Waiter so it need not check again
    live: LiveBlock | None  # the live progress block, on a terminal
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None  # None: asyncio's own


def _prepare(settings: Settings, streams: Streams) -> _Prepared:
    """Logging set up and every setting checked, before any event loop starts."""
    stderr = streams.stderr
    live = LiveBlock(stderr) if settings.progress and is_terminal(stderr) else None
    # LiveBlock has what a log writer uses of a file: write, flush, isatty.
    _configure_logging(settings, cast(TextIO, live) if live else stderr, streams)
    plan = make_plan(settings)
    _check_report_paths(settings)
    return _Prepared(plan, live, loop_factory(_env(streams)))


def _env(streams: Streams) -> Mapping[str, str]:
    return os.environ if streams.env is None else streams.env


def loop_factory(env: Mapping[str, str]) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop a run uses: uvloop's when it is installed (``task-waiter[fast]``), else
    asyncio's own (None); :data:`EVENT_LOOP_VARIABLE` picks one (``auto``, ``asyncio`` or
    ``uvloop``), to compare them or to leave uvloop out. A bad value is bad usage."""
    choice = env.get(EVENT_LOOP_VARIABLE, "").strip().lower() or "auto"
    if choice not in ("auto", "asyncio", "uvloop"):
        raise ConfigError(
            f"{EVENT_LOOP_VARIABLE} must be auto, asyncio or uvloop, "
            f"got {shown(env[EVENT_LOOP_VARIABLE])}"
        )
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ConfigError(
                f"{EVENT_LOOP_VARIABLE}=uvloop, but uvloop is not installed: "
                "pip install 'task-waiter[fast]', or leave the variable out"
            ) from None
        return None
    return uvloop.new_event_loop


def _text_output(output: str, stdout: TextIO) -> bool:
    return output == "text" or (output == "auto" and is_terminal(stdout))


class _CommandRun:
    """One wait of the command line: results to stdout and reports, and why it stops."""

    def __init__(
        self,
        settings: Settings,
        task_ids: Sequence[str],
        prepared: _Prepared,
        streams: Streams,
        *,
        all_running: bool = False,
    ) -> None:
        self.settings = settings
        self.task_ids = task_ids
        self.prepared = prepared
        self.streams = streams
        self.printer = self._printer()
        self.log = BestEffortLog(structlog.get_logger("waiter"))
        self.results: list[TaskResult] = []
        self.output_lost = False
        self.all_running = all_running
        # The exit code when --all's listing failed: the tasks it would have named are unknown.
        self.listing_exit: int | None = None
        self._stop_reason: str | None = None
        self._waiter: Waiter | None = None

    async def wait(self) -> int:
        loop = asyncio.get_running_loop()
        interrupts = self.streams.interrupts
        # First, before the slow import below: a signal from here on stops the wait cleanly.
        interrupts.attach(loop, lambda: self.stop(f"interrupted by {interrupts.name}"))
        try:
            await self._wait(loop)
        finally:
            interrupts.detach(loop)
        if interrupts.exit_code is not None:
            # Interruption wins over what the finished tasks said: the wait was not completed.
            return interrupts.exit_code
        if self.listing_exit is not None:
            return self.listing_exit
        return exit_code(self.results, output_lost=self.output_lost)

    def _printer(self) -> ResultPrinter:
        stdout = self.streams.stdout
        text = _text_output(self.settings.output, stdout)
        return ResultPrinter(text=text, stream=stdout, task_ids=self.task_ids)

    def stop(self, reason: str) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        if self._waiter is not None:
            self._waiter.stop(reason)

    async def _wait(self, loop: asyncio.AbstractEventLoop) -> None:
        from .._waiter import Waiter  # aiohttp loads here, once the settings passed every check

        self.log.debug("event_loop", kind=type(loop).__module__)
        self._waiter = waiter = Waiter._from_plan(self.prepared.plan)
        if self._stop_reason is not None:
            waiter.stop(self._stop_reason)  # a signal came during the import
        live = self.prepared.live
        timeout = self.settings.timeout
        progress = Progress(
            total=len(self.task_ids),
            timeout=timeout,
            live=live,
            every=self.settings.progress_every,
            pending_tasks=waiter._pending,
        )
        started = loop.time()
        progress_task = asyncio.create_task(progress.run())
        try:
            async with waiter:
                if self.all_running:
                    await self._add_running_tasks(waiter, progress, deadline=started + timeout)
                async for result in waiter._run(self.task_ids, since_entry=True):
                    self.results.append(result)
                    progress.record(result)
                    with live.above() if live else nullcontext():
                        self._print(result)
        finally:
            progress_task.cancel()
            if live is not None:
                live.close()
        elapsed = loop.time() - started
        self._print_summary(elapsed)
        _write_reports(self.settings, self.results, elapsed, self.log)

    async def _add_running_tasks(
        self, waiter: Waiter, progress: Progress, *, deadline: float
    ) -> None:
        """--all: the tasks the running-tasks listing shows, after those given."""
        listed = await with_running_tasks(
            waiter,
            self.task_ids,
            deadline=deadline,
            timeout_s=self.settings.timeout,
            log=self.log,
            # On a terminal, through the live block, which moves out of the line's way.
            stderr=cast(TextIO, live) if (live := self.prepared.live) else self.streams.stderr,
        )
        self.task_ids, self.listing_exit = listed.task_ids, listed.exit_code
        self.printer = self._printer()  # the columns fit the IDs listed too
        progress.expect(len(self.task_ids))

    def _print(self, result: TaskResult) -> None:
        if self.output_lost:
            return
        try:
            self.printer.result(result)
        except (OSError, ValueError) as error:
            # stdout's reader is gone, or the disk is full: the results cannot reach the
            # pipeline, so waiting longer helps no one. The reports and logs still get them all.
            self._lose_output(error)
            self.stop("stdout cannot be written: the wait was stopped")
        else:
            self.streams.reported.add(result.task_id)

    def _print_summary(self, elapsed: float) -> None:
        if self.output_lost:
            return
        try:
            self.printer.summary(self.results, elapsed)
        except (OSError, ValueError) as error:
            self._lose_output(error)

    def _lose_output(self, error: OSError | ValueError) -> None:
        self.output_lost = True
        self.log.error(
            "results_not_printed",
            error=f"stdout cannot be written ({_describe(error)})",
            fix="check what reads stdout; the JUnit and Markdown reports have every task",
        )


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: {error.strerror}"
    return type(error).__name__


def _configure_logging(settings: Settings, stream: TextIO, streams: Streams) -> None:
    log_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not is_terminal(stream)
    )
    # Secrets read later (a token file, the profile file, the ECS metadata service's keys) are
    # added as they are read: see _redact.remember_secrets.
    secrets = (settings.token, settings.secret_key, settings.security_token, settings.access_key)
    configure_logging(
        json=log_json,
        level=settings.log_level,
        stream=stream,
        secrets=[s for s in secrets if s],
        env=_env(streams),
        console_omits=_said_by_the_table(settings, streams),
    )


def _said_by_the_table(settings: Settings, streams: Streams) -> frozenset[str]:
    """``task_ended`` when the text table shows each task's end on the same terminal as the
    console log: one line a task, not two saying the same thing (the table's row has the
    outcome, status, polls, time and error). Not with debug logs, which show every event;
    JSON logs and logs into a pipe or file keep it whatever this says.
    """
    if settings.log_level.lower() == "debug":
        return frozenset()
    if _text_output(settings.output, streams.stdout) and _same_terminal(
        streams.stdout, streams.stderr
    ):
        return frozenset({"task_ended"})
    return frozenset()


def _same_terminal(stdout: TextIO, stderr: TextIO) -> bool:
    try:
        return (
            stdout.isatty()
            and stderr.isatty()
            and os.path.samestat(os.fstat(stdout.fileno()), os.fstat(stderr.fileno()))
        )
    except (OSError, ValueError):
        return False


def _check_report_paths(settings: Settings) -> None:
    """A report that cannot be written is bad usage, found before the wait, not after it."""
    for flag, path in (
        ("--junit-xml", settings.junit_xml),
        ("--summary-file", settings.summary_file),
    ):
        if path is not None and not path.parent.is_dir():
            raise ConfigError(
                f"{flag} {shown(path, bare=True)}: the folder {shown(path.parent, bare=True)} "
                "does not exist"
            )


def _write_reports(
    settings: Settings, results: Sequence[TaskResult], elapsed: float, log: BestEffortLog
) -> None:
    # After the wait a failed report must not hide the outcome: log it, keep the exit code.
    # Each report on its own: one that fails does not keep the other from being written.
    writers = (
        (settings.junit_xml, partial(write_junit_xml, api=settings.api)),
        (settings.summary_file, append_markdown_summary),
    )
    for path, write in writers:
        if path is None:
            continue
        try:
            write(path, results, elapsed_s=elapsed)
        except ConfigError as error:
            log.error("report_not_written", error=str(error))
        except Exception as error:  # a bug must not cost the exit code either
            log.error("report_not_written", path=str(path), error=_describe(error))
