"""``--show-config``: the effective settings as TOML, each with where it came from.

Secrets are never shown, only where they came from; the credentials line says which source a
run would use, as the plan would choose it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from .._apis._kinds import API_KINDS
from .._auth._sources import credentials_for, find_api_auth
from .._config._settings import Loaded, Settings
from .._config._table import SPECS, Spec, format_duration, shown
from .._errors import ConfigError
from .._plan._regions import (
    IAM_ENDPOINTS,
    KNOWN_REGIONS,
    STS_ENDPOINTS,
    default_endpoint,
    iam_endpoint_for,
    sts_endpoint_for,
)

__all__ = ["render_toml"]


def _toml_value(value: object, spec: Spec | None = None) -> str:
    """``value`` as TOML that the config file reads back to the same setting; a time as a
    duration string (``"30m"``), as a person would write it."""
    if spec is not None and spec.is_duration and isinstance(value, int | float):
        return json.dumps(format_duration(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value))


def render_toml(loaded: Loaded) -> str:
    """The effective settings as TOML, each with where it came from; secrets as ``"***"``."""
    lines = ["# effective waiter settings"]
    if loaded.config_file:
        lines.append(f"# config file: {shown(loaded.config_file, bare=True)}")
    section = None
    for spec in SPECS:
        if spec.key is None:
            continue
        table, key = spec.key.split(".")
        if table != section:
            section = table
            lines += ["", f"[{table}]"]
        value = getattr(loaded.settings, spec.name)
        resolved = _resolved_endpoint(loaded.settings, spec.name) if value is None else None
        if resolved is not None:
            url, origin = resolved
            lines.append(f"# {key} is not set: {_comment(url)} ({_comment(origin)}); "
                         f"{spec.how_to_set()}")  # fmt: skip
        elif value is None:
            lines.append(f"# {key} is not set: {spec.help}; {spec.how_to_set()}")
        else:
            value, source = _effective(loaded, spec.name, value)
            lines.append(f"{key} = {_toml_value(value, spec)}  # {_comment(source)}")
    lines += ["", "# credentials (never shown)"]
    for spec in SPECS:
        if spec.secret and getattr(loaded.settings, spec.name) is not None:
            source = _comment(loaded.sources.get(spec.name, "code"))
            lines.append(f'# {spec.name} = "***"  # {source}')
    lines.append(f"# credentials: {_comment(_credentials_in_use(loaded.settings))}")
    if loaded.settings.api == "http":
        lines.append(f"# api auth: {_comment(_api_auth_in_use(loaded.settings))}")
    return "\n".join(lines) + "\n"


# Where the SDK's comma lists of endpoints come from (see _plan/_plan._endpoints_for).
_LISTED_SOURCES = ("environment HUAWEICLOUD_SDK_REGION_", "regions file ")


def _effective(loaded: Loaded, name: str, value: object) -> tuple[object, str]:
    """A set value as a run uses it, and where it came from: the SDK's endpoint list as its
    first endpoint (the others named in the comment: a config file takes one URL), the
    profile file's ``iam_endpoint`` over the setting (as the SDK picks it)."""
    source = loaded.sources.get(name, "default")
    if name == "endpoint" and source.startswith(_LISTED_SOURCES) and isinstance(value, str):
        first, *rest = value.split(",")
        if rest:
            return first, f"{source}; then {', '.join(rest)}, tried in turn when unreachable"
    if name == "iam_endpoint":
        profile = _profile_iam_endpoint(loaded.settings)
        if profile is not None:
            return profile, f"the profile file's iam_endpoint, which beats {source}"
    return value, source


def _resolved_endpoint(settings: Settings, name: str) -> tuple[str, str] | None:
    """Where an endpoint left unset resolves to, and from what; None for other settings."""
    region = settings.region
    if name == "endpoint":
        template = API_KINDS[settings.api].default_endpoint
        if template is None:
            return None  # --api http: the URL template says it all
        if region is None:
            return template, "the region's; no region is set"
        if region in KNOWN_REGIONS.get(settings.api, {}):
            return default_endpoint(
                template, region, settings.api
            ), f"the SDK's region table, {region}"
        url = default_endpoint(template, region, settings.api)
        return url, f"the usual template: {region} is not in the SDK's table"
    if name == "iam_endpoint":
        profile = _profile_iam_endpoint(settings)
        if profile is not None:
            return profile, "the profile file's iam_endpoint"
        return iam_endpoint_for(region), _table_origin(region, IAM_ENDPOINTS, "global")
    if name == "sts_endpoint":
        return sts_endpoint_for(region), _table_origin(region, STS_ENDPOINTS, "default")
    return None


def _table_origin(region: str | None, table: Mapping[str, str], other: str) -> str:
    if region is not None and region in table:
        return f"the SDK's region table, {region}"
    why = "no region is set" if region is None else f"{region} is not in the SDK's table"
    return f"the SDK's {other} endpoint: {why}"


def _profile_iam_endpoint(settings: Settings) -> str | None:
    try:
        return credentials_for(settings, warn=False).profile_iam_endpoint
    except ConfigError:
        return None


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
