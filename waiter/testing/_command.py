"""``python -m waiter.testing``: the simulated KPS, served from a scenario file until stopped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from ._fake import FakeKps
from ._scenario import add_to, load_scenario
from ._server import bracketed, check_loopback

__all__ = ["EXAMPLE", "example_scenario", "main"]

_PROG = "python -m waiter.testing"
EXIT_OK, EXIT_USAGE = 0, 2
# Package data, so that it ships in the wheel: a pip install has no examples/ folder to point to.
EXAMPLE = "scenario.example.toml"


def example_scenario() -> str:
    """The commented example scenario that ships with waiter, every option explained."""
    return resources.files(__package__).joinpath(EXAMPLE).read_text(encoding="utf-8")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: it usually lands in a CI log.
        self.exit(EXIT_USAGE, f"{_PROG}: error: {message} (see --help)\n")


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535 (0 picks a free port), got {port}")
    return port


class _PrintExample(argparse.Action):
    """``--example``: print the example scenario and exit, as ``--help`` does."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        sys.stdout.write(example_scenario())
        parser.exit(EXIT_OK)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=_PROG,
        description="Serve a scripted, simulated KPS task API on this machine until SIGINT or "
        f"SIGTERM. The scenario format: `{_PROG} --example` prints a commented example "
        "scenario, every option explained (save it, edit it, serve it).",
    )
    parser.add_argument("--scenario", metavar="FILE", required=True, help="scenario file (TOML)")
    parser.add_argument(
        "--example", action=_PrintExample, help="print the example scenario (TOML) and exit"
    )
    parser.add_argument("--port", type=_port, default=0, help="port; 0 (default) picks one")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the standalone fake KPS; return the exit code (0 when stopped by a signal).

    Added in 0.1.0.
    """
    args = _build_parser().parse_args(argv)
    try:
        check_loopback(args.host)
        scenario = load_scenario(Path(args.scenario))
    except ValueError as error:
        return _usage_error(str(error))
    kps = FakeKps(project_id=scenario.project_id, token=scenario.token)
    add_to(kps, scenario)
    try:
        asyncio.run(_serve_until_signalled(kps, args.host, args.port))
    except OSError as error:
        return _usage_error(f"cannot listen on {args.host} port {args.port}: {error.strerror}")
    except KeyboardInterrupt:
        pass  # SIGINT before the handler was in place: still a clean stop
    return EXIT_OK


async def _serve_until_signalled(kps: FakeKps, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not on Windows, where Ctrl+C raises KeyboardInterrupt instead (caught in main).
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with kps.serve(host, port) as url:
        print(f"fake KPS listening on {bracketed(url, host)} (project {kps.project_id})")
        sys.stdout.flush()  # a script waiting for this line must not wait for a buffer
        await stop.wait()


def _usage_error(message: str) -> int:
    print(f"{_PROG}: error: {message}", file=sys.stderr)
    return EXIT_USAGE
