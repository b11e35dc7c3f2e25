"""The official SDK (huaweicloudsdkcore 3.1.219) as the oracle: its own providers and request
builders run against the same simulated IAM, STS and pod endpoints as waiter, and waiter must
make the same requests (method, path, the headers that matter, the JSON body) and read the
same keys out of the same answers.

The SDK uses ``requests``; it is pointed at 127.0.0.1 through its own variables.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
import requests
from fake_sts import (
    AGENCY_URN,
    ID_TOKEN,
    IDP_ID,
    POD_TOKEN,
    PROVIDER_URN,
    UNSCOPED_PREFIX,
    Call,
    FakeSts,
)
from helpers import served_on_a_thread, write
from huaweicloudsdkcore.auth.internal import StsAccessor
from huaweicloudsdkcore.auth.provider import (
    EnvCredentialProvider,
    OidcStsCredentialProvider,
    PodIdentityCredentialProvider,
)
from huaweicloudsdkcore.http.http_config import HttpConfig

from waiter._auth._exchange import fetch_federated, fetch_oidc, fetch_pod
from waiter._auth._metadata import parse_temporary
from waiter._auth._sources import IdTokenFederation, OidcAgency, PodIdentity

# The headers whose value matters to the servers (User-Agent and transport headers differ).
_HEADERS = ("X-Idp-Id", "Content-Type", "Authorization")


class SdkClient:
    """What the SDK's accessors need of an HttpClient: a config, and one request sent."""

    config = HttpConfig.get_default_config()

    def do_request_sync(self, request) -> requests.Response:
        with requests.Session() as session:
            session.trust_env = False  # no proxy, no .netrc: 127.0.0.1 only
            return session.request(
                request.method, request.url, headers=request.header_params,
                data=request.body, timeout=5, allow_redirects=False,
            )  # fmt: skip


def essentials(call: Call) -> tuple[object, ...]:
    body = json.dumps(call.body)
    # The unscoped token differs from one exchange to the next; its place in the body must not.
    for n in range(1, 10):
        body = body.replace(f"{UNSCOPED_PREFIX}{n:04d}-a1b2c3", "<unscoped>")
    headers = {name: call.headers.get(name) for name in _HEADERS}
    return call.method, call.path, headers, json.loads(body)


def run_waiter(fetch) -> object:
    async def scenario():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            return await fetch(session)

    return asyncio.run(scenario())


@pytest.fixture
def id_token_path() -> Path:
    return write(Path.home() / "id-token", ID_TOKEN + "\n")


def test_id_token_federation_makes_the_sdks_requests(monkeypatch, id_token_path: Path):
    sts = FakeSts()
    with served_on_a_thread(sts.serve()) as url:
        monkeypatch.setenv("HUAWEICLOUD_SDK_IDP_ID", IDP_ID)
        monkeypatch.setenv("HUAWEICLOUD_SDK_ID_TOKEN_FILE", str(id_token_path))
        monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", url)
        credentials = EnvCredentialProvider.get_basic().get_credentials()
        credentials.process_sts(SdkClient())
        sdk_calls = list(sts.calls)
        federation = IdTokenFederation(IDP_ID, id_token_path, None, check="check it")
        temporary = run_waiter(lambda session: fetch_federated(session, federation, url))

    waiter_calls = sts.calls[len(sdk_calls) :]
    assert [essentials(c) for c in waiter_calls] == [essentials(c) for c in sdk_calls]
    assert len(sdk_calls) == 2
    assert (credentials.ak, credentials.sk, credentials.security_token) == sts.issued[0]
    assert (temporary.keys.access_key, temporary.keys.secret_key) == sts.issued[1][:2]


@pytest.mark.parametrize(
    "extra",
    [{}, {"HUAWEICLOUD_OIDC_POLICY": '{"Version": "5.0"}', "HUAWEICLOUD_OIDC_POLICY_IDS": "a,b"}],
    ids=["defaults", "policies"],
)
def test_an_oidc_agency_makes_the_sdks_request(monkeypatch, extra: dict[str, str]):
    sts = FakeSts(camel_case=True)
    with served_on_a_thread(sts.serve()) as url:
        variables = {
            "HUAWEICLOUD_OIDC_PROVIDER_URN": PROVIDER_URN,
            "HUAWEICLOUD_OIDC_AGENCY_URN": AGENCY_URN,
            "HUAWEICLOUD_OIDC_ID_TOKEN": ID_TOKEN,
            "HUAWEICLOUD_SDK_STS_ENDPOINT": url,
            **extra,
        }
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        credentials = OidcStsCredentialProvider.get_basic().get_credentials()
        credentials.process_sts(SdkClient())
        sdk_calls = list(sts.calls)
        agency = OidcAgency(
            provider_urn=PROVIDER_URN,
            agency_urn=AGENCY_URN,
            session_name="oidc-sts-session",
            duration_seconds=3600,
            policy=extra.get("HUAWEICLOUD_OIDC_POLICY"),
            policy_ids=("a", "b") if extra else None,
            token_source="environment HUAWEICLOUD_OIDC_ID_TOKEN",
            id_token=ID_TOKEN,
        )
        temporary = run_waiter(lambda session: fetch_oidc(session, agency, url))

    [sdk_call], [waiter_call] = sdk_calls, sts.calls[1:]
    assert essentials(waiter_call) == essentials(sdk_call)
    # Byte for byte: the same key order and separators as the SDK's json.dumps.
    assert (credentials.ak, credentials.sk, credentials.security_token) == sts.issued[0]
    assert temporary.keys.access_key == sts.issued[1][0]


def test_pod_identity_makes_the_sdks_request(monkeypatch):
    sts = FakeSts()
    token_file = write(Path.home() / "pod-token", POD_TOKEN)
    with served_on_a_thread(sts.serve()) as url:
        monkeypatch.setenv("HC_CONTAINER_CREDENTIALS_FULL_URI", f"{url}/pod/credentials")
        monkeypatch.setenv("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(token_file))
        credentials = PodIdentityCredentialProvider.get_basic().get_credentials()
        pod = PodIdentity(f"{url}/pod/credentials", token_file)
        temporary = run_waiter(lambda session: fetch_pod(session, pod))

    sdk_call, waiter_call = sts.calls
    assert essentials(waiter_call) == essentials(sdk_call)
    assert (credentials.ak, credentials.sk, credentials.security_token) == sts.issued[0]
    assert temporary.keys.access_key == sts.issued[1][0]


@pytest.mark.parametrize(
    "answer",
    [
        {"credential": {"access": "A1", "secret": "S1", "securitytoken": "T1",
                        "expires_at": "2030-01-02T03:04:05.000000Z"}},
        {"credentials": {"accessKeyId": "A1", "secretAccessKey": "S1", "securityToken": "T1",
                         "expiration": "2030-01-02T03:04:05.000000Z"}},
        {"access_key_id": "A1", "secret_access_key": "S1", "security_token": "T1",
         "expires_at": "2030-01-02T03:04:05.000000Z"},
    ],
    ids=["iam", "sts camelCase", "flat snake_case"],
)  # fmt: skip
def test_answers_are_read_as_the_sdk_reads_them(answer: dict[str, object]):
    body = json.dumps(answer).encode()
    sdk = StsAccessor._process_credential(body)
    ours = parse_temporary(body, "the test")

    assert (ours.keys.access_key, ours.keys.secret_key, ours.keys.security_token) == (
        sdk.access, sdk.secret, sdk.security_token,
    )  # fmt: skip
    assert ours.expires_at.year == 2030
