"""Credentials: from settings to the headers that authenticate a request."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Protocol

import structlog

from ._errors import ConfigError
from ._settings import Settings, is_header_safe

__all__ = ["Auth", "TokenAuth", "auth_from_settings"]

# Names the variables; holds no secret.
_HOW_TO_GIVE_A_TOKEN = (
    "set WAITER_AUTH_TOKEN (or HW_AUTH_TOKEN, OS_AUTH_TOKEN), or --token-file PATH"  # noqa: S105
)


class Auth(Protocol):
    def headers(self, method: str, url: str) -> dict[str, str]:
        """Headers that authenticate this request; computed anew for each request."""
        ...


class TokenAuth:
    """An IAM token, sent as ``X-Auth-Token``."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(token='***')"

    def headers(self, method: str, url: str) -> dict[str, str]:
        return {"X-Auth-Token": self._token}


def auth_from_settings(settings: Settings) -> Auth:
    """The credentials to use; ConfigError when there are none usable."""
    if settings.token:
        return TokenAuth(settings.token)
    if settings.token_file is not None:
        return TokenAuth(_read_token_file(settings))
    if settings.access_key or settings.secret_key:
        raise ConfigError(
            "found an access key/secret key, but this version of waiter signs no requests and "
            f"needs an IAM token: {_HOW_TO_GIVE_A_TOKEN}",
            setting="token",
        )
    raise ConfigError(f"no credentials: {_HOW_TO_GIVE_A_TOKEN}", setting="token")


def _read_token_file(settings: Settings) -> str:
    path = settings.token_file
    assert path is not None
    try:
        _warn_if_others_can_read(path)
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise ConfigError(
            f"auth.token_file {path} cannot be read ({reason}); fix the path given by "
            "--token-file or auth.token_file",
            setting="token_file",
        ) from None
    if not token:
        raise ConfigError(f"auth.token_file {path} is empty; put the IAM token in it")
    if not is_header_safe(token):
        # Never echo the value: it is a secret.
        raise ConfigError(
            f"auth.token_file {path} holds spaces or control characters inside the token; "
            "put only the token in it",
            setting="token_file",
        )
    return token


_warned: set[Path] = set()


def _warn_if_others_can_read(path: Path) -> None:
    """Warn, as ssh does for keys, when group or others may read the token file."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and path not in _warned:
        _warned.add(path)  # once per file: the settings may be checked more than once
        structlog.get_logger("waiter").warning(
            "token_file_readable_by_others",
            path=str(path),
            mode=f"{mode:04o}",
            fix=f"chmod 600 {path}",
        )
