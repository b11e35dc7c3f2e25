"""Failure handling: one test per row of the README's table, against the simulated KPS."""

from __future__ import annotations

import asyncio
import random
import socket
from collections import Counter

import pytest
import structlog
from helpers import by_id, closed_port, fake_kps, settings_for, wait_on
from virtual_time import run_virtual

from waiter import Outcome, wait_for
from waiter._apis._base import TaskStatus
from waiter._engine._clock import LoopClock
from waiter._engine._engine import Engine
from waiter._engine._policy import Policy
from waiter._engine._status import StatusClassifier
from waiter.testing._fake import Reply

RUNNING, DONE, FAILED = "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"


def test_403_is_an_error_quoting_the_missing_permission():
    kps = fake_kps()
    denied = Reply(403, "KPS.0403", "Policy doesn't allow kps:domainKeypairs:gettask")
    kps.add_task("t1", [(0, denied)])

    [result] = run_virtual(wait_on(kps, ["t1"]))

    assert result.outcome is Outcome.ERROR
    assert "kps:domainKeypairs:gettask" in (result.error or "")
    assert len(kps.requests) == 1  # permanent: not retried


def test_a_wrong_endpoint_path_is_an_error_naming_the_likely_cause():
    kps = fake_kps()
    kps.add_task("t1", [(0, DONE)])

    async def scenario():
        async with kps.serve() as url:
            return await wait_for(["t1"], settings_for(url + "/wrong-prefix"))

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.ERROR
    assert "APIGW.0101" in (result.error or "")
    assert "endpoint or region is probably wrong" in (result.error or "")


def test_a_redirect_is_not_followed_and_credentials_never_reach_the_target():
    elsewhere = fake_kps()
    kps = fake_kps()

    async def scenario():
        async with elsewhere.serve() as other_url:
            kps.add_task(
                "t1", [(0, Reply(302, headers={"Location": f"{other_url}/v3/p/tasks/t1"}))]
            )
            async with kps.serve() as url:
                return await wait_for(["t1"], settings_for(url)), other_url

    [result], other_url = run_virtual(scenario())

    assert result.outcome is Outcome.ERROR
    assert other_url in (result.error or "")
    assert elsewhere.requests == []


@pytest.mark.parametrize(
    "fault",
    [
        Reply(500, "SYS.0500"),
        Reply(502),
        Reply(503, headers={"Retry-After": "3"}),
        Reply(504),
        Reply(429, "APIGW.0308", headers={"Retry-After": "3"}),
        Reply(reset=True),
        Reply(200, body=b"<html><body>Proxy error</body></html>"),
        Reply(200, body=b'{"server_id": "s"}'),
    ],
    ids=["500", "502", "503", "504", "429", "reset", "html", "no-status"],
)
def test_transient_faults_are_retried_then_the_task_succeeds(fault):
    kps = fake_kps()
    kps.add_task("t1", [(0, RUNNING), (10, DONE)], replies={1: fault, 2: fault})

    [result] = run_virtual(wait_on(kps, ["t1"]))

    assert result.outcome is Outcome.SUCCESS
    assert result.polls >= 3


def test_retry_after_as_an_http_date_is_honoured():
    kps = fake_kps()
    # An HTTP date has whole-second precision: ask for a wait well above the schedule's.
    later = "Wed, 21 Oct 2099 07:28:00 GMT"
    kps.add_task("t1", [(0, DONE)], replies={1: Reply(429, headers={"Retry-After": later})})

    [result] = run_virtual(wait_on(kps, ["t1"], timeout=60))

    # The server asked to wait past the deadline: one last try at the deadline, no sooner.
    times = [r.at for r in kps.requests_for("t1")]
    assert times[1] - times[0] == pytest.approx(60, abs=0.1)
    assert result.outcome is Outcome.SUCCESS


def test_a_hanging_request_is_cut_by_the_request_timeout_and_retried():
    kps = fake_kps()
    kps.add_task("t1", [(0, DONE)], replies={1: Reply(hang=True)})

    [result] = run_virtual(wait_on(kps, ["t1"], request_timeout=5, min_interval=1))

    assert result.outcome is Outcome.SUCCESS
    times = [r.at for r in kps.requests_for("t1")]
    # aiohttp rounds time-outs of 5 s or more up to a whole second of loop time.
    assert 5 + 1 <= times[1] - times[0] <= 5 + 1 + 1


