from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from waiter import _redact
from waiter._fake import FakeKps

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


TOKEN = "test-token-3f9a1c"
PROJECT = "0123456789abcdef0123456789abcdef"


class ThreadedKps:
    """The simulated KPS on its own thread and loop (real time), for subprocess tests."""

    def __init__(self, **options: Any) -> None:
        self.kps = FakeKps(project_id=PROJECT, token=TOKEN, **options)
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with self.kps.serve() as url:
            self.url = url
            self._ready.set()
            await self._stop.wait()

    def start(self) -> ThreadedKps:
        self._thread.start()
        assert self._ready.wait(10), "the simulated KPS did not start"
        return self

    def add_task(self, *args: object, **kwargs: object) -> None:
        async def add() -> None:
            self.kps.add_task(*args, **kwargs)  # type: ignore[arg-type]

        asyncio.run_coroutine_threadsafe(add(), self._loop).result(5)

    def stop(self) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def threaded_kps() -> Iterator[ThreadedKps]:
    server = ThreadedKps().start()
    yield server
    server.stop()
