"""Where settings come from: defaults < config file < environment < flags, with provenance.

``resolve`` layers the sources and remembers, for each setting, which one won, so that
``--show-config`` can say it and an error can point at the place to fix.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .._apis._kinds import API_KINDS
from .._auth._sources import access_key_families, credentials_for, find_api_auth
from .._errors import ConfigError
from .._plan._regions import region_variable
from ._files import MIB, TooLarge, read_at_most, size_text
from ._settings import Settings, check_secret
from ._table import SPECS, SPECS_BY_NAME, Spec, shown

__all__ = ["Resolved", "find_config_file", "render_toml", "resolve"]

_BY_KEY = {spec.key: spec for spec in SPECS if spec.key}
# Read from the environment a family at a time (_access_keys), not a variable at a time.
_KEY_PAIR = ("access_key", "secret_key", "security_token")
# A config file is a few KiB; one this large is something else.
CONFIG_FILE_LIMIT = 1 * MIB


@dataclass(frozen=True)
class Resolved:
    """The settings, and for each setting the place its value came from."""

    settings: Settings
    sources: Mapping[str, str]
    config_file: Path | None


def find_config_file(config_path: str | Path | None, env: Mapping[str, str]) -> Path | None:
    """``--config``, else ``$WAITER_CONFIG``, else the XDG file if it exists."""
    if config_path is not None:
        return _existing(config_path, "--config")
    if env.get("WAITER_CONFIG"):
        return _existing(env["WAITER_CONFIG"], "WAITER_CONFIG")
    xdg = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")) / ".config")
    try:
        default = Path(xdg).expanduser() / "waiter" / "config.toml"
        return default if default.is_file() else None
    except (RuntimeError, OSError):  # no home folder to expand ~ to, or a name too long
        return None


def _existing(given: str | Path, given_by: str) -> Path:
    where = f"config file {shown(given, bare=True)} (given by {given_by})"
    try:
        path = Path(given).expanduser()
        if path.is_file():
            return path
        problem = "is not a file" if path.exists() else "does not exist"
    except RuntimeError:  # "~someone/..." with no such user
        problem = "names the home folder of an unknown user"
    except (OSError, ValueError) as error:  # a name too long, a NUL
        problem = f"cannot be looked at ({getattr(error, 'strerror', None) or error})"
    raise ConfigError(f"{where} {problem}; fix the path")


def read_config_file(path: Path) -> dict[str, object]:
    """The file's raw values by setting name; unknown keys and non-TOML are errors."""
    where = f"config file {shown(path, bare=True)}"
    try:
        document = tomllib.loads(read_at_most(path, CONFIG_FILE_LIMIT).decode("utf-8"))
    except TooLarge as error:
        raise ConfigError(
            f"{where} is larger than {size_text(error.limit)}: not a config file; point --config "
            "elsewhere"
        ) from None
    except OSError as error:
        raise ConfigError(f"{where} cannot be read: {error.strerror or error}") from None
    except (ValueError, RecursionError) as error:
        raise ConfigError(
            f"{where} is not valid TOML ({_toml_problem(error)}); fix it or point --config "
            "elsewhere"
        ) from None
    values: dict[str, object] = {}
    sections = {key.split(".")[0] for key in _BY_KEY}
    for section, table in document.items():
        if not isinstance(table, dict):
            raise _unknown_key(section, path)
        if not table and section not in sections:
            raise _unknown_key(f"[{section}]", path)
        for name, raw in table.items():
            spec = _BY_KEY.get(f"{section}.{name}")
            if spec is None:
                raise _unknown_key(f"{section}.{name}", path)
            values[spec.name] = raw
    return values


def _toml_problem(error: ValueError | RecursionError) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if isinstance(error, UnicodeDecodeError):
        # TOML is UTF-8: a file in another encoding (or a binary file) is not TOML either.
        return "not UTF-8 text"
    if isinstance(error, tomllib.TOMLDecodeError):
        return shown(str(error), bare=True)
    # tomllib lets int()'s own errors through: a number of more than 4300 digits.
    return "a number too long to read"


def _unknown_key(key: str, path: Path) -> ConfigError:
    close = difflib.get_close_matches(key, list(_BY_KEY), n=1) if len(key) <= 100 else []
    hint = f"did you mean {close[0]}?" if close else "config.example.toml lists every key"
    return ConfigError(f"unknown config key {shown(key)} in {shown(path, bare=True)}; {hint}")


