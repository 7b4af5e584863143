"""Shared CLI plumbing: options, settings from them, running a service call."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from appliance.bootstrap import open_services
from appliance.errors import ApplianceError
from appliance.services.context import ServiceContext
from appliance.settings import Settings

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class CliState:
    data_dir: Path | None = None
    workspace: str | None = None
    blob_store: str | None = None
    as_json: bool = False

    def settings(self) -> Settings:
        return Settings.from_env(
            data_dir=self.data_dir, workspace=self.workspace, blob_store=self.blob_store
        )


STATE = CliState()


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def call(fn: Callable[[ServiceContext, str], Awaitable[T]], as_json: bool = False) -> T:
    """Open the services, run one call in the configured workspace, map errors."""

    async def main() -> T:
        settings = STATE.settings()
        async with open_services(settings) as ctx:
            return await fn(ctx, settings.workspace)

    try:
        return asyncio.run(main())
    except ApplianceError as exc:
        from appliance.cli.output import emit_error

        emit_error(exc, as_json or STATE.as_json)
        raise typer.Exit(exc.exit_code) from None


def want_json(flag: bool) -> bool:
    return flag or STATE.as_json


def done(value: Any, as_json: bool, human: Callable[[], None]) -> None:
    from appliance.cli.output import emit_json

    if want_json(as_json):
        emit_json(value)
    else:
        human()
