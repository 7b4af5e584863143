"""Box-wide reads that serve work inside workspaces: the box's capacity and its
model plugins. Box admins read them, and so does whoever may submit jobs (train)
in some workspace; a viewer, an edge device and a user of no workspace get 403,
audited."""

from __future__ import annotations

import pytest

from tests.api.conftest import PASSWORD, Api, World, log_in
from tests.api.problems import assert_problem

pytestmark = pytest.mark.api

READS = ["/v1/capacity", "/v1/plugins"]


@pytest.fixture(scope="module")
def outsiders(world: World) -> dict[str, Api]:
    """``loner`` belongs to no workspace; ``edge`` is a device in ws-a."""
    made = {}
    for username, role in (("loner", None), ("edge", "device")):
        world.admin.ok("POST", "/v1/users", 201, json={"username": username, "password": PASSWORD})
        if role:
            world.admin.ok("PUT", f"/v1/workspaces/ws-a/members/{username}", json={"role": role})
        made[username] = log_in(world.server, username)
    return made


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("who", ["admin", "alice", "bob"])
def test_admins_and_those_who_may_submit_jobs_read_it(world: World, who: str, path: str):
    assert getattr(world, who).ok("GET", path)


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("who", ["vic", "loner", "edge"])
def test_viewers_devices_and_users_of_no_workspace_are_403(
    world: World, outsiders: dict[str, Api], who: str, path: str
):
    api = outsiders.get(who) or getattr(world, who)
    (last,) = world.server.sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0]
    problem = assert_problem(api.get(path), 403, "forbidden")
    assert "job.submit" in problem["permission"] and problem["hint"], problem
    denied = world.server.sql(
        "SELECT action, target, outcome FROM audit_log WHERE id > ? AND actor = ?",
        last,
        f"user:{who}",
    )
    assert denied == [("job.submit", path, "denied")]