def _parse(spec: Spec, raw: object, origin: str) -> object:
    try:
        return spec.parse(raw)
    except ValueError as error:
        # A secret's value is never echoed, not even when it is malformed.
        value = "***" if spec.secret else shown(raw)
        raise ConfigError(
            f"{origin}: {spec.label} must be {error}, got {value}", setting=spec.name
        ) from None


def resolve(
    *,
    flags: Mapping[str, object] | None = None,
    config_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Resolved:
    """Layer defaults, config file, environment and flags into checked :class:`Settings`.

    ``flags`` maps setting names to raw flag values (only the flags that were given).
    """
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    sources: dict[str, str] = {}

    config_file = find_config_file(config_path, env)
    if config_file is not None:
        origin = f"config file {shown(config_file, bare=True)}"
        for name, raw in read_config_file(config_file).items():
            spec = SPECS_BY_NAME[name]
            values[name] = _parse(spec, raw, origin)
            sources[name] = origin

    for spec in SPECS:
        if spec.name in _KEY_PAIR:
            continue
        for variable in spec.env:
            raw = env.get(variable, "")
            if raw.strip():
                values[spec.name] = _parse(spec, raw, f"environment {variable}")
                sources[spec.name] = f"environment {variable}"
                break

    for name, raw in (flags or {}).items():
        spec = SPECS_BY_NAME[name]
        values[name] = _parse(spec, raw, f"flag {spec.flag}")
        sources[name] = f"flag {spec.flag}"

    _access_keys(env, values, sources)
    _one_source("token", "token_file", values, sources)
    _one_source("api_auth", "api_auth_file", values, sources)
    _region_endpoint(env, values, sources)
    try:
        settings = Settings(**values)  # type: ignore[arg-type]
    except ConfigError as error:
        source = sources.get(error.setting or "")
        if source:
            raise ConfigError(
                f"{error} (the value came from {source})", setting=error.setting
            ) from None
        raise
    # Remembered on the settings, so that messages can say which source a value came from.
    object.__setattr__(settings, "_sources", dict(sources))
    return Resolved(settings, sources, config_file)


def _access_keys(
    env: Mapping[str, str], values: dict[str, object], sources: dict[str, str]
) -> None:
    """AK, SK and security token from the first family of variables that has a key.

    The families are HUAWEICLOUD_SDK_* (the SDK's) then HW_* (Terraform's). Mixing them is
    refused, not guessed at: a secret key from one family does not sign for another's key.
    """
    families = []
    for variables in access_key_families():
        found: dict[str, tuple[object, str]] = {}
        for name, variable in zip(_KEY_PAIR, variables, strict=True):
            raw = env.get(variable, "")
            if raw.strip():
                value = _parse(SPECS_BY_NAME[name], raw, f"environment {variable}")
                try:
                    check_secret(name, str(value))
                except ConfigError as error:
                    raise ConfigError(
                        f"{error} (the value came from environment {variable})", setting=name
                    ) from None
                found[name] = (value, variable)
        families.append((variables, found))
    chosen = next(
        (family for family in families if {"access_key", "secret_key"} & set(family[1])), None
    )
    if chosen is not None:
        (ak_variable, sk_variable, _), found = chosen
        if len({"access_key", "secret_key"} & set(found)) == 1:
            raise _half_pair(ak_variable, sk_variable, "access_key" in found, families)
        for name, (value, variable) in found.items():
            values[name], sources[name] = value, f"environment {variable}"
    # A lower family with its own pair is just a lower layer; a security token on its own
    # would have to go with some other family's pair, which it does not belong to.
    strays = [
        found["security_token"][1] for _, found in families if set(found) == {"security_token"}
    ]
    if strays and (chosen is None or "security_token" not in chosen[1]):
        raise _stray_security_token(strays[0], chosen[0] if chosen else None)


def _half_pair(
    ak_variable: str,
    sk_variable: str,
    has_ak: bool,
    families: list[tuple[tuple[str, str, str], dict[str, tuple[object, str]]]],
) -> ConfigError:
    given, missing = (ak_variable, sk_variable) if has_ak else (sk_variable, ak_variable)
    name = "secret_key" if has_ak else "access_key"
    elsewhere = [found[name][1] for _, found in families if name in found]
    hint = ""
    if elsewhere:
        pairs = " or ".join(f"{ak} with {sk}" for ak, sk, _ in access_key_families())
        hint = f" ({elsewhere[0]} is set, but a pair comes from one family: {pairs})"
    return ConfigError(
        f"{given} is set but {missing} is not: an access key needs its secret key; set both "
        f"{ak_variable} and {sk_variable}, or neither{hint}",
        setting="secret_key" if has_ak else "access_key",
    )


def _stray_security_token(variable: str, chosen: tuple[str, str, str] | None) -> ConfigError:
    if chosen is None:
        ak, sk, _ = next(f for f in access_key_families() if variable in f)
        return ConfigError(
            f"{variable} is set without {ak} and {sk}: a security token belongs to a temporary "
            "key pair; set all three, or unset it",
            setting="security_token",
        )
    ak, sk, token = chosen
    return ConfigError(
        f"{variable} is set, but the key pair comes from {ak} and {sk}: a security token "
        f"belongs with its own pair; set {token} instead, or unset {variable}",
        setting="security_token",
    )


def _region_endpoint(
    env: Mapping[str, str], values: dict[str, object], sources: dict[str, str]
) -> None:
    """The SDK's per-region endpoint (HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4=https://...).

    An environment variable, so it beats kps.endpoint in the config file; --endpoint and
    WAITER_ENDPOINT, which name waiter's own endpoint, beat it.
    """
    if sources.get("endpoint", "").startswith(("flag", "environment")):
        return
    region, kind = values.get("region"), API_KINDS.get(str(values.get("api", "kps")))
    if not isinstance(region, str) or kind is None or kind.sdk_service is None:
        return
    variable = region_variable(kind.sdk_service, region)
    raw = env.get(variable, "")
    if raw.strip():
        # The SDK takes a comma-separated list and tries each; one endpoint is enough here.
        first = raw.split(",")[0]
        values["endpoint"] = _parse(SPECS_BY_NAME["endpoint"], first, f"environment {variable}")
        sources["endpoint"] = f"environment {variable}"


_LAYERS = ("config file", "environment", "flag")


def _one_source(value: str, file: str, values: dict[str, object], sources: dict[str, str]) -> None:
    """A secret and the file holding it are one setting: the higher layer wins outright.

    ``--token-file`` beats a token in the environment, which beats ``auth.token_file``; the
    same for ``--api-auth-file``, ``WAITER_API_AUTH`` and ``api.auth_file``. Both in the
    environment (``WAITER_API_AUTH`` and ``WAITER_API_AUTH_FILE``) is a question, not a choice.
    """
    if value not in values or file not in values:
        return
    value_layer, file_layer = (
        next(i for i, layer in enumerate(_LAYERS) if sources[name].startswith(layer))
        for name in (value, file)
    )
    if value_layer == file_layer:
        raise ConfigError(
            f"both {sources[value]} and {sources[file]} are set: they are two ways to give "
            "one secret; unset one of them",
            setting=value,
        )
    loser = value if file_layer > value_layer else file
    del values[loser], sources[loser]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value))


