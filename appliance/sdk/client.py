"""``Client``: every endpoint of the appliance's HTTP API (docs/api.md) as a method.

    from appliance.sdk import Client

    client = Client.from_profile()            # AHOY_URL / AHOY_TOKEN, or `ahoy login`
    client.create_dataset(None, "photos")      # None: the client's workspace
    client.upload_tree(None, "photos", Path("./photos"))
    v = client.commit(None, "photos", "first cut")
    client.pull(None, "photos", v["number"], Path("./restored"))

Errors are raised, never returned: ``ApiError`` (with ``status``, ``code``,
``detail``, ``hint`` and the whole ``problem``), or ``ApiUnavailable`` when nothing
answers at the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance.progress import Progress
from appliance.sdk import profile as profiles
from appliance.sdk.annotate import AnnotateApi
from appliance.sdk.events import EventsApi
from appliance.sdk.identity import IdentityApi
from appliance.sdk.jobs import JobsApi
from appliance.sdk.models import ModelsApi
from appliance.sdk.pull import pull as _pull
from appliance.sdk.queue import QueueApi
from appliance.sdk.script import ScriptTrainingApi
from appliance.sdk.training import TrainingApi
from appliance.sdk.transport import DEFAULT_TIMEOUT
from appliance.sdk.types import PullReport, UploadReport
from appliance.sdk.upload import upload_tree as _upload_tree


class Client(
    IdentityApi,
    JobsApi,
    EventsApi,
    AnnotateApi,
    QueueApi,
    ModelsApi,
    TrainingApi,
    ScriptTrainingApi,
):
    """A keep-alive connection to one appliance, acting with one token.

    Workspace-scoped methods take the workspace first; ``None`` means
    ``self.workspace`` (from the profile, ``AHOY_WORKSPACE`` or ``"default"``).
    """

    @classmethod
    def from_profile(
        cls,
        name: str | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        workspace: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Client:
        """A client from explicit values, else ``AHOY_URL`` / ``AHOY_TOKEN`` /
        ``AHOY_WORKSPACE``, else the named (or current) profile of ``profiles.json``
        in ``AHOY_CONFIG_DIR`` (default: the per-user app dir), else defaults."""
        r = profiles.resolve(name, url=url, token=token, workspace=workspace)
        client = cls(r.url, r.token, timeout=timeout, workspace=r.workspace)
        client.profile = r.profile
        return client

    profile: profiles.Profile | None = None

    def upload_tree(
        self,
        ws: str | None,
        dataset: str,
        root: Path,
        *,
        prefix: str = "",
        exclude: Sequence[str] = (),
        mirror: bool = False,
        progress: Progress | None = None,
        workers: int = 0,
        stat_cache: Path | None = None,
        labels: bool = False,
    ) -> UploadReport:
        """Hash ``root`` locally, send only the blobs the appliance lacks, stage all
        names in one transaction; ``labels``: ``root`` is a pull, attach the label
        documents it wrote. See ``appliance.sdk.upload.upload_tree``."""
        return _upload_tree(
            self,
            ws,
            dataset,
            root,
            prefix=prefix,
            exclude=exclude,
            mirror=mirror,
            progress=progress,
            workers=workers,
            stat_cache=stat_cache,
            labels=labels,
        )

    def pull(
        self,
        ws: str | None,
        dataset: str,
        ref: str | int,
        dest: Path,
        *,
        split: str | None = None,
        layout: str = "tree",
        manifest_out: Path | None = None,
        force: bool = False,
        bare: bool = False,
        progress: Progress | None = None,
    ) -> PullReport:
        """Rebuild a version under ``dest`` (its files, and in ``dest/.ahoy/`` its
        manifest and label documents unless ``bare``), verifying every file against
        the manifest. See ``appliance.sdk.pull.pull``."""
        return _pull(
            self,
            ws,
            dataset,
            ref,
            dest,
            split=split,
            layout=layout,
            manifest_out=manifest_out,
            force=force,
            bare=bare,
            progress=progress,
        )
