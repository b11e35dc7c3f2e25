"""Keyless credentials end to end: an ID token (or a pod's token) exchanged on simulated IAM,
STS, pod identity and GitHub endpoints for temporary keys, which sign the KPS polls that the
simulated KPS checks with those keys and their security token; refreshed before they expire;
every refusal named; no secret in any output.

Every server is on 127.0.0.1; nothing resolves or contacts a real host.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import structlog
from fake_sts import (
    AGENCY_URN,
    GITHUB_JWT,
    ID_TOKEN,
    IDP_ID,
    OTHER_ID_TOKEN,
    POD_TOKEN,
    PROVIDER_URN,
    REQUEST_TOKEN,
    FakeSts,
)
from helpers import (
    DONE,
    PROJECT,
    RUNNING,
    SDK_PAIR,
    TOKEN,
    cli_settings,
    config_error,
    run_main,
    signing_kps,
    write,
)
from virtual_time import run_virtual

from waiter import ConfigError, Outcome, TaskResult, wait_for
from waiter._auth._sources import credentials_for
from waiter._redact import redact
from waiter.testing._fake import FakeKps


def token_file(name: str = "id-token", text: str = ID_TOKEN) -> Path:
    return write(Path.home() / name, text)


def federation_env(path: Path | None = None) -> dict[str, str]:
    return {
        "HUAWEICLOUD_SDK_IDP_ID": IDP_ID,
        "HUAWEICLOUD_SDK_ID_TOKEN_FILE": str(path or token_file()),
        "HUAWEICLOUD_SDK_IAM_ENDPOINT": "{sts}",
    }


def oidc_env(**more: str) -> dict[str, str]:
    return {
        "HUAWEICLOUD_OIDC_PROVIDER_URN": PROVIDER_URN,
        "HUAWEICLOUD_OIDC_AGENCY_URN": AGENCY_URN,
        "HUAWEICLOUD_SDK_STS_ENDPOINT": "{sts}",
        **more,
    }


def pod_env() -> dict[str, str]:
    return {
        "HC_CONTAINER_CREDENTIALS_FULL_URI": "{sts}/pod/credentials",
        "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file("pod-token", POD_TOKEN)),
    }


GITHUB = {
    "ACTIONS_ID_TOKEN_REQUEST_URL": "{sts}/github/token?api-version=2.0",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
}


def filled(env: dict[str, str], url: str = "http://127.0.0.1:1") -> dict[str, str]:
    """``env`` with ``{sts}`` filled in: a closed port, for tests that send nothing."""
    return {name: value.replace("{sts}", url) for name, value in env.items()}


async def wait_keyless(
    kps: FakeKps, sts: FakeSts, ids: list[str], env: dict[str, str], during=None
) -> list[TaskResult]:
    """Wait on the simulated KPS with ``env`` (``{sts}`` filled with the fake's URL)."""
    async with kps.serve() as kps_url, sts.serve() as sts_url:
        env = {"WAITER_ENDPOINT": kps_url, "WAITER_PROJECT_ID": PROJECT, **filled(env, sts_url)}
        settings = cli_settings(env, timeout="7200")
        side = asyncio.create_task(during()) if during else None
        try:
            return await wait_for(ids, settings)
        finally:
            if side is not None:
                side.cancel()


def kps_and_sts(**sts_options) -> tuple[FakeKps, FakeSts]:
    kps = signing_kps(access_keys={}, security_tokens={})
    return kps, FakeSts(kps=kps, **sts_options)


def signed_with(kps: FakeKps) -> list[str]:
    return [r.headers["Authorization"].split("Access=")[1].split(",")[0] for r in kps.requests]


def secrets_of(sts: FakeSts) -> list[str]:
    found = [ID_TOKEN, OTHER_ID_TOKEN, GITHUB_JWT, REQUEST_TOKEN, POD_TOKEN, *sts.unscoped]
    for _, secret, token in sts.issued:
        found += [secret, token]
    return found


def assert_no_secret(text: str, sts: FakeSts) -> None:
    for secret in secrets_of(sts):
        assert secret not in text, f"a secret leaked: {secret[:8]}..."


# --- ID-token federation ------------------------------------------------------------------------


def test_an_id_token_is_exchanged_at_iam_for_temporary_keys_that_sign_the_polls():
    kps, sts = kps_and_sts()
    kps.add_task("t1", [(0, RUNNING), (3, DONE)])

    with structlog.testing.capture_logs() as events:
        [result] = run_virtual(wait_keyless(kps, sts, ["t1"], federation_env()))

    assert result.outcome is Outcome.SUCCESS
    assert [(c.method, c.path) for c in sts.calls] == [
        ("POST", "/v3.0/OS-AUTH/id-token/tokens"),
        ("POST", "/v3.0/OS-CREDENTIAL/securitytokens"),
    ]
    first, second = sts.calls
    assert first.headers["X-Idp-Id"] == IDP_ID
    assert first.body == {"auth": {"id_token": {"id": ID_TOKEN}}}
    assert second.body == {
        "auth": {
            "identity": {
                "methods": ["token"],
                "token": {"id": sts.unscoped[0], "duration_seconds": 21600},
            }
        }
    }
    assert "Authorization" not in first.headers
    assert "X-Auth-Token" not in second.headers
    access, _, security_token = sts.issued[0]
    assert set(signed_with(kps)) == {access}
    assert {r.headers["X-Security-Token"] for r in kps.requests} == {security_token}
    assert [e["event"] for e in events].count("credentials_fetched") == 1
    assert_no_secret(repr(events) + str(result), sts)


def test_federated_keys_are_refreshed_before_they_expire_with_the_id_token_read_anew():
    kps, sts = kps_and_sts()
    kps.add_task("long", [(0, RUNNING), (60 * 60, DONE)])  # keys live one hour
    path = token_file()

    async def rotate() -> None:  # the token file is rotated, as projected tokens are
        await asyncio.sleep(600)
        write(path, OTHER_ID_TOKEN)

    with structlog.testing.capture_logs() as events:
        [result] = run_virtual(
            wait_keyless(kps, sts, ["long"], federation_env(path), during=rotate)
        )

    assert result.outcome is Outcome.SUCCESS
    id_token_calls = [c for c in sts.calls if c.path.endswith("id-token/tokens")]
    assert [c.body["auth"]["id_token"]["id"] for c in id_token_calls] == [ID_TOKEN, OTHER_ID_TOKEN]
    used = signed_with(kps)
    assert used[0] == sts.issued[0][0]
    assert used[-1] == sts.issued[1][0]
    assert [e["event"] for e in events].count("credentials_refreshed") == 1
    assert_no_secret(repr(events), sts)


def test_the_profile_files_idp_id_and_id_token_file_come_before_its_keys(tmp_path: Path):
    kps, sts = kps_and_sts()
    kps.add_task("t1", [(0, DONE)])
    profile = tmp_path / "credentials"

    async def scenario() -> list[TaskResult]:
        async with kps.serve() as kps_url, sts.serve() as sts_url:
            write(profile, f"[basic]\nak = IGNOREDAK0000000001\nsk = ignored-sk-000000\n"
                  f"idp_id = {IDP_ID}\nid_token_file = {token_file()}\n"
                  f"iam_endpoint = {sts_url}\n")  # fmt: skip
            env = {"WAITER_ENDPOINT": kps_url, "WAITER_PROJECT_ID": PROJECT,
                   "HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(profile)}  # fmt: skip
            return await wait_for(["t1"], cli_settings(env))

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.SUCCESS
    assert sts.calls[0].headers["X-Idp-Id"] == IDP_ID
    assert set(signed_with(kps)) == {sts.issued[0][0]}


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_id_token_is_a_config_error_naming_iam_and_the_variables(status: int):
    kps, sts = kps_and_sts(refuse=status)
    kps.add_task("t1", [(0, DONE)])

    with pytest.raises(ConfigError) as excinfo:
        run_virtual(wait_keyless(kps, sts, ["t1"], federation_env()))

    message = config_error(excinfo)
    assert "no temporary credentials from IAM at http://127.0.0.1" in message
    assert "HUAWEICLOUD_SDK_IDP_ID" in message
    assert "HUAWEICLOUD_SDK_ID_TOKEN_FILE" in message
    assert excinfo.value.setting == "idp_id"
    assert kps.requests == []
    assert_no_secret(message, sts)


def test_a_malformed_credential_from_iam_is_a_config_error():
    kps, sts = kps_and_sts(malformed=True)
    kps.add_task("t1", [(0, DONE)])

    with pytest.raises(ConfigError) as excinfo:
        run_virtual(wait_keyless(kps, sts, ["t1"], federation_env()))

    message = config_error(excinfo)
    assert "IAM's credential has no secret, securitytoken" in message
    assert "check HUAWEICLOUD_SDK_IDP_ID" in message


def test_half_of_the_federation_variables_is_refused_naming_the_other(env: dict[str, str]):
    with pytest.raises(ConfigError) as excinfo:
        credentials_for(cli_settings({**env, "HUAWEICLOUD_SDK_IDP_ID": IDP_ID}))

    message = config_error(excinfo)
    assert "HUAWEICLOUD_SDK_IDP_ID is set but HUAWEICLOUD_SDK_ID_TOKEN_FILE is not" in message


def test_a_missing_id_token_file_is_named_before_anything_is_sent(env: dict[str, str]):
    settings = cli_settings({**env, **filled(federation_env(Path.home() / "absent"))})

    with pytest.raises(ConfigError, match=r"HUAWEICLOUD_SDK_ID_TOKEN_FILE .*absent cannot be"):
        credentials_for(settings)


def test_plain_http_to_a_real_iam_host_is_refused_before_any_request():
    kps, sts = kps_and_sts()
    kps.add_task("t1", [(0, DONE)])
    env = {**federation_env(), "HUAWEICLOUD_SDK_IAM_ENDPOINT": "http://iam.example.test"}

    with pytest.raises(ConfigError) as excinfo:
        run_virtual(wait_keyless(kps, sts, ["t1"], env))

    assert config_error(excinfo).startswith(
        "HUAWEICLOUD_SDK_IAM_ENDPOINT in the environment is http://iam.example.test, plain http "
        "and not on this machine"
    )
    assert sts.calls == []
    assert kps.requests == []


# --- an OIDC agency ---------------------------------------------------------------------------


def test_an_oidc_agency_is_assumed_at_sts_as_the_sdk_asks():
    kps, sts = kps_and_sts(camel_case=True)
    kps.add_task("t1", [(0, RUNNING), (2, DONE)])
    env = oidc_env(
        HUAWEICLOUD_OIDC_ID_TOKEN=ID_TOKEN,
        HUAWEICLOUD_OIDC_SESSION_NAME="ci-run-42",
        HUAWEICLOUD_OIDC_DURATION_SECONDS="900",
        HUAWEICLOUD_OIDC_POLICY_IDS="p1, p2",
    )

    with structlog.testing.capture_logs() as events:
        [result] = run_virtual(wait_keyless(kps, sts, ["t1"], env))

    assert result.outcome is Outcome.SUCCESS
    [call] = sts.calls
    assert (call.method, call.path) == ("POST", "/v5/agencies/assume-with-oidc")
    assert call.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert call.body == {
        "provider_urn": PROVIDER_URN,
        "agency_urn": AGENCY_URN,
        "agency_session_name": "ci-run-42",
        "id_token": ID_TOKEN,
        "duration_seconds": 900,
        "policy_ids": ["p1", "p2"],
    }
    assert {r.headers["X-Security-Token"] for r in kps.requests} == {sts.issued[0][2]}
    assert_no_secret(repr(events) + str(result), sts)


def test_the_oidc_id_token_may_come_from_a_file_with_the_sdks_defaults():
    kps, sts = kps_and_sts()
    kps.add_task("t1", [(0, DONE)])
    env = oidc_env(HUAWEICLOUD_OIDC_TOKEN_FILE=str(token_file()))

    [result] = run_virtual(wait_keyless(kps, sts, ["t1"], env))

    assert result.outcome is Outcome.SUCCESS
    body = sts.calls[0].body
    assert body["id_token"] == ID_TOKEN
    assert (body["agency_session_name"], body["duration_seconds"]) == ("oidc-sts-session", 3600)
    assert "policy" not in body
    assert "policy_ids" not in body


@pytest.mark.parametrize(
    ("more", "audience"),
    [({}, "sts.myhuaweicloud.com"), ({"WAITER_OIDC_AUDIENCE": "my-client-id"}, "my-client-id")],
)
def test_on_github_actions_the_id_token_is_asked_for_from_github(
    more: dict[str, str], audience: str
):
    kps, sts = kps_and_sts()
    kps.add_task("t1", [(0, DONE)])

    with structlog.testing.capture_logs() as events:
        [result] = run_virtual(wait_keyless(kps, sts, ["t1"], {**oidc_env(), **GITHUB, **more}))

    assert result.outcome is Outcome.SUCCESS
    github, assume = sts.calls
    assert (github.method, github.path) == ("GET", "/github/token")
    assert github.query == {"api-version": "2.0", "audience": audience}
    assert github.headers["Authorization"] == f"Bearer {REQUEST_TOKEN}"
    assert assume.body["id_token"] == GITHUB_JWT
    assert_no_secret(repr(events) + str(result), sts)


def test_an_oidc_agency_without_any_id_token_says_how_to_give_one(env: dict[str, str]):
    with pytest.raises(ConfigError) as excinfo:
        credentials_for(cli_settings({**env, **filled(oidc_env())}))

    message = config_error(excinfo)
    assert "HUAWEICLOUD_OIDC_PROVIDER_URN is set but no ID token is given" in message
    assert "HUAWEICLOUD_OIDC_TOKEN_FILE" in message
    assert "id-token: write" in message


def test_an_oidc_agency_needs_both_urns(env: dict[str, str]):
    settings = cli_settings({**env, "HUAWEICLOUD_OIDC_PROVIDER_URN": PROVIDER_URN})

    with pytest.raises(ConfigError, match="HUAWEICLOUD_OIDC_AGENCY_URN is not"):
        credentials_for(settings)


def test_an_untrusted_oidc_token_is_a_config_error_naming_sts_and_the_variables():
    kps, sts = kps_and_sts()
    kps.add_task("t1", [(0, DONE)])
    env = oidc_env(HUAWEICLOUD_OIDC_ID_TOKEN="eyJ.not-a-trusted-token-ffff.sig")

    with pytest.raises(ConfigError) as excinfo:
        run_virtual(wait_keyless(kps, sts, ["t1"], env))

    message = config_error(excinfo)
    assert "no temporary credentials from STS at http://127.0.0.1" in message
    assert "HUAWEICLOUD_OIDC_PROVIDER_URN" in message
    assert "HUAWEICLOUD_OIDC_AGENCY_URN" in message
    assert "not-a-trusted-token" not in message
    assert kps.requests == []


def test_oidc_keys_are_refreshed_with_a_fresh_github_token():
    kps, sts = kps_and_sts()
    kps.add_task("long", [(0, RUNNING), (60 * 60, DONE)])

    [result] = run_virtual(wait_keyless(kps, sts, ["long"], {**oidc_env(), **GITHUB}))

    assert result.outcome is Outcome.SUCCESS
    assert [c.path for c in sts.calls] == ["/github/token", "/v5/agencies/assume-with-oidc"] * 2
    assert signed_with(kps)[-1] == sts.issued[1][0]


# --- pod identity ---------------------------------------------------------------------------


def test_a_pods_identity_gives_temporary_keys():
    kps, sts = kps_and_sts()
    kps.add_task("t1", [(0, DONE)])

    with structlog.testing.capture_logs() as events:
        [result] = run_virtual(wait_keyless(kps, sts, ["t1"], pod_env()))

    assert result.outcome is Outcome.SUCCESS
    [call] = sts.calls
    assert (call.method, call.path, call.body) == ("POST", "/pod/credentials", {})
    assert call.headers["Authorization"] == POD_TOKEN
    assert set(signed_with(kps)) == {sts.issued[0][0]}
    assert_no_secret(repr(events) + str(result), sts)


def test_a_refused_pod_token_is_a_config_error_naming_the_variables():
    kps, sts = kps_and_sts(refuse=403)
    kps.add_task("t1", [(0, DONE)])

    with pytest.raises(ConfigError) as excinfo:
        run_virtual(wait_keyless(kps, sts, ["t1"], pod_env()))

    message = config_error(excinfo)
    assert "no temporary credentials from the pod identity endpoint http://127.0.0.1" in message
    assert "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE" in message
    assert_no_secret(message, sts)


# --- order, warning, --show-config, redaction -------------------------------------------------


def test_the_sources_come_in_the_sdks_order(env: dict[str, str]):
    oidc = oidc_env(HUAWEICLOUD_OIDC_ID_TOKEN=ID_TOKEN)
    everything = filled({**env, **oidc, **federation_env(), **SDK_PAIR, **pod_env()})
    assert credentials_for(cli_settings(everything)).kind == "oidc-agency"
    without_oidc = {k: v for k, v in everything.items() if k not in oidc}
    assert credentials_for(cli_settings(without_oidc)).kind == "id-token"
    pair_and_pod = filled({**env, **SDK_PAIR, **pod_env()})
    assert credentials_for(cli_settings(pair_and_pod)).kind == "access-key"
    assert credentials_for(cli_settings(filled({**env, **pod_env()}))).kind == "pod-identity"
    with_token = {**everything, "WAITER_AUTH_TOKEN": TOKEN}
    assert credentials_for(cli_settings(with_token), warn=False).kind == "token"


def test_a_token_and_an_access_key_pair_both_set_warn_naming_both(env: dict[str, str]):
    settings = cli_settings({**env, **SDK_PAIR, "WAITER_AUTH_TOKEN": TOKEN})

    with structlog.testing.capture_logs() as events:
        found = credentials_for(settings)

    assert found.kind == "token"
    [warning] = [e for e in events if e["event"] == "token_and_access_key_both_set"]
    assert warning["log_level"] == "warning"
    assert warning["token"] == "environment WAITER_AUTH_TOKEN"
    assert warning["access_key"] == "environment HUAWEICLOUD_SDK_AK"
    assert warning["used"] == "environment WAITER_AUTH_TOKEN"
    assert TOKEN not in repr(warning)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (federation_env, "temporary access key from IAM for the ID token in"),
        (lambda: oidc_env(HUAWEICLOUD_OIDC_ID_TOKEN=ID_TOKEN), "from STS for agency"),
        (lambda: {**oidc_env(), **GITHUB}, "ID token from GitHub Actions (audience"),
        (pod_env, "from the pod identity endpoint http://127.0.0.1:1/pod/credentials"),
    ],
    ids=["federation", "oidc", "github", "pod"],
)
def test_show_config_names_the_keyless_source_and_no_secret(env, variables, expected):
    given = {**env, **filled(variables()), "WAITER_REGION": "cn-north-4"}

    code, stdout, _ = run_main(["--show-config"], given)

    assert code == 0
    [line] = [line for line in stdout.splitlines() if line.startswith("# credentials:")]
    assert expected in line
    assert "refreshed before it expires" in line
    for secret in (ID_TOKEN, REQUEST_TOKEN, POD_TOKEN):
        assert secret not in stdout


def test_every_secret_read_or_received_is_masked_from_then_on():
    kps, sts = kps_and_sts()
    kps.add_task("t1", [(0, DONE)])

    run_virtual(wait_keyless(kps, sts, ["t1"], {**oidc_env(), **GITHUB}))
    run_virtual(wait_keyless(kps, sts, ["t1"], federation_env()))
    run_virtual(wait_keyless(kps, sts, ["t1"], pod_env()))

    for secret in set(secrets_of(sts)) - {OTHER_ID_TOKEN}:  # never read here
        assert secret not in redact(f"echoed: {secret} ."), secret[:8]
