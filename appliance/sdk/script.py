"""Script mode from the SDK: your own training script, run sandboxed on the appliance.

run = client.train_script("shapes", Path("train.py"), requirements=Path("requirements.txt"))
for m in run.metrics():      # the script's @ahoy epoch lines, live
    print(m)
run.wait(); print(run.model())
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from appliance.sdk.data import DataApi
from appliance.sdk.training import Run
from appliance.sdk.types import Job

GIB = 1 << 30


class ScriptTrainingApi(DataApi):
    def train_script(
        self,
        dataset: str,
        script: Path | str,
        *,
        requirements: Path | str | None = None,
        name: str | None = None,
        task: str = "detect",
        version: str = "latest",
        cpu_cores: int = 1,
        ram_bytes: int = 4 * GIB,
        timeout_s: float = 3600.0,
        params: dict[str, Any] | None = None,
        ws: str | None = None,
    ) -> Run:
        """Upload ``script`` (and ``requirements``, a requirements.txt) and run it in
        the appliance's sandbox on a dataset version (pinned when asked): no network,
        the data read-only at /data, writes only to /out, within ``cpu_cores``,
        ``ram_bytes`` and ``timeout_s``. It must leave /out/weights.pt and
        /out/metrics.json (docs/training.md, "Script mode"); ``params`` reach it as
        /job/params.json. Refused at once, with why, if a requirement is not met by
        what the appliance has installed or the box cannot make the sandbox."""
        body: dict[str, Any] = {
            "dataset": dataset,
            "version": version,
            "script": self._upload_file(ws, Path(script)),
            "task": task,
            "cpu_cores": cpu_cores,
            "ram_bytes": ram_bytes,
            "timeout_s": timeout_s,
            "params": params or {},
        }
        if requirements is not None:
            body["requirements"] = self._upload_file(ws, Path(requirements))
        if name:
            body["name"] = name
        job: Job = self._json(
            "POST", self._ws(ws, "jobs"), json={"kind": "train-script", "params": body}
        )
        return Run(self, job["id"], ws)  # type: ignore[arg-type]

    def _upload_file(self, ws: str | None, path: Path) -> str:
        """``PUT /blobs/{sha256}`` (skipped when the appliance has it); its sha256."""
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if self.missing_blobs(ws, [sha]):
            self.put_blob(ws, sha, data)
        return sha
