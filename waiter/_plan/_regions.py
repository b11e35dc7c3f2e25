"""Huawei Cloud regions: which ones serve KPS, and where a region's endpoints live.

The list follows the official SDKs' ``KpsRegion`` tables (KPS shares its host name, ``kms``,
with the key management service). A region missing from it still works, with the usual
endpoint template and a warning: Huawei opens regions faster than any table is updated.
"""

from __future__ import annotations

__all__ = ["KNOWN_REGIONS", "KPS_REGIONS", "default_endpoint", "iam_endpoint"]

KPS_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "cn-east-2",
        "cn-east-3",
        "cn-north-1",
        "cn-north-2",
        "cn-north-4",
        "cn-north-9",
        "cn-south-1",
        "cn-south-2",
        "cn-south-4",
        "cn-southwest-2",
        "eu-west-101",
        "la-north-2",
        "la-south-2",
        "me-east-1",
        "na-mexico-1",
        "sa-brazil-1",
        "tr-west-1",
    }
)

# The regions known to serve each API; another region gets a warning (no list: no check).
KNOWN_REGIONS = {"kps": KPS_REGIONS}

_DEFAULT_DOMAIN = "myhuaweicloud.com"
# Regions run by a separate entity answer under their own domain (the SDKs' tables agree).
_DOMAINS = {"eu-west-101": "myhuaweicloud.eu"}


def default_endpoint(template: str, region: str) -> str:
    """A default ``https://{service}.{region}.myhuaweicloud.com`` template filled for a region."""
    url = template.replace("{region}", region)
    domain = _DOMAINS.get(region)
    if domain is not None:
        url = url.replace(f".{_DEFAULT_DOMAIN}", f".{domain}")
    return url


def iam_endpoint(region: str) -> str:
    """The region's own IAM endpoint, which lists the projects of that region."""
    return default_endpoint("https://iam.{region}.myhuaweicloud.com", region)
