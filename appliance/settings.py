"""Settings, declared once.

Each field has a default and a help text. ``ahoy config`` lists them, the CLI
reads overrides from ``AHOY_<FIELD>`` environment variables in one place
(``Settings.from_env``), and ``validate()`` says what to fix. Nothing is read at
import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from appliance.domain.webhook_targets import parse_allow_list
from appliance.errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _setting(
        Path("var"), "Where the appliance keeps its metadata, blobs, logs and caches."
    )
    host: str = _setting("127.0.0.1", "Address the appliance web server binds to.")
    port: int = _setting(8470, "Port of the appliance web server.")
    blob_store: str = _setting(
        "seaweedfs",
        "Blob store adapter: 'seaweedfs' (the embedded weed child of `ahoy serve`) "
        "or 'local' (plain files under the data dir; no server needed).",
    )
    workspace: str = _setting(
        "default", "Workspace the CLI acts in; `ahoy admin init` creates it and makes you owner."
    )
    gc_grace_seconds: int = _setting(
        7 * 24 * 3600, "How long an unreferenced blob is kept before `ahoy gc` reclaims it."
    )
    weed_start_timeout: float = _setting(
        90.0, "Seconds to wait for the embedded weed to accept writes (restarts take ~15 s)."
    )
    weed_stop_timeout: float = _setting(45.0, "Seconds to wait for weed to stop cleanly.")
    weed_max_restarts: int = _setting(
        3, "How often `ahoy serve` restarts a weed child that died before giving up."
    )
    tls_cert_file: str = _setting(
        "", "PEM certificate for HTTPS; required (with the key) to bind to a non-loopback host."
    )
    tls_key_file: str = _setting("", "PEM private key matching tls_cert_file.")
    session_ttl_seconds: int = _setting(
        12 * 3600,
        "How long a login session stays valid: the console's, and the one `ahoy login` trades "
        "at once for a personal token (that token lasts 90 days; `ahoy token list`).",
    )
    token_max_days: int = _setting(365, "Longest lifetime a personal API token may be given.")
    max_request_bytes: int = _setting(
        1 << 30, "Largest request body the API accepts (one upload request); bigger is 413."
    )
    max_url_bytes: int = _setting(
        8 << 10,
        "Longest request URL (path and query) the API reads; longer is refused with 414 "
        "before routing or authentication.",
    )
    max_header_bytes: int = _setting(
        64 << 10,
        "Largest request head (request line and headers) the web server reads; more is "
        "refused with 431 and the connection closed. Keep it above max_url_bytes.",
    )
    body_idle_seconds: float = _setting(
        30.0,
        "A request body that sends nothing for this long is cut off with 408 (the web "
        "server has no body timeout of its own; the app enforces this one).",
    )
    uploads_per_user: int = _setting(
        4, "Blob uploads one user may have in flight at once; more are refused with 429."
    )
    upload_workers: int = _setting(
        16,
        "Uploads the appliance receives at once, each on a thread of the uploads' own pool "
        "(never the pool every request needs); more are refused with 429.",
    )
    http_max_connections: int = _setting(
        1000,
        "Connections and running requests the web server holds at once (uvicorn's "
        "limit_concurrency); beyond it a request is answered 503 at once.",
    )
    http_keep_alive_seconds: int = _setting(
        5, "How long the web server keeps an idle keep-alive connection open."
    )
    login_failures_per_account: int = _setting(
        10,
        "Wrong passwords one account may take in a burst; then logins to it are slowed "
        "(429 with Retry-After) to one try per login_failure_window_seconds / this.",
    )
    login_failures_per_source: int = _setting(
        30,
        "Failed logins one source address may make in a burst (any accounts); then its "
        "logins are slowed the same way.",
    )
    login_failure_window_seconds: float = _setting(
        300.0, "The window over which the login failure allowances above refill."
    )
    refusal_audit_seconds: float = _setting(
        60.0,
        "Refused anonymous requests (bad tokens, failed logins, over-long URLs) are counted "
        "per source address and written as one audit entry per source and this window.",
    )
    workspace_quota_bytes: int = _setting(
        0, "Default storage quota per workspace in bytes (0: unlimited); admins may set one."
    )
    webhook_max_attempts: int = _setting(
        5, "Delivery attempts per webhook event before it is logged as failed."
    )
    webhook_timeout: float = _setting(5.0, "Seconds a webhook receiver has to answer.")
    webhook_allow_private: str = _setting(
        "",
        "Private (LAN) networks and host names webhooks may reach, comma-separated "
        "(e.g. '10.0.5.0/24, ci.lan'); empty: public addresses only. Loopback, "
        "link-local, unspecified, multicast and reserved addresses are never allowed.",
    )
    job_workers: int = _setting(
        4, "Jobs the worker process may run at once; the governor admits within that."
    )
    worker_max_restarts: int = _setting(
        3, "How often `ahoy serve` restarts a job worker child that died before giving up."
    )
    job_cancel_grace: float = _setting(
        5.0, "Seconds a cancelled job's processes get after SIGTERM before SIGKILL."
    )
    reserved_ram_bytes: int = _setting(
        2 << 30, "RAM the governor keeps for the appliance, weed and the OS; jobs never get it."
    )
    audit_checkpoint_seconds: float = _setting(
        60.0,
        "How often `ahoy serve` signs the audit chain's head with the appliance key and "
        "records it outside the catalog (a rewrite or cut since then is what goes unseen).",
    )
    audit_syslog: str = _setting(
        "",
        "Where signed audit checkpoints are also sent: /dev/log, udp:HOST:PORT or "
        "tcp:HOST:PORT (empty: only the checkpoint file and the appliance's log).",
    )
    parity_tolerance: float = _setting(
        1.0, "mAP50-95 points an export may lose against its source and still be promoted."
    )
    parity_min_images: int = _setting(
        50,
        "Images parity must be measured on to decide it; on fewer the export is marked "
        "'parity not measurable' and only an admin promotes it (--accept-unmeasured).",
    )
    parity_min_objects: int = _setting(
        100,
        "Objects (crowd regions aside) parity must be measured on to decide it; on fewer, "
        "as with too few images.",
    )

    # --- derived locations -------------------------------------------------
    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def blob_index_path(self) -> Path:
        return self.data_dir / "blobindex.sqlite"

    @property
    def weed_dir(self) -> Path:
        return self.data_dir / "weed"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.sqlite"

    @property
    def yolo_config_dir(self) -> Path:
        return self.data_dir / "ultralytics"

    # --- construction --------------------------------------------------------
    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``AHOY_*`` variables, then explicit overrides (CLI options)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"AHOY_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _coerce(f.name, f.default, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"]).absolute()
        else:
            values["data_dir"] = cls.data_dir.absolute()  # type: ignore[attr-defined]
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        self._validate_limits()
        self._validate_webhooks()
        if self.blob_store not in ("seaweedfs", "local"):
            raise ConfigError(
                f"blob_store {self.blob_store!r} is not known",
                hint="set AHOY_BLOB_STORE to 'seaweedfs' or 'local'",
            )
        if not 0 < self.port < 65536:
            raise ConfigError(f"port {self.port} is outside 1..65535", hint="set AHOY_PORT")
        if self.gc_grace_seconds < 0:
            raise ConfigError("gc_grace_seconds is negative", hint="use 0 or more seconds")
        if self.host not in LOOPBACK and not (self.tls_cert_file and self.tls_key_file):
            raise ConfigError(
                f"host {self.host!r} is not loopback, and tokens must not cross a LAN in clear",
                hint="set AHOY_TLS_CERT_FILE and AHOY_TLS_KEY_FILE, or bind to 127.0.0.1",
            )
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ConfigError(
                "only one of tls_cert_file and tls_key_file is set", hint="set both, or neither"
            )
        self._require_positive(
            "session_ttl_seconds",
            "token_max_days",
            "max_request_bytes",
            "job_workers",
            "audit_checkpoint_seconds",
        )
        for name in ("parity_tolerance", "parity_min_images", "parity_min_objects"):
            if getattr(self, name) < 0:
                raise ConfigError(
                    f"{name} is negative", hint=f"set AHOY_{name.upper()} to 0 or more"
                )

    def _require_positive(self, *names: str) -> None:
        for name in names:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive", hint=f"set AHOY_{name.upper()}")

    def _validate_webhooks(self) -> None:
        try:
            parse_allow_list(self.webhook_allow_private)
        except ValueError as exc:
            raise ConfigError(
                f"webhook_allow_private: {exc}",
                hint="set AHOY_WEBHOOK_ALLOW_PRIVATE to LAN networks (10.0.5.0/24) "
                "or host names, comma-separated",
            ) from None

    def _validate_limits(self) -> None:
        """The web server's and the API's own limits (docs/security.md)."""
        self._require_positive(
            "max_url_bytes",
            "body_idle_seconds",
            "uploads_per_user",
            "upload_workers",
            "http_max_connections",
            "http_keep_alive_seconds",
            "login_failures_per_account",
            "login_failures_per_source",
            "login_failure_window_seconds",
            "refusal_audit_seconds",
        )
        if self.max_header_bytes <= self.max_url_bytes:
            raise ConfigError(
                f"max_header_bytes ({self.max_header_bytes}) must be above max_url_bytes "
                f"({self.max_url_bytes}), or a long URL is cut by the server before the "
                "API can answer it",
                hint="raise AHOY_MAX_HEADER_BYTES or lower AHOY_MAX_URL_BYTES",
            )

    def as_env(self) -> dict[str, str]:
        """The ``AHOY_*`` variables that make ``from_env`` rebuild these settings
        (how `ahoy serve` hands its settings to its worker process)."""
        return {f"AHOY_{f.name.upper()}": str(getattr(self, f.name)) for f in fields(self)}

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """(name, default, help) for every setting, for `ahoy config` and the docs."""
        return [(f.name, f.default, f.metadata["help"]) for f in fields(cls)]


def _coerce(name: str, default: Any, raw: str) -> Any:
    try:
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw)
        return raw
    except ValueError:
        raise ConfigError(
            f"AHOY_{name.upper()}={raw!r} is not a valid {type(default).__name__}"
        ) from None
