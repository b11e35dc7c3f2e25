"""AK/SK signing: byte for byte what the official SDK (huaweicloudsdkcore) signs, and verifies."""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from waiter._auth._headers import SigningAuth
from waiter._auth._signing import AkSkCredentials, sign_request, verify_signature
from waiter._http._client import Auth

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
AK = "HPUAEXAMPLEACCESSKEY"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "gQpjbi1ub3J0aC00-temporary-token"
PROJECT = "0123456789abcdef0123456789abcdef"
URL = "https://kps.cn-north-4.myhuaweicloud.com/v3/0123/kms/tasks/42?limit=10&marker=a%20b"


# --- The oracle: the official SDK, fed the same request -------------------------------------


@dataclass
class Request:
    """A request as generated: the parts the SDK takes, and the URL they make for us."""

    method: str
    host: str
    path: str  # as it appears in the URL, i.e. already encoded (or not) as the test chose
    query: str  # as it appears in the URL
    pairs: list[tuple[str, str]]  # the decoded query parameters the URL carries
    headers: dict[str, str]
    body: bytes
    credentials: AkSkCredentials
    now: datetime = NOW
    project_id: str | None = None  # sent as X-Project-Id when not empty

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}" + (f"?{self.query}" if self.query else "")


def sdk_headers(request: Request) -> dict[str, str]:
    """The headers huaweicloudsdkcore's BasicCredentials.sign_request sends for this request."""
    pytest.importorskip("huaweicloudsdkcore")
    from huaweicloudsdkcore.auth.credentials import BasicCredentials  # type: ignore[import-untyped]
    from huaweicloudsdkcore.sdk_request import SdkRequest  # type: ignore[import-untyped]

    credentials = BasicCredentials(
        request.credentials.access_key,
        request.credentials.secret_key,
        request.project_id,
    )
    if request.credentials.security_token is not None:
        credentials.security_token = request.credentials.security_token
    # The signer honours a preset X-Sdk-Date: this pins its clock to ours.
    date = request.now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    sdk_request = SdkRequest(
        method=request.method,
        schema="https",
        host=request.host,
        resource_path=request.path,
        query_params=list(request.pairs),
        header_params={**request.headers, "X-Sdk-Date": date},
        body=request.body,
    )
    signed = credentials.sign_request(sdk_request)
    # The SDK rewrites every header value it trims as UTF-8 bytes read as Latin-1 (for
    # requests' sake); Authorization is added after that.
    return {
        name: value if name == "Authorization" else value.encode("latin-1").decode("utf-8")
        for name, value in signed.header_params.items()
    }


# --- Awkward requests -----------------------------------------------------------------------

