"""``Waiter.running_tasks()``: every task KPS's running-tasks listing shows, from every page, in
its order, through the rate limit the polls share; refusals raised at once, passing faults
retried three times at most, stop() ending it. Against the simulated KPS, in virtual time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import structlog
from aiohttp import web
from helpers import PROJECT, TOKEN, fake_kps, settings_for
from virtual_time import run_virtual

from waiter import ConfigError, Outcome, Waiter, WaiterError
from waiter._errors import AuthError, PermissionDenied, TransientError
from waiter.testing._fake import FakeKps, Reply, SeenRequest

RUNNING, DONE = "RUNNING_RESET", "SUCCESS_RESET"


class FlakyListing(FakeKps):
    """The simulated KPS whose first ``failures`` listing requests get ``reply``."""

    def __init__(self, failures: int, reply: Reply, **options: Any) -> None:
        super().__init__(project_id=PROJECT, token=TOKEN, **options)
        self.failures = failures
        self.reply = reply

    async def _list_tasks(self, request: web.Request) -> web.StreamResponse:
        if self.failures:
            self.failures -= 1
            listing = request.match_info["listing"]
            self.listing_requests.append(SeenRequest(listing, 0.0, dict(request.headers)))
            return await self._reply(request, self.reply)
        return await super()._list_tasks(request)


async def listed(kps: FakeKps, **overrides: Any) -> list[str]:
    async with kps.serve() as url, Waiter(settings_for(url, **overrides)) as waiter:
        return await waiter.running_tasks()


def test_every_page_is_read_and_the_ids_come_in_the_listings_order():
    kps = fake_kps()
    running = [f"t{n:05d}" for n in range(2500)]  # three pages of at most 1000
    for task_id in running:
        kps.add_task(task_id, [(0, RUNNING)])
    kps.add_task("done-already", [(0, DONE)])
    kps.add_task("not-yet-there", [(60, RUNNING)])

    with structlog.testing.capture_logs() as events:
        ids = run_virtual(listed(kps))

    assert ids == running
    assert [r.task_id for r in kps.listing_requests] == ["running"] * 3
    assert kps.requests == []  # no task was polled: listing is all it does
    [event] = [e for e in events if e["event"] == "tasks_listed"]
    assert event == {
        "event": "tasks_listed", "log_level": "info", "listing": "running",
        "project_id": PROJECT, "tasks": 2500, "skipped": 0,
    }  # fmt: skip


def test_no_running_task_is_an_empty_list():
    kps = fake_kps()
    kps.add_task("t1", [(0, DONE)])

    assert run_virtual(listed(kps)) == []


def test_what_is_listed_can_be_waited_on():
    kps = fake_kps()
    for task_id in ("t1", "t2"):
        kps.add_task(task_id, [(0, RUNNING), (20, DONE)])

    async def scenario() -> list[Any]:
        async with kps.serve() as url, Waiter(settings_for(url)) as waiter:
            ids = await waiter.running_tasks()
            return [result async for result in waiter.as_completed(ids)]

    results = run_virtual(scenario())

    assert sorted((r.task_id, r.outcome) for r in results) == [
        ("t1", Outcome.SUCCESS),
        ("t2", Outcome.SUCCESS),
    ]


def test_an_id_a_poll_could_not_carry_is_left_out_and_counted():
    kps = fake_kps()
    for task_id in ("t1", "../../etc", "t2"):
        kps.add_task(task_id, [(0, RUNNING)])

    with structlog.testing.capture_logs() as events:
        ids = run_virtual(listed(kps))

    assert ids == ["t1", "t2"]
    [event] = [e for e in events if e["event"] == "tasks_listed"]
    assert (event["log_level"], event["tasks"], event["skipped"]) == ("warning", 2, 1)


@pytest.mark.parametrize(
    ("reply", "raised"),
    [
        (Reply(403, "KPS.0004", "no permission to list running tasks"), PermissionDenied),
        (Reply(401, "APIGW.0301", "Incorrect IAM authentication information"), AuthError),
    ],
    ids=["403", "401"],
)
def test_a_refused_listing_is_raised_at_once(reply: Reply, raised: type[Exception]):
    kps = FlakyListing(99, reply)
    kps.add_task("t1", [(0, RUNNING)])

    with pytest.raises(raised):
        run_virtual(listed(kps))

    assert len(kps.listing_requests) == 1


def test_a_passing_fault_is_retried_on_the_schedule():
    kps = FlakyListing(2, Reply(503, "KPS.0500", "busy"))
    kps.add_task("t1", [(0, RUNNING)])

    with structlog.testing.capture_logs() as events:
        ids = run_virtual(listed(kps, min_interval=5, max_interval=5))

    assert ids == ["t1"]
    retries = [e for e in events if e["event"] == "retry_scheduled"]
    assert [(e["listing"], e["attempt"], e["http_status"], e["wait_s"]) for e in retries] == [
        ("running", 1, 503, 5.0),
        ("running", 2, 503, 5.0),
    ]


def test_a_fault_that_keeps_coming_is_raised_after_three_tries():
    kps = FlakyListing(99, Reply(503, "KPS.0500", "busy"))

    with pytest.raises(TransientError, match="busy"):
        run_virtual(listed(kps))

    assert len(kps.listing_requests) == 3


def test_other_apis_have_no_listing():
    async def scenario() -> None:
        async with fake_kps().serve() as url, Waiter(settings_for(url, api="ecs-job")) as waiter:
            await waiter.running_tasks()

    with pytest.raises(ConfigError) as excinfo:
        run_virtual(scenario())

    assert excinfo.value.setting == "api"
    assert str(excinfo.value) == (
        "running_tasks() needs KPS's running-tasks listing, and api is 'ecs-job': use "
        "api='kps', or give the task IDs"
    )


def test_stop_while_listing_ends_it_at_once_and_later_waits_too():
    kps = FlakyListing(99, Reply(hang=True))
    kps.add_task("t1", [(0, RUNNING)])

    async def scenario() -> tuple[str, list[Any]]:
        async with kps.serve() as url, Waiter(settings_for(url, timeout=3600)) as waiter:
            listing = asyncio.ensure_future(waiter.running_tasks())
            while not kps.listing_requests:
                await asyncio.sleep(0.01)
            waiter.stop("interrupted by SIGTERM")
            with pytest.raises(WaiterError) as excinfo:
                await listing
            return str(excinfo.value), [r async for r in waiter.as_completed(["t1"])]

    message, results = run_virtual(scenario())

    assert message == "the listing was stopped: interrupted by SIGTERM"
    assert [(r.task_id, r.outcome) for r in results] == [("t1", Outcome.CANCELLED)]
    assert kps.requests == []


def test_after_stop_nothing_is_listed():
    kps = fake_kps()

    async def scenario() -> None:
        async with kps.serve() as url, Waiter(settings_for(url)) as waiter:
            waiter.stop("done")
            await waiter.running_tasks()

    with pytest.raises(WaiterError, match="nothing is listed: done"):
        run_virtual(scenario())
    assert kps.listing_requests == []


def test_a_waiter_not_entered_says_how_to_use_it():
    with pytest.raises(WaiterError, match="async with Waiter"):
        run_virtual(Waiter(settings_for("http://127.0.0.1:9")).running_tasks())