def test_a_request_hanging_at_the_deadline_ends_as_timeout_within_a_second():
    kps = fake_kps()
    kps.add_task("t1", [(0, Reply(hang=True))])

    async def scenario():
        loop = asyncio.get_running_loop()
        started = loop.time()
        results = await wait_on(kps, ["t1"], timeout=20, request_timeout=1000)
        return loop.time() - started, results

    took, [result] = run_virtual(scenario())

    assert result.outcome is Outcome.TIMEOUT
    assert 20 <= took <= 21


def test_connection_refused_is_retried_until_the_deadline_and_named():
    port = closed_port()

    async def scenario():
        return await wait_for(["t1"], settings_for(f"http://127.0.0.1:{port}", timeout=10))

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.TIMEOUT
    assert "Cannot connect" in (result.error or "") or "ClientConnector" in (result.error or "")
    assert result.polls >= 3


def test_a_timed_out_task_says_which_fault_kept_it_from_finishing():
    kps = fake_kps()
    kps.add_task("t1", [(0, Reply(503, "SYS.0503", "service busy"))])

    [result] = run_virtual(wait_on(kps, ["t1"], timeout=15))

    assert result.outcome is Outcome.TIMEOUT
    assert "SYS.0503: service busy" in (result.error or "")


def test_an_answer_over_one_mebibyte_is_refused():
    kps = fake_kps()
    huge = Reply(200, body=b'{"task_status": "' + b"x" * (1024 * 1024) + b'"}')
    kps.add_task("t1", [(0, huge)])

    [result] = run_virtual(wait_on(kps, ["t1"]))

    assert result.outcome is Outcome.ERROR
    assert "1 MiB" in (result.error or "")


def test_each_retried_fault_is_logged_once_with_its_details():
    kps = fake_kps()
    kps.add_task(
        "t1",
        [(0, DONE)],
        replies={1: Reply(429, "APIGW.0308", "throttled", headers={"Retry-After": "4"})},
    )

    with structlog.testing.capture_logs() as events:
        run_virtual(wait_on(kps, ["t1"]))

    retries = [e for e in events if e["event"] == "retry_scheduled"]
    assert len(retries) == 1
    [retry] = retries
    assert retry["task_id"] == "t1"
    assert retry["attempt"] == 1
    assert retry["http_status"] == 429
    assert retry["error_code"] == "APIGW.0308"
    assert retry["request_id"].startswith("fake-")
    assert retry["wait_s"] == 4


def test_the_proxy_from_the_environment_is_used(monkeypatch):
    proxy = fake_kps()  # answers like KPS, and records that the request came through it
    proxy.add_task("t1", [(0, DONE)])
    unreachable = f"http://127.0.0.1:{closed_port()}"

    async def scenario():
        async with proxy.serve() as proxy_url:
            monkeypatch.setenv("HTTP_PROXY", proxy_url)
            return await wait_for(["t1"], settings_for(unreachable))

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.SUCCESS
    assert len(proxy.requests) == 1


def test_no_proxy_bypasses_the_proxy(monkeypatch):
    proxy = fake_kps()
    kps = fake_kps()
    kps.add_task("t1", [(0, DONE)])

    async def scenario():
        async with proxy.serve() as proxy_url, kps.serve() as url:
            monkeypatch.setenv("HTTP_PROXY", proxy_url)
            monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
            return await wait_for(["t1"], settings_for(url))

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.SUCCESS
    assert proxy.requests == []


class _BrokenForOne:
    """A task API that hits a bug for one task."""

    async def fetch(self, task_id: str) -> TaskStatus:
        if task_id == "bad":
            raise KeyError("surprise")
        return TaskStatus(DONE)


def test_an_unexpected_exception_ends_only_that_task_naming_the_type():
    async def scenario():
        policy = Policy(
            timeout=60,
            min_interval=1,
            max_interval=8,
            max_in_flight=4,
            rate=100,
            fail_fast=False,
            not_found_grace=30,
            bulk="auto",
            classifier=StatusClassifier(["SUCCESS_*"], ["FAILED_*"], ["RUNNING_*"]),
        )
        engine = Engine(
            _BrokenForOne(),
            policy,
            clock=LoopClock(),
            rng=random.Random(0),
            logger=structlog.get_logger(),
        )
        return [r async for r in engine.run(["good", "bad", "also-good"])]

    results = by_id(run_virtual(scenario()))

    assert results["bad"].outcome is Outcome.ERROR
    assert "KeyError" in (results["bad"].error or "")
    assert results["good"].outcome is results["also-good"].outcome is Outcome.SUCCESS


