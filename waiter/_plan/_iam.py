"""The project ID, looked up from IAM when AK/SK come without one (as the official SDK does).

``GET /v3/projects?name={region}``, signed, on the region's IAM endpoint, answers the projects
of that name the key's account can see: ``{"projects": [{"id": "...", "name": "cn-north-4"}]}``.
Done once, when a Waiter starts.
"""

from __future__ import annotations

from urllib.parse import quote

import aiohttp

from .._auth._headers import SigningAuth
from .._config._table import SPECS_BY_NAME
from .._errors import ApiError, ConfigError
from .._event_log import EventLog
from .._http._client import get_json, proxy_for, retry_transient
from .._http._errors import clip
from ._plan import ProjectLookup

__all__ = ["look_up_project_id"]


async def look_up_project_id(
    session: aiohttp.ClientSession,
    lookup: ProjectLookup,
    auth: SigningAuth,
    *,
    logger: EventLog,
) -> str:
    """The ID of the project named after the region; ConfigError when there is not exactly one."""
    region, endpoint, how = lookup.region, lookup.iam_endpoint, lookup.how_to_give
    url = f"{endpoint}/v3/projects?name={quote(region, safe='')}"
    where = f"IAM at {endpoint}"
    try:
        document = await retry_transient(
            lambda: get_json(session, url, auth, proxy=proxy_for(endpoint))
        )
    except ApiError as error:
        raise ConfigError(
            f"the project ID of region {region} could not be looked up from {where}: {error}; "
            f"or {how} and no lookup is made",
            setting="project_id",
        ) from None
    projects = document.get("projects")
    found = [
        project["id"]
        for project in (projects if isinstance(projects, list) else [])
        if isinstance(project, dict)
        and project.get("name") == region
        and isinstance(project.get("id"), str)
    ]
    if not found:
        raise ConfigError(
            f"{where} lists no project named {region} for the credentials from {auth.source}: "
            f"check the region, or {how}",
            setting="project_id",
        )
    if len(found) > 1:
        raise ConfigError(
            f"{where} lists {len(found)} projects named {region} "
            f"({clip(', '.join(found), 300)}): "
            f"choose one ({how})",
            setting="project_id",
        )
    project_id: str = found[0]
    check = SPECS_BY_NAME["project_id"].check
    problem = check(project_id) if check else None
    if problem:
        raise ConfigError(f"{where} answered a project ID that {problem}", setting="project_id")
    logger.info("project_discovered", project_id=project_id, region=region, iam_endpoint=endpoint)
    return project_id