AWKWARD = " ~%+=/?&#;:@!$'()*,é中😀\u00a0"
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(list(AWKWARD)), max_size=6
)
# What str.strip() trims, beyond the plain space: the SDK trims with it.
PADDING = st.sampled_from(["", "", " ", "\t ", "\u00a0", "\u3000\u2003", "\x1f", " \n"])
VALUE = st.builds(lambda pad, text, end: pad + text + end, PADDING, TEXT, PADDING)
PATH_SAFE = st.sets(st.sampled_from("~+=:@!$'()*,;")).map("".join)
QUERY_SAFE = st.sets(st.sampled_from("~+!$'()*,;:@/?")).map("".join)
# Keys often repeat, so repeated keys with values to sort are common.
QUERY_KEY = st.sampled_from(["a", "A", "a b", "limit", "é", "~x", "k=v", "", "+"]) | TEXT
QUERY_VALUE = st.sampled_from(["", "1", "2", "a+b", "a b", "x=y", "%", "%41", "é"]) | TEXT
NAME_CHARACTERS = string.ascii_letters + string.digits + "-_"
RESERVED = {
    "authorization", "x-sdk-date", "host", "content-type", "x-sdk-content-sha256",
    "x-project-id", "x-security-token",
}  # fmt: skip
HEADER_NAMES = st.lists(
    st.text(NAME_CHARACTERS, min_size=1, max_size=12).filter(lambda n: n.lower() not in RESERVED),
    unique_by=str.lower,
    max_size=4,
)
CONTENT_TYPE = st.sampled_from(
    ["application/json", "application/json;charset=UTF-8", "application/bson", "text/plain",
     "application/octet-stream", " application/json", "", "APPLICATION/JSON"]
)  # fmt: skip
PRESET = st.sampled_from(["UNSIGNED-PAYLOAD", "  ", " hash-é中 "]) | VALUE
HOSTS = st.sampled_from(
    ["kps.cn-north-4.myhuaweicloud.com", "127.0.0.1:8080", "[::1]:443", "Example.COM"]
)
METHODS = st.sampled_from(["GET", "get", "Post", "PUT", "DELETE", "PATCH", "HEAD"])
TIMES = st.just(NOW) | st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
)
CREDENTIALS = st.builds(
    AkSkCredentials,
    access_key=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20),
    secret_key=st.text(min_size=1),  # any text but surrogates
    security_token=st.none() | st.text(max_size=12),
)
PROJECT_IDS = st.none() | st.sampled_from(["", PROJECT]) | st.text(max_size=8)


def casings(name: str) -> st.SearchStrategy[str]:
    """The name as written, all lower, or any mix of cases (one bit per character)."""
    mixed = st.integers(0, 2 ** len(name) - 1).map(
        lambda bits: "".join(c.upper() if bits >> i & 1 else c.lower() for i, c in enumerate(name))
    )
    return st.sampled_from([name, name.lower()]) | mixed


CONTENT_TYPE_NAME = casings("Content-Type")
HOST_NAME = casings("Host")


@st.composite
def paths(draw: st.DrawFn) -> str:
    segments = draw(st.lists(TEXT, max_size=4))
    if draw(st.booleans()):
        # Encoded, leaving a random choice of sub-delimiters as they are.
        safe = draw(PATH_SAFE)
        segments = [quote(segment, safe=safe) for segment in segments]
    else:
        # Raw: unicode, spaces, stray "%" and "%FF"; only what would end the path is escaped.
        segments = [s.replace("?", "%3F").replace("#", "%23") for s in segments]
    path = "/" + "/".join(segments)
    return path + "/" if draw(st.booleans()) else path


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    pairs = draw(st.lists(st.tuples(QUERY_KEY, QUERY_VALUE), max_size=5))
    safe = draw(QUERY_SAFE)
    pieces = []
    for key, value in pairs:
        encoded = quote(key, safe=safe)
        if value or not key or draw(st.booleans()):  # "k" alone also means k=""
            encoded += "=" + quote(value, safe=safe + "=")
        pieces.append(encoded)
        if draw(st.booleans()):
            pieces.append("")  # "&&": no parameter
    return "&".join(pieces), pairs


@st.composite
def header_sets(draw: st.DrawFn) -> dict[str, str]:
    headers = {name: draw(VALUE) for name in draw(HEADER_NAMES)}
    if draw(st.booleans()):
        # Any casing of Content-Type; only the exact one can make the body unsigned.
        headers[draw(CONTENT_TYPE_NAME)] = draw(CONTENT_TYPE)
    if draw(st.booleans()):
        headers[draw(HOST_NAME)] = draw(VALUE)
    # These three the signer may set itself; its copy replaces one of this exact spelling.
    for name in ("X-Sdk-Content-Sha256", "X-Project-Id", "X-Security-Token"):
        if draw(st.integers(0, 3)) == 0:
            headers[name] = draw(PRESET)
    return headers