@pytest.mark.parametrize("bulk", ["off", "on"])
def test_soak_a_thousand_tasks_with_a_fifth_of_answers_faulty(bulk):
    rng = random.Random(2026)
    # No 429 here: it slows the whole run on purpose (test_limits), which a soak of random
    # faults would turn into timeouts.
    faults = [
        Reply(503, headers={"Retry-After": "1"}),
        Reply(504),
        Reply(500),
        Reply(502),
        Reply(reset=True),
        Reply(200, body=b"<html>gateway</html>"),
        Reply(hang=True),
    ]
    kps = fake_kps()
    expected: dict[str, Outcome] = {}
    for n in range(1000):
        task_id = f"task-{n:04d}"
        ends_at = rng.uniform(0, 20)
        if n % 10 == 0:
            final, expected[task_id] = RUNNING, Outcome.TIMEOUT  # still running at the deadline
        elif n % 7 == 0:
            final, expected[task_id] = FAILED, Outcome.FAILURE
        else:
            final, expected[task_id] = DONE, Outcome.SUCCESS
        # A fifth of the answers faulty, never five unreadable ones in a row.
        replies = {i: rng.choice(faults) for i in range(1, 40) if rng.random() < 0.2 and i % 4}
        kps.add_task(task_id, [(0, RUNNING), (ends_at, final)], replies=replies)

    results = run_virtual(
        wait_on(
            kps,
            list(expected),
            # Room for the worst scripted luck after a task ends at 20 s: a wait of 8 s, then
            # three faults in a row (never four), each up to a 3 s hang and an 8 s wait.
            timeout=70,
            min_interval=2,
            max_interval=8,
            request_timeout=3,
            max_in_flight=64,
            rate=2000,
            bulk=bulk,
        )
    )

    assert [r.task_id for r in results] == list(expected)  # every task, once, in order
    assert {r.task_id: r.outcome for r in results} == expected
    assert Counter(r.outcome for r in results)[Outcome.TIMEOUT] == 100
    # The run is bounded: nothing ends later than the deadline and the last poll's grace.
    assert max(r.elapsed_s for r in results) <= 70 + 0.5 + 0.1


def test_an_error_result_keeps_the_code_and_request_id_for_reports():
    kps = fake_kps()
    kps.add_task("t1", [(0, Reply(403, "KPS.0403", "denied"))])

    [result] = run_virtual(wait_on(kps, ["t1"]))

    assert result.error_code == "KPS.0403"
    assert (result.request_id or "").startswith("fake-")
    assert "error_code" not in result.to_dict()  # the JSON line keeps the contract's fields


def test_a_dns_failure_is_a_transient_fault():
    """With a resolver of our own, so nothing asks a real DNS server."""
    import aiohttp
    from aiohttp.abc import AbstractResolver

    from waiter._auth._headers import TokenAuth
    from waiter._errors import TransientError
    from waiter._http._client import get_json

    class NoSuchHost(AbstractResolver):
        async def resolve(self, host, port=0, family=socket.AF_INET):
            raise OSError(socket.EAI_NONAME, "Name or service not known")

        async def close(self) -> None:
            return None

    async def scenario() -> TransientError:
        connector = aiohttp.TCPConnector(resolver=NoSuchHost())
        url = "https://kms.nowhere.invalid/v3/p/tasks/t"
        async with aiohttp.ClientSession(connector=connector) as session:
            with pytest.raises(TransientError) as caught:
                await get_json(session, url, TokenAuth("t"))
            return caught.value

    error = run_virtual(scenario())

    assert "ClientConnectorDNSError" in str(error)


def test_netrc_passwords_are_never_sent():
    """aiohttp's trust_env would send ~/.netrc's password along: waiter never reads it."""
    import os
    from pathlib import Path

    netrc = Path(os.environ["HOME"]) / ".netrc"  # HOME is a temporary folder in tests
    netrc.write_text("machine 127.0.0.1 login someone password netrc-secret\n")
    netrc.chmod(0o600)
    kps = fake_kps()
    kps.add_task("t1", [(0, "SUCCESS_RESET")])

    [result] = run_virtual(wait_on(kps, ["t1"]))

    assert result.outcome is Outcome.SUCCESS
    assert all("Authorization" not in request.headers for request in kps.requests)
