"""Shared CLI plumbing: options, settings from them, and the two ways a command
runs: ``api()`` over HTTP with the SDK, ``call()`` in-process on the box."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from appliance.errors import ApplianceError
from appliance.settings import Settings

if TYPE_CHECKING:
    from appliance.sdk import Client
    from appliance.services.context import ServiceContext

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


class CliState:
    data_dir: Path | None = None
    workspace: str | None = None
    blob_store: str | None = None
    url: str | None = None
    profile: str | None = None
    as_json: bool = False

    def settings(self) -> Settings:
        return Settings.from_env(
            data_dir=self.data_dir, workspace=self.workspace, blob_store=self.blob_store
        )

    def client(self) -> Client:
        from appliance.sdk import Client

        return Client.from_profile(self.profile, url=self.url, workspace=self.workspace)


STATE = CliState()


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def fail(exc: ApplianceError, as_json: bool = False) -> typer.Exit:
    """Print the error in the one CLI shape; return the Exit to raise."""
    from appliance.cli.output import emit_error

    emit_error(exc, want_json(as_json))
    return typer.Exit(exc.exit_code)


def api(fn: Callable[[Client], T], as_json: bool = False) -> T:
    """Run ``fn`` with a client for the configured appliance, mapping errors."""
    try:
        with STATE.client() as client:
            return fn(client)
    except ApplianceError as exc:
        raise fail(exc, as_json) from None


def call(
    fn: Callable[[ServiceContext, str], Awaitable[T]],
    as_json: bool = False,
    *,
    blobs: bool = True,
) -> T:
    """On the box: open the services, run one call in the configured workspace.

    ``blobs=False`` opens only the catalog, so an account command works while the
    appliance (and its blob store) is stopped.
    """
    from appliance.bootstrap import open_services

    async def main() -> T:
        settings = STATE.settings()
        async with open_services(settings, blobs=blobs) as ctx:
            return await fn(ctx, settings.workspace)

    try:
        return asyncio.run(main())
    except ApplianceError as exc:
        raise fail(exc, as_json) from None


def read_password(from_stdin: bool, *, confirm: bool = False) -> str:
    """One line from stdin (without its newline), or a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))


def want_json(flag: bool) -> bool:
    return flag or STATE.as_json


def done(value: Any, as_json: bool, human: Callable[[], None]) -> None:
    from appliance.cli.output import emit_json

    if want_json(as_json):
        emit_json(value)
    else:
        human()