@st.composite
def requests(draw: st.DrawFn) -> Request:
    query, pairs = draw(queries())
    return Request(
        method=draw(METHODS),
        host=draw(HOSTS),
        path=draw(paths()),
        query=query,
        pairs=pairs,
        headers=draw(header_sets()),
        body=draw(st.just(b"") | st.binary(max_size=40)),
        credentials=draw(CREDENTIALS),
        now=draw(TIMES),
        project_id=draw(PROJECT_IDS),
    )


def ours(request: Request) -> dict[str, str]:
    return sign_request(
        request.method,
        request.url,
        request.headers,
        request.body,
        request.credentials,
        now=request.now,
        project_id=request.project_id,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
@example(  # the unsigned-payload path: exact Content-Type, non-JSON, with a body
    Request(
        method="POST",
        host="h",
        path="/a%2Fb/%7E/~/%FF/",
        query="b=2&a=&a=1&&c",
        pairs=[("b", "2"), ("a", ""), ("a", "1"), ("c", "")],
        headers={"Content-Type": "text/plain", "x_amz": " kept ", "X-Sdk-Content-Sha256": "é"},
        body=b"payload",
        credentials=AkSkCredentials(AK, SK, TOKEN),
        project_id=PROJECT,
    )
)
@example(  # " application/json" is not JSON to the SDK; "content-type" is not looked at
    Request(
        method="put",
        host="127.0.0.1:8080",
        path="/v3/é%C3%A9/a+b=c/",
        query="q=a+b&q=a%20b&%C3%A9=1&~=&z",
        pairs=[("q", "a+b"), ("q", "a b"), ("é", "1"), ("~", ""), ("z", "")],
        headers={"Content-Type": " application/json", "X-Custom": "\u3000 v  v \x1f"},
        body=b"{}",
        credentials=AkSkCredentials(AK, SK, security_token=""),
    )
)
@example(
    Request(
        method="POST",
        host="h",
        path="/",
        query="",
        pairs=[],
        headers={"content-type": "text/plain", "HOST": " other-host "},
        body=b"x",
        credentials=AkSkCredentials(AK, SK),
        project_id="",
    )
)
def test_headers_match_the_official_sdk(request_: Request) -> None:
    expected = sdk_headers(request_)

    got = ours(request_)

    assert got == expected
    keys = {request_.credentials.access_key: request_.credentials.secret_key}
    assert verify_signature(request_.method, request_.url, got, request_.body, keys.get)


# --- Fixed answers ----------------------------------------------------------------------------


def test_known_answer() -> None:
    credentials = AkSkCredentials(AK, SK, security_token=TOKEN)

    headers = sign_request(
        "GET", URL, {"Accept": "application/json"}, b"", credentials, now=NOW, project_id=PROJECT
    )

    assert headers == {
        "Accept": "application/json",
        "X-Project-Id": PROJECT,
        "X-Security-Token": TOKEN,
        "X-Sdk-Date": "20240506T070809Z",
        "Host": "kps.cn-north-4.myhuaweicloud.com",
        "Authorization": (
            "SDK-HMAC-SHA256 Access=HPUAEXAMPLEACCESSKEY, "
            "SignedHeaders=accept;host;x-project-id;x-sdk-date;x-security-token, "
            f"Signature={KNOWN_SIGNATURE}"
        ),
    }


KNOWN_SIGNATURE = "18f1dd58fab0f7869cf46f1b420f5772da84fc2ae2d96bb9ba7be459eb9016d7"

# The canonical request behind KNOWN_SIGNATURE, written out: it documents the format.
KNOWN_CANONICAL_REQUEST = (
    "GET\n"
    "/v3/0123/kms/tasks/42/\n"
    "limit=10&marker=a%20b\n"
    "accept:application/json\n"
    "host:kps.cn-north-4.myhuaweicloud.com\n"
    f"x-project-id:{PROJECT}\n"
    "x-sdk-date:20240506T070809Z\n"
    f"x-security-token:{TOKEN}\n"
    "\n"
    "accept;host;x-project-id;x-sdk-date;x-security-token\n"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)


def test_known_answer_follows_from_the_documented_canonical_request() -> None:
    digest = hashlib.sha256(KNOWN_CANONICAL_REQUEST.encode()).hexdigest()
    string_to_sign = f"SDK-HMAC-SHA256\n20240506T070809Z\n{digest}"

    signature = hmac.new(SK.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()

    assert signature == KNOWN_SIGNATURE


def test_known_answer_agrees_with_the_sdk() -> None:
    credentials = AkSkCredentials(AK, SK, security_token=TOKEN)
    request = Request(
        method="GET",
        host="kps.cn-north-4.myhuaweicloud.com",
        path="/v3/0123/kms/tasks/42",
        query="limit=10&marker=a%20b",
        pairs=[("limit", "10"), ("marker", "a b")],
        headers={"Accept": "application/json"},
        body=b"",
        credentials=credentials,
        project_id=PROJECT,
    )

    assert sdk_headers(request)["Authorization"].endswith(f"Signature={KNOWN_SIGNATURE}")


# --- Behaviour of our own --------------------------------------------------------------------


def test_empty_path_signs_as_root() -> None:
    # The SDK crashes on an empty resource path; an HTTP client sends "/" for it.
    credentials = AkSkCredentials(AK, SK)

    bare = sign_request("GET", "https://h", {}, b"", credentials, now=NOW)
    root = sign_request("GET", "https://h/", {}, b"", credentials, now=NOW)

    assert bare == root


def test_our_headers_replace_any_spelling_the_caller_used() -> None:
    credentials = AkSkCredentials(AK, SK, security_token=TOKEN)
    given = {"x-project-id": "other", "X-SECURITY-TOKEN": "old", "Content-Type": "text/plain"}
    given["x-sdk-content-sha256"] = "abc"

    headers = sign_request("PUT", URL, given, b"x", credentials, now=NOW, project_id=PROJECT)

    assert headers["X-Project-Id"] == PROJECT
    assert headers["X-Security-Token"] == TOKEN
    assert headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert {"x-project-id", "X-SECURITY-TOKEN", "x-sdk-content-sha256"}.isdisjoint(headers)


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "1", "x-a": "2"}, {"authorization": "x"}, {"X-SDK-DATE": "20240101T000000Z"}],
)
def test_refuses_headers_it_cannot_sign_sensibly(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="header"):
        sign_request("GET", URL, headers, b"", AkSkCredentials(AK, SK), now=NOW)


