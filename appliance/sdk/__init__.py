"""The Python SDK of the AHOY Perception HTTP API (``/v1``, see docs/api.md)."""

from appliance.domain.split import SplitConfig
from appliance.sdk.client import Client
from appliance.sdk.errors import ApiError, ApiTimeout, ApiUnavailable, TransferError
from appliance.sdk.profile import Profile, ProfileStore
from appliance.sdk.training import Run
from appliance.sdk.types import Job, PullReport, UploadReport, Version

__all__ = [
    "ApiError",
    "ApiTimeout",
    "ApiUnavailable",
    "Client",
    "Job",
    "Profile",
    "ProfileStore",
    "PullReport",
    "Run",
    "SplitConfig",
    "TransferError",
    "UploadReport",
    "Version",
]
