"""Every setting and every CLI command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from appliance.cli.main import app
from appliance.settings import Settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_in_the_configuration_doc():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    missing = [n for n, _, _ in Settings.describe() if f"AHOY_{n.upper()}" not in doc]
    assert not missing, f"document these in docs/configuration.md: {missing}"


def test_every_setting_has_help():
    assert all(h.strip() for _, _, h in Settings.describe())


def _commands(group, prefix=""):
    for name, cmd in group.commands.items():
        full = f"{prefix} {name}".strip()
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, full)
        else:
            yield full, cmd


def test_every_cli_command_is_in_the_readme_and_has_help():
    readme = (ROOT / "README.md").read_text()
    click_app = typer.main.get_command(app)
    commands = list(_commands(click_app))
    assert len(commands) >= 15
    undocumented = [n for n, _ in commands if f"ahoy {n}" not in readme]
    assert not undocumented, f"add these to the README walk-through: {undocumented}"
    assert all((cmd.help or "").strip() for _, cmd in commands)


def _documented_operations() -> set[tuple[str, str]]:
    import re

    doc = (ROOT / "docs" / "api.md").read_text()
    found = set()
    for method, path in re.findall(r"`(GET|POST|PUT|DELETE|PATCH) (/[^`\s]*)`", doc):
        path = path.removeprefix("/v1")
        found.add((method, re.sub(r"\{[^}]*\}", "{}", path)))
    return found


def test_every_api_operation_is_in_the_api_doc():
    import re

    from appliance.services.context import ServiceContext
    from appliance.web.app import create_app

    app = create_app(ServiceContext(Settings(), None, None), lambda: {})  # type: ignore[arg-type]
    documented = _documented_operations()
    missing = []
    for path, ops in app.openapi_schema.to_schema()["paths"].items():
        short = re.sub(r"\{[^}]*\}", "{}", path.removeprefix("/v1"))
        short = short.removeprefix("/workspaces/{}") or short
        for method in ops:
            if method.upper() not in ("GET", "POST", "PUT", "DELETE", "PATCH"):
                continue
            candidates = {short, re.sub(r"\{[^}]*\}", "{}", path.removeprefix("/v1"))}
            if not any((method.upper(), c) in documented for c in candidates):
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"document these in docs/api.md: {missing}"
