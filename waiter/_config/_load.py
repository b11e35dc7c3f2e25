"""Where settings come from: defaults < config file < environment < flags, with provenance.

``layer`` reads the sources, parses each raw value with the settings table, and records for
each setting the one source that won, so that ``--show-config`` can say it and an error can
point at the place to fix. It builds no Settings: ``_settings.load_settings`` does, from this.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .._errors import ConfigError
from ._files import MIB, TooLarge, read_at_most, size_text
from ._regions_file import read_regions_file
from ._secrets import check_secret, key_pair_problem
from ._table import SPECS, SPECS_BY_NAME, Spec, access_key_families, parse_path, shown

__all__ = ["Layers", "as_path", "find_config_file", "layer", "region_variable", "said_as"]

_BY_KEY = {spec.key: spec for spec in SPECS if spec.key}
# Read from the environment a family at a time (_access_keys), not a variable at a time.
_KEY_PAIR = ("access_key", "secret_key", "security_token")
# A config file is a few KiB; one this large is something else.
CONFIG_FILE_LIMIT = 1 * MIB


# The service's name in the SDK's HUAWEICLOUD_SDK_REGION_{SERVICE}_{REGION} variables, per API.
_SDK_SERVICES = {"kps": "KPS", "ecs-job": "ECS"}


@dataclass(frozen=True)
class Layers:
    """Every setting given, parsed, with the place its value came from; and the config file."""

    values: Mapping[str, object]
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
        value = spec.parse(raw)
        return as_path(str(value)) if spec.parse is parse_path else value
    except ValueError as error:
        # A secret's value is never echoed, not even when it is malformed.
        value = "***" if spec.secret else shown(raw)
        raise ConfigError(
            f"{said_as(spec, origin)} must be {error}, got {value}", setting=spec.name
        ) from None


def said_as(spec: Spec, origin: str) -> str:
    """A setting named as the user gave it, for a message that says what to fix: ``--timeout``,
    ``WAITER_TIMEOUT in the environment``, ``poll.timeout in config file ~/waiter.toml``.

    ``origin`` is where its value came from, as :func:`layer` records it.
    """
    kind, _, where = origin.partition(" ")
    if kind == "flag":
        return where
    if kind == "environment":
        return f"{where} in the environment"
    return f"{spec.label} in {origin}"


def as_path(text: str) -> Path:
    """A path setting's value: its text, with ``~`` expanded."""
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~someone/..." where there is no such user, or no home
        raise ValueError("a path whose ~ names a known home folder") from None


def layer(
    *,
    flags: Mapping[str, object] | None = None,
    config_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Layers:
    """Layer config file, environment and flags over one another (the defaults lie beneath).

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
    return Layers(values, sources, config_file)


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
                check_secret(name, str(value), said_as=f"{variable} in the environment")
                found[name] = (value, variable)
        families.append((variables, found))
    chosen = next(
        (family for family in families if {"access_key", "secret_key"} & set(family[1])), None
    )
    if chosen is not None:
        family, found = chosen
        if len({"access_key", "secret_key"} & set(found)) == 1:
            raise _half_pair(family, found, families)
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
    family: tuple[str, str, str],
    found: dict[str, tuple[object, str]],
    families: list[tuple[tuple[str, str, str], dict[str, tuple[object, str]]]],
) -> ConfigError:
    given = {variable for _, variable in found.values()}
    problem = key_pair_problem(family, given, how="set")
    assert problem is not None
    message, setting = problem
    elsewhere = [found[setting][1] for _, found in families if setting in found]
    if elsewhere:
        pairs = " or ".join(f"{ak} with {sk}" for ak, sk, _ in access_key_families())
        message += f" ({elsewhere[0]} is set, but a pair comes from one family: {pairs})"
    return ConfigError(message, setting=setting)


def _stray_security_token(variable: str, chosen: tuple[str, str, str] | None) -> ConfigError:
    if chosen is None:
        family = next(f for f in access_key_families() if variable in f)
        problem = key_pair_problem(family, {variable}, how="set")
        assert problem is not None
        return ConfigError(problem[0], setting="security_token")
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
    region, service = values.get("region"), _SDK_SERVICES.get(str(values.get("api", "kps")))
    if not isinstance(region, str) or service is None:
        return
    variable = region_variable(service, region)
    raw = env.get(variable, "")
    if raw.strip():
        origin = f"environment {variable}"
        endpoints = [item.strip() for item in raw.split(",") if item.strip()]
    else:
        path = _regions_file(env)
        if path is None:
            return
        origin = f"regions file {shown(path, bare=True)}"
        endpoints = read_regions_file(path).get((service, region), [])
        if not endpoints:
            return
    # The SDK's client puts https:// before an endpoint written without a scheme; the list is
    # tried in turn (see _apis/_failover.py). Each is checked as one URL; the setting carries
    # the comma list, which the plan splits only for these two sources.
    spec = SPECS_BY_NAME["endpoint"]
    checked = [_parse(spec, e if "://" in e else f"https://{e}", origin) for e in endpoints]
    values["endpoint"] = ",".join(str(e) for e in checked)
    sources["endpoint"] = origin


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


def _regions_file(env: Mapping[str, str]) -> Path | None:
    """``HUAWEICLOUD_SDK_REGIONS_FILE``, else ``~/.huaweicloud/regions.yaml`` if it exists."""
    given = env.get("HUAWEICLOUD_SDK_REGIONS_FILE", "").strip()
    try:
        path = Path(given).expanduser() if given else Path(env.get("HOME", "~")).expanduser()
        if not given:
            path = path / ".huaweicloud" / "regions.yaml"
        return path if path.is_file() else None
    except (RuntimeError, OSError):  # no home folder, a name too long
        return None


def region_variable(service: str, region: str) -> str:
    """The SDK's per-region endpoint override, e.g. ``HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4``."""
    return f"HUAWEICLOUD_SDK_REGION_{service.upper()}_{region.replace('-', '_').upper()}"