def render_toml(resolved: Resolved) -> str:
    """The effective settings as TOML, each with where it came from; secrets as ``"***"``."""
    lines = ["# effective waiter settings"]
    if resolved.config_file:
        lines.append(f"# config file: {shown(resolved.config_file, bare=True)}")
    section = None
    for spec in SPECS:
        if spec.key is None:
            continue
        table, key = spec.key.split(".")
        if table != section:
            section = table
            lines += ["", f"[{table}]"]
        value = getattr(resolved.settings, spec.name)
        if value is None:
            lines.append(f"# {key} is not set: {spec.help}; {spec.how_to_set()}")
        else:
            source = _comment(resolved.sources.get(spec.name, "default"))
            lines.append(f"{key} = {_toml_value(value)}  # {source}")
    lines += ["", "# credentials (never shown)"]
    for spec in SPECS:
        if spec.secret and getattr(resolved.settings, spec.name) is not None:
            source = _comment(resolved.sources.get(spec.name, "code"))
            lines.append(f'# {spec.name} = "***"  # {source}')
    lines.append(f"# credentials: {_comment(_credentials_in_use(resolved.settings))}")
    if resolved.settings.api == "http":
        lines.append(f"# api auth: {_comment(_api_auth_in_use(resolved.settings))}")
    return "\n".join(lines) + "\n"


def _comment(text: str) -> str:
    """Text safe in a TOML comment on stdout: one line, printable (no lone surrogates)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _credentials_in_use(settings: Settings) -> str:
    """Which credentials a run would use, and from where; never a secret."""
    try:
        return credentials_for(settings, warn=False).describe()
    except ConfigError as error:
        return f"none usable: {error}"


def _api_auth_in_use(settings: Settings) -> str:
    """The ``--api http`` API's own auth header, and where its value comes from; never the value."""
    try:
        header = find_api_auth(settings, warn=False)
    except ConfigError as error:
        return f"none usable: {error}"
    if header is None:
        return "none (set WAITER_API_AUTH or --api-auth-file if the API needs a header)"
    return header.describe()
