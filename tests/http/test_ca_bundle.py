"""A private CA from the variables the SDK's HTTP stack (requests) reads, as from SSL_CERT_FILE.

The simulated KPS is served over HTTPS on 127.0.0.1 with a certificate from a CA made for the
test (openssl's command line); the run trusts it only through the variable under test.

requests, under the official SDK, reads ``REQUESTS_CA_BUNDLE``, then ``CURL_CA_BUNDLE``
(``Session.merge_environment_settings``); it never reads ``SSL_CERT_FILE`` (its default is
certifi's bundle). waiter's ``tls.ca_bundle`` reads ``SSL_CERT_FILE`` and, once the setting's
``env`` tuple has them, the other two.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from helpers import DONE, FAST_FLAGS, PROJECT, TOKEN, fake_kps
from virtual_time import run_virtual

from waiter import Outcome, wait_for
from waiter._config._settings import load_settings

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)


def _make_ca(where: Path, name: str) -> tuple[Path, Path]:
    key, cert = where / f"{name}.key", where / f"{name}.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
             "-days", "2", "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    return key, cert


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 it signed, and a CA that signed nothing."""
    where = tmp_path_factory.mktemp("pki")
    ca_key, ca = _make_ca(where, "test-ca")
    _, other_ca = _make_ca(where, "other-ca")
    key, request, cert = where / "server.key", where / "server.csr", where / "server.pem"
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request,
             "-subj", "/CN=127.0.0.1")  # fmt: skip
    extensions = where / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
             "-out", cert, "-days", "2", "-extfile", extensions)  # fmt: skip
    return {"ca": ca, "other_ca": other_ca, "cert": cert, "key": key}


@asynccontextmanager
async def https_kps(pki: dict[str, Path]) -> AsyncIterator[str]:
    kps = fake_kps()
    kps.add_task("t1", [(0, DONE)])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["cert"], pki["key"])
    runner = web.AppRunner(kps.app(), access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def run_with(pki: dict[str, Path], variables: dict[str, str], **flags: str):
    """One task waited for on the HTTPS KPS, settings loaded from ``variables`` as the command
    line loads them; the result and where tls.ca_bundle came from."""

    async def scenario():
        async with https_kps(pki) as url:
            env = {"HOME": str(pki["ca"].parent), "WAITER_AUTH_TOKEN": TOKEN, **variables}
            loaded = load_settings(
                flags={**FAST_FLAGS, "endpoint": url, "project_id": PROJECT, **flags}, env=env
            )
            [result] = await wait_for(["t1"], loaded.settings)
            return result, loaded.sources.get("ca_bundle")

    return run_virtual(scenario())


def test_ssl_cert_file_trusts_the_private_ca(pki):
    result, source = run_with(pki, {"SSL_CERT_FILE": str(pki["ca"])})
    assert result.outcome is Outcome.SUCCESS, result.error
    assert source == "environment SSL_CERT_FILE"


def test_without_the_ca_the_certificate_is_refused(pki):
    result, source = run_with(pki, {}, timeout="3")
    assert result.outcome is Outcome.TIMEOUT
    assert "certificate" in (result.error or "").lower()
    assert source is None


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_sdks_variables_trust_the_private_ca(pki, variable):
    result, source = run_with(pki, {variable: str(pki["ca"])})
    assert result.outcome is Outcome.SUCCESS, result.error
    assert source == f"environment {variable}"


def test_requests_ca_bundle_comes_before_curl_ca_bundle_as_in_requests(pki):
    variables = {"REQUESTS_CA_BUNDLE": str(pki["ca"]), "CURL_CA_BUNDLE": str(pki["other_ca"])}
    result, source = run_with(pki, variables)
    assert result.outcome is Outcome.SUCCESS, result.error
    assert source == "environment REQUESTS_CA_BUNDLE"