def test_refuses_a_naive_time_and_a_relative_url() -> None:
    credentials = AkSkCredentials(AK, SK)
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_request("GET", URL, {}, b"", credentials, now=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="absolute"):
        sign_request("GET", "/v3/tasks", {}, b"", credentials, now=NOW)


def test_refuses_empty_keys() -> None:
    with pytest.raises(ValueError, match="access key"):
        AkSkCredentials("", SK)
    with pytest.raises(ValueError, match="secret key"):
        AkSkCredentials(AK, "")


# --- Verification, as the simulated KPS does it -----------------------------------------------


def signed(url: str = URL, body: bytes = b"") -> dict[str, str]:
    credentials = AkSkCredentials(AK, SK)
    return sign_request(
        "POST",
        url,
        {"Content-Type": "application/json"},
        body,
        credentials,
        now=NOW,
        project_id=PROJECT,
    )


def verify(
    headers: dict[str, str], url: str = URL, body: bytes = b"", now: datetime | None = None
) -> bool:
    return verify_signature("POST", url, headers, body, {AK: SK}.get, now=now)


def test_verify_accepts_what_was_signed_even_with_headers_added_later() -> None:
    headers = signed(body=b'{"a": 1}')

    assert verify(headers, body=b'{"a": 1}')
    assert verify({**headers, "User-Agent": "aiohttp", "Accept-Encoding": "gzip"}, body=b'{"a": 1}')
    # Received header names come in any case; the method too.
    lowered = {name.lower(): value for name, value in headers.items()}
    assert verify_signature("post", URL, lowered, b'{"a": 1}', {AK: SK}.get)


