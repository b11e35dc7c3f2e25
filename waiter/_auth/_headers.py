"""Credentials at work: the headers that authenticate each request.

:class:`TokenAuth` sends an IAM token; :class:`SigningAuth` signs each request with an access
key (``SDK-HMAC-SHA256``, see ``_signing.py``). For ``--api http``, :class:`HeaderAuth` adds the
API's own header, alone or on top of the Huawei credentials, and :class:`NoAuth` sends nothing.
Which credentials to use is decided in ``_credentials.py``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from .._config._settings import Settings
from .._errors import ConfigError
from .._http._errors import NOTHING_SENT
from ._signing import AkSkAuth, AkSkCredentials, sign_request
from ._sources import ApiAuthHeader, FoundCredentials, credentials_for, find_api_auth

__all__ = [
    "Auth",
    "HeaderAuth",
    "NoAuth",
    "SigningAuth",
    "TokenAuth",
    "auth_for",
    "auth_from_settings",
    "refusal_context",
]


class Auth(Protocol):
    def headers(self, method: str, url: str) -> dict[str, str]:
        """Headers that authenticate this request; computed anew for each request."""
        ...


class TokenAuth:
    """An IAM token, sent as ``X-Auth-Token``. ``source`` says where it came from."""

    def __init__(self, token: str, source: str | None = None) -> None:
        self._token = token
        self.source = source

    def __repr__(self) -> str:
        return f"TokenAuth(token='***', source={self.source!r})"

    def headers(self, method: str, url: str) -> dict[str, str]:
        return {"X-Auth-Token": self._token}


class NoAuth:
    """No credentials at all: ``--api http`` without Huawei credentials or a header of its own."""

    source: str | None = None

    def __repr__(self) -> str:
        return "NoAuth()"

    def headers(self, method: str, url: str) -> dict[str, str]:
        return {}


class HeaderAuth:
    """The ``--api http`` API's own auth header, added to what ``base`` sends (if anything).

    Preflight has made sure the header is not one ``base`` sends itself (``X-Auth-Token``,
    or a signature's ``Authorization``).
    """

    def __init__(self, header: ApiAuthHeader, base: Auth | None = None) -> None:
        self._header = header
        self.base = base or NoAuth()
        self.source = f"{header.source} (header {header.name})"

    def __repr__(self) -> str:
        return f"HeaderAuth({self._header.name}='***', base={self.base!r})"

    def headers(self, method: str, url: str) -> dict[str, str]:
        headers = self.base.headers(method, url)
        headers[self._header.name] = self._header.value
        return headers


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Keys:
    """The access key in use, shared by every SigningAuth made from one source.

    Temporary keys are replaced when refreshed; every client then signs with the new ones.
    """

    def __init__(self, keys: AkSkCredentials) -> None:
        self.current = keys


class SigningAuth:
    """Signs each request anew with the current access key (``SDK-HMAC-SHA256``).

    ``project_id`` is sent (and signed) as ``X-Project-Id``, as the SDK does for regional
    services. ``clock`` gives the signing time; tests skew it.
    """

    def __init__(
        self,
        keys: AkSkCredentials,
        *,
        source: str | None = None,
        project_id: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._keys = _Keys(keys)
        self.source = source
        self.project_id = project_id
        self._clock = clock

    def __repr__(self) -> str:
        return f"SigningAuth(keys={self._keys.current!r}, source={self.source!r})"

    @property
    def keys(self) -> AkSkCredentials:
        return self._keys.current

    def replace_keys(self, keys: AkSkCredentials) -> None:
        """Sign with these from now on, here and in every auth made with :meth:`for_project`."""
        self._keys.current = keys

    def for_project(self, project_id: str | None) -> SigningAuth:
        """The same keys (refreshed together), sending another ``X-Project-Id``."""
        twin = copy.copy(self)  # shallow: the twin shares the _Keys holder
        twin.project_id = project_id
        return twin

    def headers(self, method: str, url: str) -> dict[str, str]:
        keys = self._keys.current
        if keys.project_id != self.project_id:
            keys = replace(keys, project_id=self.project_id)
        return sign_request(method, url, {}, b"", keys, now=self._clock())


def auth_for(
    found: FoundCredentials, project_id: str | None = None
) -> TokenAuth | SigningAuth | NoAuth:
    """The Auth for credentials at hand (a token, keys already fetched, or none at all)."""
    if found.kind == "none":
        return NoAuth()
    if found.token is not None:
        return TokenAuth(found.token, found.source)
    if found.keys is not None:
        return SigningAuth(found.keys, source=found.source, project_id=project_id)
    raise ConfigError(
        f"the credentials from {found.source} are fetched when a Waiter starts; "
        "use `async with Waiter(settings)`"
    )


def auth_from_settings(settings: Settings) -> Auth:
    """The credentials the settings lead to, ready to use; ConfigError when there are none.

    For ``--api http``: the API's own header, and the Huawei credentials only when
    ``api_huawei_auth`` asks for them.
    """
    auth: Auth = auth_for(credentials_for(settings), settings.project_id)
    header = find_api_auth(settings) if settings.api == "http" else None
    return HeaderAuth(header, auth) if header is not None else auth


def refusal_context(auth: Auth) -> tuple[str | None, bool]:
    """Where the credentials came from (if known), and whether requests are signed.

    What a 401 needs to say which credentials were refused, and whether a clock can be at
    fault (a signature carries the time; a token does not).
    """
    if isinstance(auth, HeaderAuth):
        base_source, signed = refusal_context(auth.base)
        both = f"{auth.source} and {base_source}" if base_source else auth.source
        return both, signed
    if isinstance(auth, TokenAuth | SigningAuth):
        return auth.source, isinstance(auth, SigningAuth)
    if isinstance(auth, NoAuth):
        return NOTHING_SENT, False
    return None, isinstance(auth, AkSkAuth)
