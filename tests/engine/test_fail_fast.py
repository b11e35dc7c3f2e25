"""Stopping early, through the library: ``fail_fast`` at the first failure, ``fail_fast_errors``
at the first error, both at the first of either; the others end as cancelled. Against the
simulated KPS on 127.0.0.1, in virtual time.
"""

from __future__ import annotations

import pytest
from helpers import by_id, fake_kps, wait_on
from virtual_time import run_virtual

from waiter import Outcome, Settings
from waiter.testing._fake import FakeKps, Reply

RUNNING, DONE, FAILED = "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"


def kps_with(first: str) -> FakeKps:
    """A task that ends badly at 2 s (``first``: failure, unknown status, 403, not found) and
    one that succeeds at 60 s, unless something stops it."""
    kps = fake_kps()
    if first == "failure":
        kps.add_task("bad", [(0, RUNNING), (2, FAILED)])
    elif first == "unknown status":
        kps.add_task("bad", [(0, RUNNING), (2, "PAUSED_RESET")])
    elif first == "403":
        kps.add_task("bad", [(0, RUNNING)], replies={2: Reply(403, "KPS.0403")})
    elif first != "not found":
        raise AssertionError(first)
    kps.add_task("slow", [(0, RUNNING), (60, DONE)])
    return kps


@pytest.mark.parametrize("first", ["unknown status", "403", "not found"])
def test_fail_fast_errors_stops_the_others_at_the_first_error(first: str):
    kps = kps_with(first)

    results = by_id(
        run_virtual(wait_on(kps, ["bad", "slow"], fail_fast_errors=True, not_found_grace=5))
    )

    assert results["bad"].outcome is Outcome.ERROR
    assert results["slow"].outcome is Outcome.CANCELLED
    assert results["slow"].error == "cancelled by fail_fast_errors: bad ended in error"
    assert results["slow"].elapsed_s < 30  # stopped, not waited out
    polls = kps.requests_for("slow")
    assert polls[-1].at - polls[0].at < 30  # and not polled further


def test_fail_fast_alone_still_waits_out_an_error():
    kps = kps_with("unknown status")

    results = by_id(run_virtual(wait_on(kps, ["bad", "slow"], fail_fast=True)))

    assert results["bad"].outcome is Outcome.ERROR
    assert results["slow"].outcome is Outcome.SUCCESS


def test_fail_fast_errors_alone_still_waits_out_a_failure():
    kps = kps_with("failure")

    results = by_id(run_virtual(wait_on(kps, ["bad", "slow"], fail_fast_errors=True)))

    assert results["bad"].outcome is Outcome.FAILURE
    assert results["slow"].outcome is Outcome.SUCCESS


@pytest.mark.parametrize(("first", "ended"), [("failure", "failed"), ("403", "ended in error")])
def test_both_stop_at_the_first_of_either(first: str, ended: str):
    kps = kps_with(first)

    results = by_id(
        run_virtual(wait_on(kps, ["bad", "slow"], fail_fast=True, fail_fast_errors=True))
    )

    assert results["slow"].outcome is Outcome.CANCELLED
    assert f"bad {ended}" in (results["slow"].error or "")


def test_fail_fast_errors_is_a_settings_field_off_by_default():
    assert Settings().fail_fast_errors is False
    assert Settings(fail_fast_errors=True).fail_fast_errors is True
