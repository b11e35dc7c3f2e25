"""What a secret may be: it travels in a header, so only what a header can carry.

Every secret waiter reads (a token, a key pair, a header value; from code, the environment,
a file or the metadata service) is checked here, and no message ever echoes one.
"""

from __future__ import annotations

from .._errors import ConfigError

__all__ = [
    "check_header_value",
    "check_secret",
    "is_header_safe",
    "is_header_value_safe",
    "key_pair_problem",
]


def is_header_safe(value: str) -> bool:
    """Printable ASCII without spaces: a token or a key, as a header carries it."""
    return bool(value) and all(33 <= ord(ch) < 127 for ch in value)


def is_header_value_safe(value: str) -> bool:
    """Printable ASCII, inner spaces allowed ("Bearer abc123"), nothing to strip at the ends."""
    return bool(value) and value == value.strip() and all(32 <= ord(ch) < 127 for ch in value)


def check_header_value(name: str, value: str | None, *, said_as: str | None = None) -> None:
    """A whole header value (scheme and credentials): refuse what cannot be one, unechoed.

    ``said_as`` names it as the user gave it (``WAITER_API_AUTH in the environment``).
    """
    if value is not None and not is_header_value_safe(value):
        raise ConfigError(
            f"{said_as or name} contains control or non-ASCII characters, or is empty; check "
            "how it was copied",
            setting=name,
        )


def check_secret(name: str, value: str | None, *, said_as: str | None = None) -> None:
    """A secret goes into a header: refuse what cannot be one, without ever echoing it.

    ``said_as`` names it as the user gave it (``HUAWEICLOUD_SDK_SK in the environment``).
    """
    if value is not None and not is_header_safe(value):
        raise ConfigError(
            f"{said_as or name} contains spaces or control characters; check how it was copied",
            setting=name,
        )


def key_pair_problem(
    names: tuple[str, str, str], given: set[str], *, how: str = "given"
) -> tuple[str, str] | None:
    """What is wrong with a key pair of which ``given`` are present, or None; and the setting.

    ``names`` are the access key's, secret key's and security token's names where they were
    given (settings fields, or one family of environment variables); ``how`` says how
    ("given", "set"). An access key needs its secret key, and a security token both.
    """
    access_key, secret_key, security_token = names
    if (access_key in given) != (secret_key in given):
        has, missing = (access_key, secret_key) if access_key in given else (secret_key, access_key)
        return (
            f"{has} is {how} but {missing} is not: an access key needs its secret key; "
            f"{'set' if how == 'set' else 'give'} both {access_key} and {secret_key}, or neither",
            "secret_key" if missing == secret_key else "access_key",
        )
    if security_token in given and access_key not in given:
        return (
            f"{security_token} is {how} without {access_key} and {secret_key}: a security token "
            f"belongs to a temporary key pair; {'set' if how == 'set' else 'give'} all three, "
            f"or {'unset it' if how == 'set' else 'none'}",
            "security_token",
        )
    return None
