"""AK/SK signing as the simulated KPS checks it: every request signed, temporary keys with their
security token, and a refused signature, key, clock or token named by where it came from.

The simulated KPS is on 127.0.0.1, and time is the virtual loop's; nothing contacts the cloud.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers import (
    AK,
    DONE,
    HW_PAIR,
    PROJECT,
    RUNNING,
    SDK_PAIR,
    SK,
    ST,
    TOKEN,
    WRONG_SK,
    by_id,
    cli_settings,
    signing_kps,
)
from virtual_time import run_virtual

from waiter import Outcome, wait_for
from waiter._auth._headers import SigningAuth
from waiter._auth._signing import AkSkCredentials
from waiter._errors import AuthError
from waiter.testing._fake import FakeKps, Reply


async def wait_signed(kps: FakeKps, ids: list[str], env: dict[str, str], **flags: str):
    async with kps.serve() as url:
        env = {"WAITER_ENDPOINT": url, "WAITER_PROJECT_ID": PROJECT, **env}
        return await wait_for(ids, cli_settings(env, **flags))


def test_a_good_signature_is_accepted_and_every_request_is_signed():
    kps = signing_kps()
    kps.add_task("t1", [(0, RUNNING), (3, DONE)])
    kps.add_task("t2", [(0, DONE)], replies={1: Reply(503, "SYS.0503")})

    results = by_id(run_virtual(wait_signed(kps, ["t1", "t2"], SDK_PAIR)))

    assert {r.outcome for r in results.values()} == {Outcome.SUCCESS}
    assert results["t2"].polls == 2  # the retry was signed anew and accepted
    for request in kps.requests:
        assert request.headers["Authorization"].startswith(f"SDK-HMAC-SHA256 Access={AK}, ")
        assert request.headers["X-Project-Id"] == PROJECT
        assert "X-Auth-Token" not in request.headers
        assert "X-Security-Token" not in request.headers


def test_temporary_keys_send_their_security_token():
    kps = signing_kps(security_tokens={AK: ST})
    kps.add_task("t1", [(0, DONE)])

    env = {**SDK_PAIR, "HUAWEICLOUD_SDK_SECURITY_TOKEN": ST}
    [result] = run_virtual(wait_signed(kps, ["t1"], env))

    assert result.outcome is Outcome.SUCCESS
    assert kps.requests[0].headers["X-Security-Token"] == ST


def test_bulk_listings_are_signed_too():
    kps = signing_kps()
    ids = [f"t{n}" for n in range(25)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING), (5, DONE)])

    results = run_virtual(wait_signed(kps, ids, SDK_PAIR))

    assert {r.outcome for r in results} == {Outcome.SUCCESS}
    assert kps.listing_requests
    for request in kps.listing_requests:
        assert request.headers["Authorization"].startswith("SDK-HMAC-SHA256 ")


def test_a_wrong_secret_key_stops_every_task_at_once_naming_the_source():
    kps = signing_kps()
    for task_id in ("a", "b", "c"):
        kps.add_task(task_id, [(0, RUNNING)])

    env = {"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": WRONG_SK}
    results = run_virtual(wait_signed(kps, ["a", "b", "c"], env, max_in_flight="1"))

    assert {r.outcome for r in results} == {Outcome.ERROR}
    assert len(kps.requests) == 1  # nothing more: bad signatures lock the key
    first = by_id(results)["a"]
    assert "APIGW.0301" in (first.error or "")
    assert "verify aksk signature fail" in (first.error or "")
    assert "the credentials from environment HUAWEICLOUD_SDK_AK were refused" in (first.error or "")
    assert "clock" not in (first.error or "")
    for result in results:
        assert WRONG_SK not in (result.error or "")


def test_an_unknown_access_key_names_its_source_too():
    kps = signing_kps()
    kps.add_task("t1", [(0, RUNNING)])

    [result] = run_virtual(wait_signed(kps, ["t1"], HW_PAIR))

    assert "ak *** not exist" in (result.error or "")
    assert "credentials from environment HW_ACCESS_KEY were refused" in (result.error or "")


@pytest.mark.parametrize(("minutes", "direction"), [(20, "behind"), (-30, "ahead of")])
def test_a_clock_off_by_more_than_15_minutes_says_to_check_the_clock(minutes: int, direction: str):
    # The server's clock is skewed instead of ours: the same distance, seen from either side.
    kps = signing_kps(wall_clock=lambda: datetime.now(UTC) + timedelta(minutes=minutes))
    kps.add_task("t1", [(0, RUNNING)])
    kps.add_task("t2", [(0, RUNNING)])

    results = run_virtual(wait_signed(kps, ["t1", "t2"], SDK_PAIR, max_in_flight="1"))

    assert {r.outcome for r in results} == {Outcome.ERROR}
    assert len(kps.requests) == 1
    error = by_id(results)["t1"].error or ""
    assert "signature expired" in error
    assert "check this machine's clock" in error
    assert f"about {abs(minutes)} minutes {direction} the server's" in error
    assert "credentials from environment HUAWEICLOUD_SDK_AK were refused" in error


def test_a_clock_skewed_on_the_client_side_is_caught_as_well():
    kps = signing_kps()
    kps.add_task("t1", [(0, RUNNING)])
    late = datetime.now(UTC) - timedelta(minutes=40)
    auth = SigningAuth(AkSkCredentials(AK, SK), project_id=PROJECT, clock=lambda: late)

    async def scenario() -> str:
        import aiohttp

        from waiter._apis._kps import KpsClient

        async with kps.serve() as url, aiohttp.ClientSession() as session:
            client = KpsClient(session, endpoints=[url], project_id=PROJECT, auth=auth)
            with pytest.raises(AuthError) as caught:
                await client.fetch("t1")
            return str(caught.value)

    error = run_virtual(scenario())

    assert "check this machine's clock" in error
    assert "about 40 minutes behind the server's" in error


def test_a_server_that_takes_both_checks_tokens_as_before():
    kps = signing_kps(token=TOKEN)
    kps.add_task("t1", [(0, DONE)])

    [result] = run_virtual(wait_signed(kps, ["t1"], {"WAITER_AUTH_TOKEN": TOKEN}))

    assert result.outcome is Outcome.SUCCESS
    assert kps.requests[0].headers["X-Auth-Token"] == TOKEN


def test_a_wrong_token_names_its_variable():
    kps = signing_kps(token=TOKEN)
    kps.add_task("t1", [(0, RUNNING)])

    [result] = run_virtual(wait_signed(kps, ["t1"], {"OS_AUTH_TOKEN": "wrong-token-1"}))

    assert "the token from environment OS_AUTH_TOKEN is wrong or expired" in (result.error or "")
