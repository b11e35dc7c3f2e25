"""Credentials at work: the headers that authenticate each request (the ``Auth`` protocol).

:class:`TokenAuth` sends an IAM token; :class:`SigningAuth` signs each request with an access
key (``SDK-HMAC-SHA256``, see ``_signing.py``). For ``--api http``, :class:`HeaderAuth` adds the
API's own header, alone or on top of the Huawei credentials, and :class:`NoAuth` sends nothing.
Which credentials to use is decided in ``_sources.py``; which Auth a run gets, in the plan.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime

from .._http._client import Auth
from .._http._errors import NOTHING_SENT
from ._signing import AkSkCredentials, sign_request, utc_now
from ._sources import ApiAuthHeader

__all__ = ["HeaderAuth", "NoAuth", "SigningAuth", "TokenAuth"]


class TokenAuth:
    """An IAM token, sent as ``X-Auth-Token``. ``source`` says where it came from."""

    signs = False

    def __init__(self, token: str, source: str | None = None) -> None:
        self._token = token
        self.source = source

    def __repr__(self) -> str:
        return f"TokenAuth(token='***', source={self.source!r})"

    def headers(self, method: str, url: str) -> dict[str, str]:
        return {"X-Auth-Token": self._token}


class NoAuth:
    """No credentials at all: ``--api http`` without Huawei credentials or a header of its own."""

    source = NOTHING_SENT
    signs = False

    def __repr__(self) -> str:
        return "NoAuth()"

    def headers(self, method: str, url: str) -> dict[str, str]:
        return {}


class HeaderAuth:
    """The ``--api http`` API's own auth header, added to what ``base`` sends (if anything).

    The plan has made sure the header is not one ``base`` sends itself (``X-Auth-Token``,
    or a signature's ``Authorization``).
    """

    def __init__(self, header: ApiAuthHeader, base: Auth | None = None) -> None:
        self._header = header
        self.base: Auth = base or NoAuth()
        own = f"{header.source} (header {header.name})"
        # A refusal names every credential sent: the API's own header, and the Huawei ones.
        sent = self.base.source if self.base.source != NOTHING_SENT else None
        self.source = f"{own} and {sent}" if sent else own
        self.signs = self.base.signs

    def __repr__(self) -> str:
        return f"HeaderAuth({self._header.name}='***', base={self.base!r})"

    def headers(self, method: str, url: str) -> dict[str, str]:
        headers = self.base.headers(method, url)
        headers[self._header.name] = self._header.value
        return headers


class _Keys:
    """The access key in use, shared by every SigningAuth made from one source.

    Temporary keys are replaced when refreshed; every client then signs with the new ones.
    """

    def __init__(self, keys: AkSkCredentials) -> None:
        self.current = keys


class SigningAuth:
    """Signs each request anew with the current access key (``SDK-HMAC-SHA256``).

    ``project_id`` is sent (and signed) as ``X-Project-Id``, as the SDK does for regional
    services; IAM, which is global, gets none. ``clock`` gives the signing time; tests skew it.
    """

    signs = True

    def __init__(
        self,
        keys: AkSkCredentials,
        *,
        source: str | None = None,
        project_id: str | None = None,
        clock: Callable[[], datetime] = utc_now,
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
        return sign_request(
            method, url, {}, b"", self._keys.current, now=self._clock(), project_id=self.project_id
        )
