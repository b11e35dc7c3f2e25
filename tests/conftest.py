from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog

from waiter import _redact
from waiter.testing._fake import FakeKps

# Variables that could make a test read the developer's real config or credentials, or send
# traffic anywhere but 127.0.0.1.
_LEAKY_PREFIXES = ("WAITER_", "HW_", "OS_", "HUAWEICLOUD_")
_LEAKY_NAMES = {
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
    "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    "SSL_CERT_FILE", "XDG_CONFIG_HOME",
}  # fmt: skip


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name in _LEAKY_NAMES:
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    # Secrets learnt by one test (a short test token, say) must not mask another test's text.
    monkeypatch.setattr(_redact, "_known", _redact._Registry())
    # Plain key=value lines: still shown for a failing test, at a fraction of the cost of
    # structlog's default console renderer (the soak test logs ~50,000 events).
    structlog.configure(
        processors=[structlog.processors.KeyValueRenderer(key_order=["event", "task_id"])],
        logger_factory=structlog.PrintLoggerFactory(),
    )
    yield
    structlog.reset_defaults()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home directory: no config file is found unless a test puts one there."""
    path = tmp_path / "home"
    path.mkdir()
    return path


TOKEN = "test-token-3f9a1c"
PROJECT = "0123456789abcdef0123456789abcdef"


class ThreadedKps:
    """The simulated KPS on its own thread and loop (real time), for subprocess tests."""

    def __init__(self, **options: Any) -> None:
        self.kps = FakeKps(project_id=PROJECT, token=TOKEN, **options)
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._served = ExitStack()

    @asynccontextmanager
    async def _serve(self) -> AsyncIterator[str]:
        self._loop = asyncio.get_running_loop()  # for add_task, from the test's thread
        async with self.kps.serve() as url:
            yield url

    def start(self) -> ThreadedKps:
        from helpers import served_on_a_thread  # here: helpers imports this module

        self.url = self._served.enter_context(served_on_a_thread(self._serve()))
        return self

    def add_task(self, *args: object, **kwargs: object) -> None:
        async def add() -> None:
            self.kps.add_task(*args, **kwargs)  # type: ignore[arg-type]

        assert self._loop is not None, "start() first"
        asyncio.run_coroutine_threadsafe(add(), self._loop).result(5)

    def stop(self) -> None:
        self._served.close()


@pytest.fixture
def threaded_kps() -> Iterator[ThreadedKps]:
    server = ThreadedKps().start()
    yield server
    server.stop()
