"""Where the SDK and CLI find the appliance's URL, a token and a workspace.

Precedence, first wins: explicit arguments, then ``AHOY_URL`` / ``AHOY_TOKEN`` /
``AHOY_WORKSPACE``, then the profile in ``profiles.json`` (in ``AHOY_CONFIG_DIR``,
else typer's per-user app dir), then the defaults. The file holds tokens, so it is
only ever written with mode 0600, atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8470"
DEFAULT_WORKSPACE = "default"
DEFAULT_PROFILE = "default"
PROFILES_FILE = "profiles.json"


@dataclass(frozen=True)
class Profile:
    """One named connection: URL, personal access token (and its id), workspace."""

    name: str = DEFAULT_PROFILE
    url: str = DEFAULT_URL
    token: str | None = None
    token_id: str | None = None
    username: str | None = None
    workspace: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """Everything but the secret, for printing."""
        d = asdict(self)
        d.pop("extra")
        d["token"] = "set" if self.token else None
        return d


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("AHOY_CONFIG_DIR"):
        return Path(env["AHOY_CONFIG_DIR"])
    import typer

    return Path(typer.get_app_dir("ahoy"))


class ProfileStore:
    """``profiles.json``: ``{"current": name, "profiles": {name: {...}}}``."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else config_dir()
        self.path = self.directory / PROFILES_FILE

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"current": None, "profiles": {}}
        except ValueError:
            from appliance.errors import ConfigError

            raise ConfigError(
                f"{self.path} is not valid JSON", hint="fix it, or delete it and `ahoy login`"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
            return {"current": None, "profiles": {}}
        return data

    def current_name(self) -> str:
        return str(self._read().get("current") or DEFAULT_PROFILE)

    def get(self, name: str | None = None) -> Profile | None:
        data = self._read()
        name = name or str(data.get("current") or DEFAULT_PROFILE)
        raw = data["profiles"].get(name)
        if not isinstance(raw, dict):
            return None
        known = {k: raw.get(k) for k in ("url", "token", "token_id", "username", "workspace")}
        extra = {k: v for k, v in raw.items() if k not in known}
        return Profile(
            name=name,
            url=str(known["url"] or DEFAULT_URL),
            token=known["token"],
            token_id=None if known["token_id"] is None else str(known["token_id"]),
            username=known["username"],
            workspace=known["workspace"],
            extra=extra,
        )

    def names(self) -> list[str]:
        return sorted(self._read()["profiles"])

    def save(self, profile: Profile, *, make_current: bool = True) -> None:
        data = self._read()
        entry = {k: v for k, v in asdict(profile).items() if k not in ("name", "extra")}
        data["profiles"][profile.name] = {**profile.extra, **entry}
        if make_current or not data.get("current"):
            data["current"] = profile.name
        self._write(data)

    def delete(self, name: str) -> bool:
        data = self._read()
        if data["profiles"].pop(name, None) is None:
            return False
        if data.get("current") == name:
            data["current"] = next(iter(sorted(data["profiles"])), None)
        self._write(data)
        return True

    def _write(self, data: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{PROFILES_FILE}.{os.getpid()}.tmp")
        # Created 0600 from the first byte: the token is never readable by others.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # in case a stale temp file existed with other bits
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class Resolved:
    url: str
    token: str | None
    workspace: str
    profile: Profile


def resolve(
    name: str | None = None,
    *,
    url: str | None = None,
    token: str | None = None,
    workspace: str | None = None,
    environ: Mapping[str, str] | None = None,
    store: ProfileStore | None = None,
) -> Resolved:
    """URL, token and workspace by the precedence in this module's docstring."""
    env = os.environ if environ is None else environ
    store = store if store is not None else ProfileStore(config_dir(env))
    name = name or env.get("AHOY_PROFILE") or None
    profile = store.get(name) or Profile(name=name or store.current_name())
    return Resolved(
        url=(url or env.get("AHOY_URL") or profile.url or DEFAULT_URL).rstrip("/"),
        token=token or env.get("AHOY_TOKEN") or profile.token,
        workspace=workspace or env.get("AHOY_WORKSPACE") or profile.workspace or DEFAULT_WORKSPACE,
        profile=replace(profile),
    )
