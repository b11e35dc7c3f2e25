"""Running a wait for the command line: logging, progress, results, reports, signals."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TextIO, cast

import structlog

from ._errors import ConfigError
from ._exit import EXIT_ERROR, EXIT_FAILURE, EXIT_OK, EXIT_TIMEOUT
from ._logs import configure_logging
from ._output import ResultPrinter
from ._preflight import Ready, check_ready
from ._progress import LiveLine, Progress
from ._reports import append_markdown_summary, write_junit_xml
from ._result import Outcome, TaskResult
from ._settings import Settings

__all__ = ["exit_code", "run_demo", "run_wait"]

SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def exit_code(results: Sequence[TaskResult]) -> int:
    """The contract's exit code for a finished (not interrupted) set of results."""
    outcomes = {result.outcome for result in results}
    if Outcome.FAILURE in outcomes:
        return EXIT_FAILURE
    if Outcome.ERROR in outcomes:
        return EXIT_ERROR
    if Outcome.TIMEOUT in outcomes:
        return EXIT_TIMEOUT
    return EXIT_OK


def run_wait(settings: Settings, task_ids: Sequence[str], *, stdout: TextIO, stderr: TextIO) -> int:
    prepared = _prepare(settings, stderr)  # a bad setting stops here: no loop, no aiohttp
    with asyncio.Runner(loop_factory=_fast_loop_factory()) as runner:
        return runner.run(_wait(settings, task_ids, prepared, stdout=stdout))


@dataclass(frozen=True)
class _Prepared:
    ready: Ready  # the checked settings, handed to the Waiter so it need not check again
    live: LiveLine | None  # the live progress line, on a terminal


def _prepare(settings: Settings, stderr: TextIO) -> _Prepared:
    """Logging set up and every setting checked, before any event loop starts."""
    live = LiveLine(stderr) if settings.progress and stderr.isatty() else None
    # LiveLine has what a log writer uses of a file: write, flush, isatty.
    _configure_logging(settings, cast(TextIO, live) if live else stderr)
    ready = check_ready(settings)
    _check_report_paths(settings)
    return _Prepared(ready, live)


def _fast_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed (``task-waiter[fast]``), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_demo(settings: Settings, *, stdout: TextIO, stderr: TextIO) -> int:
    from ._demo import demo_settings, demo_tasks, serve_demo

    async def demo() -> int:
        async with serve_demo() as endpoint:
            demo = demo_settings(settings, endpoint)
            return await _wait(demo, demo_tasks(), _prepare(demo, stderr), stdout=stdout)

    with asyncio.Runner(loop_factory=_fast_loop_factory()) as runner:
        return runner.run(demo())


async def _wait(
    settings: Settings, task_ids: Sequence[str], prepared: _Prepared, *, stdout: TextIO
) -> int:
    """Wait on the tasks, print each result as it ends, log a summary; return the exit code."""
    from ._waiter import Waiter  # aiohttp loads here, once the settings passed every check

    waiter = Waiter(settings, _ready=prepared.ready)
    live = prepared.live
    text = settings.output == "text" or (settings.output == "auto" and stdout.isatty())
    printer = ResultPrinter(text=text, stream=stdout, task_ids=task_ids)
    progress = Progress(
        total=len(task_ids), timeout=settings.timeout, live=live, every=settings.progress_every
    )

    loop = asyncio.get_running_loop()
    structlog.get_logger("waiter").debug("event_loop", kind=type(loop).__module__)
    started = loop.time()
    interrupted_by: list[int] = []

    def interrupt(signum: int) -> None:
        if not interrupted_by:
            interrupted_by.append(signum)
            waiter.stop(f"interrupted by {signal.Signals(signum).name}")

    for signum in SIGNAL_EXIT:
        loop.add_signal_handler(signum, interrupt, signum)
    progress_task = asyncio.create_task(progress.run())
    results: list[TaskResult] = []
    try:
        async with waiter:
            async for result in waiter.as_completed(task_ids):
                results.append(result)
                with live.above() if live else nullcontext():
                    printer.result(result)
                progress.record(result)
    finally:
        progress_task.cancel()
        if live is not None:
            live.close()
        for signum in SIGNAL_EXIT:
            loop.remove_signal_handler(signum)
    elapsed = loop.time() - started
    printer.summary(results, elapsed)
    _write_reports(settings, results, elapsed)
    if interrupted_by:
        # Interruption wins over what the finished tasks said: the wait was not completed.
        return SIGNAL_EXIT[signal.Signals(interrupted_by[0])]
    return exit_code(results)


def _configure_logging(settings: Settings, stream: TextIO) -> None:
    log_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not stream.isatty()
    )
    # Secrets read later (a token file, the profile file, the ECS metadata service's keys) are
    # added as they are read: see _logs.remember_secrets.
    secrets = (settings.token, settings.secret_key, settings.security_token, settings.access_key)
    configure_logging(
        json=log_json, level=settings.log_level, stream=stream, secrets=[s for s in secrets if s]
    )


def _check_report_paths(settings: Settings) -> None:
    """A report that cannot be written is bad usage, found before the wait, not after it."""
    for flag, path in (
        ("--junit-xml", settings.junit_xml),
        ("--summary-file", settings.summary_file),
    ):
        if path is not None and not path.parent.is_dir():
            raise ConfigError(f"{flag} {path}: the folder {path.parent} does not exist")


def _write_reports(settings: Settings, results: Sequence[TaskResult], elapsed: float) -> None:
    # After the wait a failed report must not hide the outcome: log it, keep the exit code.
    try:
        if settings.junit_xml is not None:
            write_junit_xml(settings.junit_xml, results, elapsed_s=elapsed)
        if settings.summary_file is not None:
            append_markdown_summary(settings.summary_file, results, elapsed_s=elapsed)
    except ConfigError as error:
        structlog.get_logger("waiter").error("report_not_written", error=str(error))
