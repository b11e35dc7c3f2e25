"""Test helpers for code that uses waiter: a fake KPS, instant waits, and a standalone server.

**A fake KPS in your own tests.** :func:`fake_kps` serves the simulated KPS task API on
127.0.0.1, on the running event loop, with tasks scripted as timelines of
``(seconds, status)`` steps counted from when the server starts (a task does not exist before
its first step). A step may also be a :class:`Reply`, an error answer such as
``Reply(503, "SYS.0503")``::

    from waiter import wait_for
    from waiter.testing import Timeline, fake_kps

    async def test_reset_finishes(waiter_testing):
        timeline: Timeline = [(0, "READY_RESET"), (2, "RUNNING_RESET"), (5, "SUCCESS_RESET")]
        async with fake_kps({"task-1": timeline}) as kps:
            [result] = await wait_for(["task-1"], kps.settings(min_interval=0.5))
        assert result.outcome.value == "success"

:data:`Step`, :data:`Timeline` and :data:`Timelines` are the types of a step, of one task's
steps and of the task IDs with their timelines, for annotating your own scripts.

:func:`fake_kps_in_thread` is the same server on a background thread, for synchronous code and
any async framework. With the package installed, pytest also offers it as the ``fake_kps``
fixture (and ``waiter_testing``, which turns on instant waits for one test); the plugin does
nothing in tests that do not ask for them. An ``async def`` test that asks for one of them, or
is marked ``@pytest.mark.waiter``, runs on a fresh asyncio event loop (unless pytest-asyncio or
anyio runs it): pytest alone is enough.

**Instant waits.** Like stamina's, a testing switch takes the waiting out of waits:
:func:`set_testing` (or the :func:`testing` context manager) makes every :class:`waiter.Waiter`
created without an explicit ``clock`` share one virtual clock that jumps instead of sleeping.
Deadlines and back-off still apply, in virtual seconds. The switch is **process-wide**: turn it
off again when the test ends (the ``waiter_testing`` fixture does). The fake servers of this
module keep their timelines on the event loop's time *plus* every second that virtual clock has
skipped, so a task scripted to finish at 300 s finishes after 300 s of waiting: at once when
testing is on, in real time when it is off.

**Standalone server.** ``python -m waiter.testing --scenario FILE [--port N] [--host H]`` serves
a scenario file until SIGINT or SIGTERM, for testing programs in other languages, shell
scripts or the ``waiter`` command itself. It listens on loopback addresses only, prints
``fake KPS listening on http://127.0.0.1:PORT (project PROJECT)`` once it is ready (with
``--port 0`` the system picks the port), and exits 0 when stopped. Bad arguments or a bad file
give one line on stderr and exit 2. ``python -m waiter.testing --example`` prints a commented
example that ships with waiter. A scenario file is TOML::

    project_id = "0123456789abcdef0123456789abcdef"   # optional; this is the default
    token = "fake-token"    # optional: requests must then send it as X-Auth-Token

    [[task]]
    id = "aee8d2fe-5484-4753-9177-5a38dc15546c"         # 1-128 of A-Z a-z 0-9 . _ -
    server_id = "c9aa197b-a6b6-4c33-b3a6-fa0b4ec50006"  # optional
    timeline = [[0, "READY_RESET"], [2, "RUNNING_RESET"], [6, "SUCCESS_RESET"]]

    [[task]]
    id = "throttled-then-fails"
    timeline = [[0, "RUNNING_RESET"], [3, "FAILED_RESET"]]
    # Request number (1 = the task's first request) -> the error answer to give instead.
    faults = { 1 = { status = 429, code = "APIGW.0308", headers = { Retry-After = "2" } } }

Timeline times are seconds from the server's start, in order. A step's second item is a status
or a fault table. A fault table has ``status`` (HTTP status 200-599; required unless
``hang``), and optionally ``code`` and ``message`` (Huawei's ``error_code`` / ``error_msg``),
``headers`` (a table of strings), ``body`` (raw text sent instead of the JSON error),
``hang = true`` (never answer) or ``reset = true`` (drop the connection mid-answer).

Added in 0.1.0.
"""

from __future__ import annotations

from .._lazy import TYPE_CHECKING, lazy_names

if TYPE_CHECKING:
    from ._command import main
    from ._fake import Reply, SeenRequest, Step, Timeline
    from ._scenario import ScenarioError
    from ._server import FakeKpsServer, Timelines, fake_kps, fake_kps_in_thread
    from ._switch import is_testing, set_testing, testing

__all__ = [
    "FakeKpsServer",
    "Reply",
    "ScenarioError",
    "SeenRequest",
    "Step",
    "Timeline",
    "Timelines",
    "fake_kps",
    "fake_kps_in_thread",
    "is_testing",
    "main",
    "set_testing",
    "testing",
]

# Loaded on first use, as waiter's own names are: the pytest plugin imports this package in
# every test session, and must not bring aiohttp along.
_HOME = {
    "FakeKpsServer": "._server",
    "Reply": "._fake",
    "ScenarioError": "._scenario",
    "SeenRequest": "._fake",
    "Step": "._fake",
    "Timeline": "._fake",
    "Timelines": "._server",
    "fake_kps": "._server",
    "fake_kps_in_thread": "._server",
    "is_testing": "._switch",
    "main": "._command",
    "set_testing": "._switch",
    "testing": "._switch",
}


__getattr__, __dir__ = lazy_names(__name__, _HOME, __all__)
