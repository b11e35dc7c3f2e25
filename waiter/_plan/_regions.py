"""Huawei Cloud regions: where KPS, IAM and STS answer for each, as the official SDK has it.

The tables are huaweicloudsdkkps 3.1.219's ``KpsRegion`` (KPS shares its host name, ``kms``,
with the key management service) and huaweicloudsdkcore 3.1.219's IAM and STS endpoint tables;
``tests/plan/test_regions.py`` compares them with the SDK's own, so drift is caught. A region
missing from the KPS table still works, with the usual endpoint template and a warning: Huawei
opens regions faster than any table is updated.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_STS_ENDPOINT",
    "GLOBAL_IAM_ENDPOINT",
    "IAM_ENDPOINTS",
    "KNOWN_REGIONS",
    "KPS_ENDPOINTS",
    "STS_ENDPOINTS",
    "default_endpoint",
    "iam_endpoint_for",
    "sts_endpoint_for",
]

# The SDK's answers for a region it has no IAM or STS entry for.
GLOBAL_IAM_ENDPOINT = "https://iam.myhuaweicloud.com"
DEFAULT_STS_ENDPOINT = "https://sts.cn-north-4.myhuaweicloud.com"

KPS_ENDPOINTS = {
    "af-north-1": "https://kms.af-north-1.myhuaweicloud.com",
    "af-south-1": "https://kms.af-south-1.myhuaweicloud.com",
    "ap-southeast-1": "https://kms.ap-southeast-1.myhuaweicloud.com",
    "ap-southeast-2": "https://kms.ap-southeast-2.myhuaweicloud.com",
    "ap-southeast-3": "https://kms.ap-southeast-3.myhuaweicloud.com",
    "ap-southeast-4": "https://kms.ap-southeast-4.myhuaweicloud.com",
    "ap-southeast-5": "https://kms.ap-southeast-5.myhuaweicloud.com",
    "cn-east-2": "https://kms.cn-east-2.myhuaweicloud.com",
    "cn-east-3": "https://kms.cn-east-3.myhuaweicloud.com",
    "cn-east-4": "https://kms.cn-east-4.myhuaweicloud.com",
    "cn-east-5": "https://kms.cn-east-5.myhuaweicloud.com",
    "cn-north-1": "https://kms.cn-north-1.myhuaweicloud.com",
    "cn-north-11": "https://kms.cn-north-11.myhuaweicloud.com",
    "cn-north-12": "https://kms.cn-north-12.myhuaweicloud.com",
    "cn-north-2": "https://kms.cn-north-2.myhuaweicloud.com",
    "cn-north-4": "https://kms.cn-north-4.myhuaweicloud.com",
    "cn-north-9": "https://kms.cn-north-9.myhuaweicloud.com",
    "cn-south-1": "https://kms.cn-south-1.myhuaweicloud.com",
    "cn-south-2": "https://kms.cn-south-2.myhuaweicloud.com",
    "cn-south-4": "https://kms.cn-south-4.myhuaweicloud.com",
    "cn-southwest-2": "https://kms.cn-southwest-2.myhuaweicloud.com",
    "cn-southwest-3": "https://kms.cn-southwest-3.myhuaweicloud.com",
    "la-north-2": "https://kms.la-north-2.myhuaweicloud.com",
    "la-south-2": "https://kms.la-south-2.myhuaweicloud.com",
    "me-east-1": "https://kms.me-east-1.myhuaweicloud.com",
    "my-kualalumpur-1": "https://kms.my-kualalumpur-1.myhuaweicloud.com",
    "na-mexico-1": "https://kms.na-mexico-1.myhuaweicloud.com",
    "ru-moscow-1": "https://kms.ru-moscow-1.myhuaweicloud.com",
    "sa-brazil-1": "https://kms.sa-brazil-1.myhuaweicloud.com",
    "tr-west-1": "https://kms.tr-west-1.myhuaweicloud.com",
}

IAM_ENDPOINTS = {
    "ae-ad-1": "https://iam.ae-ad-1.myhuaweicloud.com",
    "af-south-1": "https://iam.af-south-1.myhuaweicloud.com",
    "ap-southeast-1": "https://iam.ap-southeast-1.myhuaweicloud.com",
    "ap-southeast-2": "https://iam.ap-southeast-2.myhuaweicloud.com",
    "ap-southeast-3": "https://iam.ap-southeast-3.myhuaweicloud.com",
    "ap-southeast-4": "https://iam.ap-southeast-4.myhuaweicloud.com",
    "cn-east-2": "https://iam.cn-east-2.myhuaweicloud.com",
    "cn-east-3": "https://iam.cn-east-3.myhuaweicloud.com",
    "cn-east-4": "https://iam.cn-east-4.myhuaweicloud.com",
    "cn-east-5": "https://iam.cn-east-5.myhuaweicloud.com",
    "cn-north-1": "https://iam.cn-north-1.myhuaweicloud.com",
    "cn-north-12": "https://iam.cn-north-12.myhuaweicloud.com",
    "cn-north-2": "https://iam.cn-north-2.myhuaweicloud.com",
    "cn-north-4": "https://iam.cn-north-4.myhuaweicloud.com",
    "cn-north-9": "https://iam.cn-north-9.myhuaweicloud.com",
    "cn-south-1": "https://iam.cn-south-1.myhuaweicloud.com",
    "cn-south-2": "https://iam.cn-south-2.myhuaweicloud.com",
    "cn-southwest-2": "https://iam.cn-southwest-2.myhuaweicloud.com",
    "eu-west-0": "https://iam.eu-west-0.myhuaweicloud.com",
    "la-north-2": "https://iam.la-north-2.myhuaweicloud.com",
    "la-south-2": "https://iam.la-south-2.myhuaweicloud.com",
    "me-east-1": "https://iam.me-east-1.myhuaweicloud.com",
    "my-kualalumpur-1": "https://iam.my-kualalumpur-1.myhuaweicloud.com",
    "na-mexico-1": "https://iam.na-mexico-1.myhuaweicloud.com",
    "ru-moscow-1": "https://iam.ru-moscow-1.myhuaweicloud.com",
    "sa-brazil-1": "https://iam.sa-brazil-1.myhuaweicloud.com",
    "tr-west-1": "https://iam.tr-west-1.myhuaweicloud.com",
}

STS_ENDPOINTS = {
    "af-south-1": "https://sts.af-south-1.myhuaweicloud.com",
    "ap-southeast-1": "https://sts.ap-southeast-1.myhuaweicloud.com",
    "ap-southeast-2": "https://sts.ap-southeast-2.myhuaweicloud.com",
    "ap-southeast-3": "https://sts.ap-southeast-3.myhuaweicloud.com",
    "ap-southeast-4": "https://sts.ap-southeast-4.myhuaweicloud.com",
    "cn-east-3": "https://sts.cn-east-3.myhuaweicloud.com",
    "cn-north-4": "https://sts.cn-north-4.myhuaweicloud.com",
    "cn-south-1": "https://sts.cn-south-1.myhuaweicloud.com",
    "cn-southwest-2": "https://sts.cn-southwest-2.myhuaweicloud.com",
    "la-south-2": "https://sts.la-south-2.myhuaweicloud.com",
    "sa-brazil-1": "https://sts.sa-brazil-1.myhuaweicloud.com",
    "tr-west-1": "https://sts.tr-west-1.myhuaweicloud.com",
}

# The regions known to serve each API, and their endpoints (no table: no check).
KNOWN_REGIONS = {"kps": KPS_ENDPOINTS}


def default_endpoint(template: str, region: str, api: str = "kps") -> str:
    """The region's endpoint of ``api`` from the SDK's table, else the template filled in."""
    known = KNOWN_REGIONS.get(api, {}).get(region)
    return known or template.replace("{region}", region)


def iam_endpoint_for(region: str | None) -> str:
    """IAM for ``region`` as the SDK picks it: its table, else the global endpoint."""
    return IAM_ENDPOINTS.get(region or "", GLOBAL_IAM_ENDPOINT)


def sts_endpoint_for(region: str | None) -> str:
    """STS for ``region`` as the SDK picks it: its table, else its default (cn-north-4)."""
    return STS_ENDPOINTS.get(region or "", DEFAULT_STS_ENDPOINT)
