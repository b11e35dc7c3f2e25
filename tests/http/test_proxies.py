"""Proxies from the environment, read as the standard library reads them (never ~/.netrc).

The variables are set on os.environ (monkeypatch; conftest clears them for every test), which
is where ``urllib.request.getproxies_environment`` reads them.
"""

from __future__ import annotations

import pytest
from helpers import fake_kps, settings_for
from virtual_time import run_virtual

from waiter import Outcome, wait_for
from waiter._http._client import proxy_for

PROXY = "http://proxy.invalid:3128"
KPS = "https://kps.cn-north-4.myhuaweicloud.com/v3/p/tasks/t1"


def test_no_variables_no_proxy():
    assert proxy_for(KPS) is None


@pytest.mark.parametrize(
    ("variables", "url", "proxy"),
    [
        ({"HTTPS_PROXY": PROXY}, KPS, PROXY),
        ({"https_proxy": PROXY}, KPS, PROXY),
        ({"HTTP_PROXY": PROXY}, KPS, None),  # the scheme's own variable only
        ({"HTTP_PROXY": PROXY}, "http://127.0.0.1:8080/x", PROXY),
        # Lower case wins over upper case, as in urllib and curl.
        ({"HTTPS_PROXY": "http://upper:1", "https_proxy": PROXY}, KPS, PROXY),
        # An empty lower-case variable unsets the upper-case one.
        ({"HTTPS_PROXY": PROXY, "https_proxy": ""}, KPS, None),
        ({"HTTPS_PROXY": ""}, KPS, None),
        # Under CGI, HTTP_PROXY may be the client's "Proxy:" header (httpoxy): ignored.
        ({"HTTP_PROXY": PROXY, "REQUEST_METHOD": "GET"}, "http://127.0.0.1:8080/x", None),
    ],
    ids=["upper", "lower", "other-scheme", "http", "lower-wins", "lower-empty-unsets",
         "empty", "cgi"],
)  # fmt: skip
def test_the_proxy_for_a_url(monkeypatch, variables, url, proxy):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert proxy_for(url) == proxy


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [
        ("*", True),
        ("myhuaweicloud.com", True),
        (".myhuaweicloud.com", True),
        ("MyHuaweiCloud.COM", True),
        ("example.com, kps.cn-north-4.myhuaweicloud.com", True),
        ("kps.cn-north-4.myhuaweicloud.com:443", True),
        ("kps.cn-north-4.myhuaweicloud.com:8443", False),
        ("huaweicloud.com", False),  # a suffix of labels, not of characters
        ("other.example", False),
        ("", False),
    ],
)
def test_no_proxy_entries(monkeypatch, no_proxy, bypassed):
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("no_proxy", no_proxy)
    url = "https://kps.cn-north-4.myhuaweicloud.com:443/v3/p/tasks/t1"
    assert proxy_for(url) == (None if bypassed else PROXY)


def test_no_proxy_with_the_port_sends_the_run_direct(monkeypatch):
    proxy, kps = fake_kps(), fake_kps()
    kps.add_task("t1", [(0, "SUCCESS_RESET")])

    async def scenario():
        async with proxy.serve() as proxy_url, kps.serve() as url:
            monkeypatch.setenv("http_proxy", proxy_url)
            monkeypatch.setenv("no_proxy", f"example.com,{url.removeprefix('http://')}")
            return await wait_for(["t1"], settings_for(url))

    [result] = run_virtual(scenario())
    assert result.outcome is Outcome.SUCCESS
    assert proxy.requests == []
    assert len(kps.requests) == 1


def test_netrc_is_never_read(monkeypatch, tmp_path):
    # aiohttp's trust_env would send these credentials to the proxy (or the API) itself.
    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login user password netrc-secret\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    proxy = fake_kps()
    proxy.add_task("t1", [(0, "SUCCESS_RESET")])

    async def scenario():
        async with proxy.serve() as proxy_url:
            monkeypatch.setenv("HTTP_PROXY", proxy_url)
            return await wait_for(["t1"], settings_for("http://127.0.0.1:9/"))

    [result] = run_virtual(scenario())
    assert result.outcome is Outcome.SUCCESS
    assert [r.headers.get("Proxy-Authorization") for r in proxy.requests] == [None]
    assert [r.headers.get("Authorization") for r in proxy.requests] == [None]
