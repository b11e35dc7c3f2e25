"""The library speaks Python: an empty list is an empty answer, not a command line's complaint."""

from __future__ import annotations

import pytest
from virtual_time import run_virtual

import waiter
from waiter.testing import fake_kps

DONE = "SUCCESS_RESET"


def test_wait_for_no_task_ids_returns_an_empty_list_and_sends_nothing():
    async def scenario():
        async with fake_kps({"t1": [(0, DONE)]}) as kps:
            return kps, await waiter.wait_for([], kps.settings())

    kps, results = run_virtual(scenario())

    assert results == []
    assert kps.requests == []


def test_wait_for_no_task_ids_still_checks_the_settings():
    async def scenario():
        return await waiter.wait_for([], waiter.Settings(token="t"))  # no project, no region

    with pytest.raises(waiter.ConfigError) as caught:
        run_virtual(scenario())

    message = str(caught.value)
    assert "stdin" not in message
    assert "--ids-file" not in message


def test_as_completed_with_no_task_ids_yields_nothing_and_the_waiter_goes_on():
    async def scenario():
        async with fake_kps({"t1": [(0, DONE)]}) as kps, waiter.Waiter(kps.settings()) as w:
            nothing = [result async for result in w.as_completed([])]
            after = await w.wait("t1")
            return nothing, after

    nothing, after = run_virtual(scenario())

    assert nothing == []
    assert after.outcome is waiter.Outcome.SUCCESS


def test_a_single_string_is_still_refused_as_task_ids():
    async def scenario():
        async with fake_kps() as kps:
            await waiter.wait_for("t1", kps.settings())  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="not a single string"):
        run_virtual(scenario())
