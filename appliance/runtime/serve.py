"""`ahoy serve`: start the children, watch them, stop them all cleanly.

The appliance is never half alive: a child that dies is restarted (weed up to
``weed_max_restarts`` times, the job worker up to ``worker_max_restarts``), and if
it cannot be, everything stops with a clear message and a non-zero exit. At start
the scheduler fails the jobs the last stop cut off and keeps the queued ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import signal
import time
from collections.abc import Coroutine, Generator
from pathlib import Path
from typing import Any

import uvicorn

from appliance import data_dir
from appliance.bootstrap import WEED_STATE, open_services
from appliance.errors import ServiceFailed
from appliance.jobs.kinds import registry
from appliance.runtime.anchoring import anchor_audit
from appliance.runtime.governor import start_governor
from appliance.runtime.http_limits import server_options
from appliance.services import accounts
from appliance.services.context import ServiceContext
from appliance.services.webhooks import WebhookDispatcher
from appliance.settings import Settings
from appliance.training.offline import apply_offline_env
from appliance.web.app import create_app
from appliance.web.edge import Edge

log = logging.getLogger("ahoy.serve")
#: seconds between passes that take group/other access off weed's new files
WEED_FILES_EVERY = 5


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the supervisor owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.weed: Any = None
        self.restarts = 0
        self.started_at = time.time()
        self.stopping = asyncio.Event()
        self.failure: str | None = None
        self.weed_state = "not used"

    # -- children -------------------------------------------------------------
    def start_weed(self) -> None:
        from appliance.adapters.seaweed.process import WeedServer

        self.weed_state = "starting"
        weed = WeedServer(self.settings.weed_dir, self.settings.log_dir)
        self.weed = weed
        weed.start(timeout=self.settings.weed_start_timeout)
        state = self.settings.run_dir / WEED_STATE
        tmp = state.with_suffix(".tmp")
        # master_url: the blob store sends packs straight to the volume servers;
        # credentials_dir: where the keys weed requires lie.
        tmp.write_text(json.dumps(weed.state()))
        os.replace(tmp, state)
        data_dir.tighten_tree(self.settings.weed_dir)
        self.weed_state = "running"
        log.info("blob store ready: weed pid %s, filer %s", self.weed.pid, self.weed.filer_url)

    def stop_weed(self) -> None:
        (self.settings.run_dir / WEED_STATE).unlink(missing_ok=True)
        if self.weed is not None:
            self.weed.stop(timeout=self.settings.weed_stop_timeout)

    def health(self) -> dict[str, Any]:
        weed = self.weed_state
        if weed == "running" and (self.weed is None or self.weed.poll() is not None):
            weed = "down"
        return {
            "status": "ok"
            if self.failure is None and weed in ("running", "not used")
            else "degraded",
            "blob_store": self.settings.blob_store,
            "weed": weed,
            "weed_restarts": self.restarts,
            "uptime_s": round(time.time() - self.started_at, 1),
        }

    async def watch(self) -> None:
        """Restart a dead weed, or stop the appliance when it keeps dying."""
        ticks = 0
        while not self.stopping.is_set():
            await asyncio.sleep(1.0)
            ticks += 1
            if self.weed is not None and ticks % WEED_FILES_EVERY == 0:
                # weed writes a new volume's .vif 0644 whatever the umask
                await asyncio.to_thread(data_dir.tighten_tree, self.settings.weed_dir)
            if self.weed is None or self.weed.poll() is None:
                continue
            code = self.weed.poll()
            self.weed_state = "down"
            log.error("weed exited with code %s (log: %s)", code, self.settings.log_dir)
            (self.settings.run_dir / WEED_STATE).unlink(missing_ok=True)
            if self.restarts >= self.settings.weed_max_restarts:
                self.failure = (
                    f"the blob store (weed) died {self.restarts + 1} times; stopping the "
                    f"appliance. See the logs in {self.settings.log_dir}"
                )
                self.stopping.set()
                return
            self.restarts += 1
            log.warning("restarting weed (%d/%d)", self.restarts, self.settings.weed_max_restarts)
            try:
                await asyncio.to_thread(self.start_weed)
            except ServiceFailed as exc:
                self.failure = f"the blob store could not be restarted: {exc}"
                self.stopping.set()
                return


@contextlib.contextmanager
def _single_instance(run_dir: Path) -> Generator[None, None, None]:
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "serve.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServiceFailed(
                f"another `ahoy serve` is already running on {run_dir.parent}",
                hint="stop it first, or use another --data-dir",
            ) from None
        fh.write(str(os.getpid()))
        fh.flush()
        yield


def serve(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    data_dir.claim(settings.data_dir)  # before anything is made: weed and SQLite too
    for line in data_dir.tighten(settings.data_dir):
        log.warning("data dir: %s", line)
    for d in (settings.log_dir, settings.run_dir):
        d.mkdir(parents=True, exist_ok=True)
    apply_offline_env(settings.yolo_config_dir)
    with _single_instance(settings.run_dir):
        return _run_loop(_serve(settings))


def _run_loop(main: Coroutine[Any, Any, int]) -> int:
    """uvloop when it is installed (it is a dependency): request bodies stream
    through the loop, and it moves them at a fraction of asyncio's cost."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


