"""AK/SK request signing: Huawei Cloud ``SDK-HMAC-SHA256``, as ``huaweicloudsdkcore`` signs.

The signature covers a canonical form of the request::

    METHOD
    canonical URI       every path segment percent-decoded then re-encoded, plus a trailing "/"
    canonical query     decoded (key, value) pairs, sorted, re-encoded, joined with "&"
    canonical headers   "name:value" lines, names lower-cased and sorted, values trimmed
    signed headers      those names joined with ";" (every header without "_" in its name)
    payload hash        hex SHA-256 of the body

and the string to sign is ``SDK-HMAC-SHA256\\n<X-Sdk-Date>\\n<hex SHA-256 of the above>``,
MACed with the secret key. The official SDK's quirks are kept on purpose, because the server
recomputes the same bytes: an encoded ``%2F`` in the path splits a segment, query pairs are
sorted on their decoded text, ``str.strip()`` trims every kind of Unicode whitespace, and a
non-JSON ``Content-Type`` (exact spelling) leaves the body unsigned.

Where the SDK would send a request that makes no sense, this module refuses instead (two
headers whose names differ only in case; an ``Authorization`` or ``X-Sdk-Date`` given by the
caller) or sends one copy where the SDK would send two (the headers this module sets).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import SplitResult, quote, unquote, urlsplit

from .._http._errors import MAX_CLOCK_SKEW

__all__ = [
    "ALGORITHM",
    "AkSkCredentials",
    "sign_request",
    "utc_now",
    "verify_signature",
]

ALGORITHM = "SDK-HMAC-SHA256"

_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AUTHORIZATION = "Authorization"
_DATE = "X-Sdk-Date"
_HOST = "Host"
_PROJECT_ID = "X-Project-Id"
_SECURITY_TOKEN = "X-Security-Token"  # noqa: S105 - a header name, not a secret
_CONTENT_SHA256 = "X-Sdk-Content-Sha256"
_UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# Bodies of these types are hashed; any other declared Content-Type is sent unsigned.
_HASHED_CONTENT_TYPES = ("application/json", "application/bson")
# Only what the signer writes; Access is anything up to the comma so a strange AK still parses.
_AUTHORIZATION_PATTERN = re.compile(
    rf"{ALGORITHM} Access=(?P<ak>[^,]+), SignedHeaders=(?P<names>[^,]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass(frozen=True, repr=False)
class AkSkCredentials:
    """An access key and its secret; temporary ones also carry a security token."""

    access_key: str
    secret_key: str
    security_token: str | None = None

    def __post_init__(self) -> None:
        # The SDK refuses these too; an empty key would only fail later, at the server.
        if not self.access_key:
            raise ValueError("the access key is empty")
        if not self.secret_key:
            raise ValueError("the secret key is empty")

    def __repr__(self) -> str:
        token = None if self.security_token is None else "***"
        return (
            f"AkSkCredentials(access_key={_mask(self.access_key)!r}, secret_key='***', "
            f"security_token={token!r})"
        )


def _mask(access_key: str) -> str:
    # The access key is not the secret, but a log needs only enough of it to tell keys apart.
    return f"{access_key[:4]}***" if len(access_key) >= 12 else "***"


def utc_now() -> datetime:
    """The signing time: now, in UTC."""
    return datetime.now(UTC)


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: AkSkCredentials,
    *,
    now: datetime,
    project_id: str | None = None,
) -> dict[str, str]:
    """Return the full set of headers to send.

    That is the given ones (values trimmed, as the SDK sends them) plus X-Sdk-Date (``now``,
    which must be timezone-aware), Host (from ``url`` unless given), X-Project-Id when
    ``project_id`` is given and not empty (as the SDK does), X-Security-Token when the
    credentials have one, X-Sdk-Content-Sha256 when an exact ``Content-Type`` header names a
    non-JSON type, and Authorization. ValueError for a relative URL, a naive ``now``, header
    names that differ only in case, or a given Authorization or X-Sdk-Date.
    """
    parts = _split_absolute(url)
    _check_given_headers(headers)
    out = dict(headers)
    if project_id:
        _replace(out, _PROJECT_ID, project_id)
    if credentials.security_token is not None:
        _replace(out, _SECURITY_TOKEN, credentials.security_token)
    if _sends_body_unsigned(out):
        _replace(out, _CONTENT_SHA256, _UNSIGNED_PAYLOAD)
    date = _format_date(now)
    out[_DATE] = date
    if _find(out, _HOST) is None:
        out[_HOST] = parts.netloc.rpartition("@")[2]  # never put userinfo in a header
    # The SDK sends every value trimmed, not only the signed ones.
    out = {name: value.strip() for name, value in out.items()}
    signed = sorted((name.lower(), value) for name, value in out.items() if "_" not in name)
    signature = _signature(
        method,
        parts,
        signed,
        payload_hash=_payload_hash(body, _find(out, _CONTENT_SHA256)),
        date=date,
        secret_key=credentials.secret_key,
    )
    names = ";".join(name for name, _ in signed)
    out[_AUTHORIZATION] = (
        f"{ALGORITHM} Access={credentials.access_key}, SignedHeaders={names}, Signature={signature}"
    )
    return out


def verify_signature(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_key_for: Callable[[str], str | None],
    *,
    now: datetime | None = None,
    max_skew: timedelta = MAX_CLOCK_SKEW,
) -> bool:
    """Whether a received request carries a valid signature, as a server checks it.

    ``url`` is the URL as received (raw path and query); ``headers`` all received headers
    (extra, unsigned ones are ignored, as a client adds its own). ``secret_key_for`` maps an
    access key to its secret, or None when the key is unknown. With ``now``, a request
    whose X-Sdk-Date is more than ``max_skew`` away is rejected too. A malformed request
    is just False; only a naive ``now`` (a caller's mistake) raises ValueError.
    """
    if now is not None:
        _format_date(now)  # the same check as when signing: naive times are refused
    match = _AUTHORIZATION_PATTERN.fullmatch(_find(headers, _AUTHORIZATION) or "")
    if match is None:
        return False
    signed = _received_signed_headers(headers, match["names"].split(";"))
    if signed is None:
        return False
    date = dict(signed)[_DATE.lower()]
    if not _acceptable_date(date, now, max_skew):
        return False
    try:
        parts = _split_absolute(url)
    except ValueError:
        return False
    secret_key = secret_key_for(match["ak"])
    if not secret_key:
        return False
    expected = _signature(
        method,
        parts,
        signed,
        payload_hash=_payload_hash(body, dict(signed).get(_CONTENT_SHA256.lower())),
        date=date,
        secret_key=secret_key,
    )
    return hmac.compare_digest(expected, match["signature"])


def _split_absolute(url: str) -> SplitResult:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    return parts


def _check_given_headers(headers: Mapping[str, str]) -> None:
    seen: set[str] = set()
    for name in headers:
        lowered = name.lower()
        # The SDK would sign such a name twice, with only one of the values.
        if lowered in seen:
            raise ValueError(f"header {name!r} is given twice, in different cases")
        seen.add(lowered)
    for name in (_AUTHORIZATION, _DATE):
        if _find(headers, name) is not None:
            raise ValueError(f"header {name} is set by the signer; do not pass it")


def _find(headers: Mapping[str, str], name: str) -> str | None:
    """The value of a header, whatever the case of its name."""
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), None)


def _replace(headers: dict[str, str], name: str, value: str) -> None:
    # Any spelling the caller used goes, so exactly one copy is sent and signed.
    for key in [key for key in headers if key.lower() == name.lower()]:
        del headers[key]
    headers[name] = value


def _sends_body_unsigned(headers: Mapping[str, str]) -> bool:
    # The SDK looks up this exact spelling and tests the untrimmed value, case-sensitively.
    content_type = headers.get("Content-Type")
    if not content_type:
        return False
    return not content_type.startswith(_HASHED_CONTENT_TYPES)


def _format_date(now: datetime) -> str:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware: the signature carries UTC time")
    return now.astimezone(UTC).strftime(_DATE_FORMAT)


def _payload_hash(body: bytes, declared: str | None) -> str:
    # An empty body is always hashed: a declared hash counts only when there is a body.
    if body and declared:
        # The SDK reads the header after re-encoding it for the wire (UTF-8 bytes shown as
        # Latin-1), so a non-ASCII value enters the canonical request in that form.
        return declared.encode("utf-8").decode("latin-1")
    return hashlib.sha256(body).hexdigest()


def _signature(
    method: str,
    parts: SplitResult,
    signed: list[tuple[str, str]],
    *,
    payload_hash: str,
    date: str,
    secret_key: str,
) -> str:
    canonical_request = "\n".join(
        (
            method.upper(),
            _canonical_uri(parts.path),
            _canonical_query(parts.query),
            "".join(f"{name}:{value}\n" for name, value in signed),
            ";".join(name for name, _ in signed),
            payload_hash,
        )
    )
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{date}\n{digest}"
    key = secret_key.encode("utf-8")
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _encode(text: str) -> str:
    # RFC 3986 unreserved characters stay; everything else, "/" included, is %XX of UTF-8.
    return quote(text, safe="~")


def _canonical_uri(path: str) -> str:
    # Decoding first makes "%7E" and "~", or "%C3%A9" and "é", sign alike; it also turns an
    # encoded "%2F" into a segment break, as the SDK (and so the server) does.
    segments = unquote(path or "/").split("/")
    uri = "/".join(_encode(segment) for segment in segments)
    # The trailing slash is for the signature only; the request keeps its own path.
    return uri if uri.endswith("/") else f"{uri}/"


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for piece in query.split("&"):
        if not piece:  # "a=1&&b=2": an empty piece is no parameter
            continue
        key, _, value = piece.partition("=")
        # Percent-decoding only: "+" is a plus sign, as the SDK encodes a space as "%20".
        pairs.append((unquote(key), unquote(value)))
    return pairs


def _canonical_query(query: str) -> str:
    # Sorted on the decoded text, by code point, not on the encoded form; a key without
    # "=" is a key with an empty value.
    return "&".join(
        f"{_encode(key)}={_encode(value)}" for key, value in sorted(_query_pairs(query))
    )


def _received_signed_headers(
    headers: Mapping[str, str], names: list[str]
) -> list[tuple[str, str]] | None:
    """The signed headers as (lower-cased name, trimmed value), or None if unusable."""
    # A list the signer could not have written is refused rather than trusted: it must be
    # sorted, without repeats, and cover the host and the date.
    if names != sorted(set(names)) or not {_HOST.lower(), _DATE.lower()} <= set(names):
        return None
    values: dict[str, list[str]] = {}
    for key, value in headers.items():
        values.setdefault(key.lower(), []).append(value)
    signed = []
    for name in names:
        found = values.get(name, [])
        if len(found) != 1:  # missing, or ambiguous
            return None
        signed.append((name, found[0].strip()))
    return signed


def _acceptable_date(date: str, now: datetime | None, max_skew: timedelta) -> bool:
    try:
        sent = datetime.strptime(date, _DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return False
    # strptime also takes unpadded fields; only the form a signer writes is accepted.
    if sent.strftime(_DATE_FORMAT) != date:
        return False
    return now is None or abs(now - sent) <= max_skew