def tampered() -> Iterator[tuple[str, dict[str, str], str, bytes]]:
    headers = signed()
    yield "path", headers, URL.replace("/42", "/43"), b""
    yield "query", headers, URL.replace("limit=10", "limit=11"), b""
    yield "body", headers, URL, b"{}"
    yield "header", {**headers, "X-Project-Id": "someone-else"}, URL, b""
    yield "host", {**headers, "Host": "evil.example"}, URL, b""
    yield "date", {**headers, "X-Sdk-Date": "20240506T070810Z"}, URL, b""
    yield "bad date", {**headers, "X-Sdk-Date": "2024-05-06"}, URL, b""
    yield "signature", {**headers, "Authorization": headers["Authorization"][:-1] + "0"}, URL, b""
    dropped = headers["Authorization"].replace("x-project-id;", "")
    yield "signed headers", {**headers, "Authorization": dropped}, URL, b""
    yield "no date", {k: v for k, v in headers.items() if k != "X-Sdk-Date"}, URL, b""
    yield "no auth", {k: v for k, v in headers.items() if k != "Authorization"}, URL, b""
    yield "relative url", headers, "/v3/0123", b""
    yield "twice", {**headers, "x-project-id": PROJECT}, URL, b""


@pytest.mark.parametrize(("what", "headers", "url", "body"), list(tampered()))
def test_verify_rejects_tampering(
    what: str, headers: dict[str, str], url: str, body: bytes
) -> None:
    assert not verify(headers, url, body), what


def test_verify_rejects_a_wrong_or_unknown_key() -> None:
    headers = signed()

    assert not verify_signature("POST", URL, headers, b"", {AK: SK + "x"}.get)
    unknown: dict[str, str] = {}
    assert not verify_signature("POST", URL, headers, b"", unknown.get)


def test_verify_rejects_a_stale_date_when_told_the_time() -> None:
    headers = signed()

    assert verify(headers, now=NOW + timedelta(minutes=14))
    assert not verify(headers, now=NOW + timedelta(minutes=16))
    assert not verify(headers, now=NOW - timedelta(minutes=16))
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(headers, now=datetime(2024, 5, 6, 7, 8, 9))


# --- Secrets stay out of sight; every call signs anew -----------------------------------------


@given(
    secret=st.text("abcdefghijklmnopqrstuvwxyz0123456789/+", min_size=16),
    token=st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=16),
)
def test_repr_shows_neither_secret_key_nor_token(secret: str, token: str) -> None:
    credentials = AkSkCredentials(AK, secret, security_token=token)

    for text in (
        repr(credentials),
        str(credentials),
        repr(SigningAuth(credentials, project_id=PROJECT)),
    ):
        assert secret not in text
        assert token not in text
        assert AK not in text


def test_auth_signs_each_request_anew() -> None:
    times = iter([NOW, NOW + timedelta(seconds=1)])
    auth: Auth = SigningAuth(AkSkCredentials(AK, SK), project_id=PROJECT, clock=lambda: next(times))

    first = auth.headers("GET", URL)
    second = auth.headers("GET", URL)

    assert first["X-Sdk-Date"] == "20240506T070809Z"
    assert second["X-Sdk-Date"] == "20240506T070810Z"
    assert first["Authorization"] != second["Authorization"]
    assert set(first) == {"X-Project-Id", "X-Sdk-Date", "Host", "Authorization"}
    assert verify_signature("GET", URL, second, b"", {AK: SK}.get)


def test_auth_defaults_to_the_current_time() -> None:
    before = datetime.now(UTC).replace(microsecond=0)

    headers = SigningAuth(AkSkCredentials(AK, SK)).headers("GET", URL)

    sent = datetime.strptime(headers["X-Sdk-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= sent <= datetime.now(UTC)