async def _serve(settings: Settings) -> int:
    sup = Supervisor(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, sup.stopping.set)
    if settings.blob_store == "seaweedfs":
        log.info("starting the embedded blob store (weed)...")
        await asyncio.to_thread(sup.start_weed)
    async with open_services(settings, kinds=registry()) as ctx:
        return await _serve_api(settings, sup, ctx)


async def _serve_api(settings: Settings, sup: Supervisor, ctx: ServiceContext) -> int:
    governor = await start_governor(settings, ctx)
    interrupted = await governor.scheduler.fail_running("the appliance restarted while it ran")
    if interrupted:
        log.warning("%d job(s) were cut off by the last stop; marked failed", interrupted)
    setup_token = await accounts.issue_setup_token(ctx)
    tls: dict[str, Any] = {
        "ssl_certfile": settings.tls_cert_file,
        "ssl_keyfile": settings.tls_key_file,
    }
    app = create_app(
        ctx, lambda: {**sup.health(), "worker": governor.worker.state}, governor=governor
    )
    config = uvicorn.Config(
        Edge(app, settings, ctx.shield),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        log_config=None,
        lifespan="off",
        **server_options(settings),
        **({k: v for k, v in tls.items() if v}),
    )
    server = _QuietServer(config)
    web = asyncio.create_task(server.serve())
    watcher = asyncio.create_task(sup.watch())
    # Webhooks read the audit log; nothing that changes state waits on them.
    hooks_stop = asyncio.Event()
    hooks = asyncio.create_task(WebhookDispatcher(ctx).run(hooks_stop))
    refusals = asyncio.create_task(ctx.shield.audit_refusals(ctx, hooks_stop))
    anchoring = asyncio.create_task(
        anchor_audit(ctx, hooks_stop, settings.audit_checkpoint_seconds)
    )
    governor.worker.start()
    scheduling = asyncio.create_task(governor.scheduler.run(sup.stopping))
    worker_watch = asyncio.create_task(governor.watch_worker(sup))
    await asyncio.sleep(0.2)
    scheme = "https" if settings.tls_cert_file else "http"
    if web.done():  # e.g. the port is taken
        sup.failure = f"the web server could not start on {settings.host}:{settings.port}"
        sup.stopping.set()
    else:
        print(
            f"AHOY Perception is up: {scheme}://{settings.host}:{settings.port}  "
            f"(data in {settings.data_dir.resolve()}; Ctrl-C stops)",
            flush=True,
        )
        if setup_token:
            print(
                "No users yet. Create the first admin on this box with\n"
                "    ahoy admin init --username <name>\n"
                "or, within 24 hours, POST /v1/setup with this one-time setup token:\n"
                f"    {setup_token}",
                flush=True,
            )
    await sup.stopping.wait()
    log.info("stopping...")
    server.should_exit = True
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError, SystemExit, Exception):
        await asyncio.wait_for(web, timeout=10)
    worker_watch.cancel()
    await asyncio.gather(scheduling, worker_watch, return_exceptions=True)
    await asyncio.to_thread(governor.worker.stop)
    await governor.scheduler.fail_running("the appliance stopped while it ran")
    hooks_stop.set()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(hooks, timeout=5)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(refusals, timeout=5)  # the last window's summaries
    ctx.shield.close()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.wait_for(anchoring, timeout=5)  # the last checkpoint, after the jobs
    await asyncio.to_thread(sup.stop_weed)
    if sup.failure:
        log.error(sup.failure)
        print(f"error: {sup.failure}", flush=True)
        return 1
    log.info("stopped cleanly")
    return 0
