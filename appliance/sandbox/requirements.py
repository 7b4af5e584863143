"""Does this appliance already have what a script's requirements.txt asks for?

The appliance installs nothing at run time (it may have no network, and a script
must not change what every other job runs on): a requirement is met by a
distribution installed in the appliance's own environment, or the script is
refused at submission naming each one that is not.
"""

from __future__ import annotations

from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement

from appliance.errors import InvalidInput

MAX_LINES = 500


class RequirementsNotMet(InvalidInput):
    code = "requirements-not-met"

    def __init__(self, unmet: list[str]) -> None:
        super().__init__(
            f"requirements this appliance does not meet: {'; '.join(unmet)}",
            hint="the appliance installs nothing at run time: ask for the versions it has"
            " (`GET /job-kinds` lists them under train-script) or drop the requirement",
        )
        self.unmet = unmet


def parse(text: str) -> list[Requirement]:
    """``name[extras] specifier ; marker`` lines; comments and blank lines skipped.
    Anything pip would fetch or build (options, URLs, paths, editables) is refused."""
    problems: list[str] = []
    found: list[Requirement] = []
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"requirements: more than {MAX_LINES} lines")
    for number, raw in enumerate(lines, 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            problems.append(f"line {number}: pip options ({line.split()[0]}) are not supported")
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement as exc:
            problems.append(f"line {number}: {line!r} is not a requirement ({exc})")
            continue
        if req.url:
            problems.append(f"line {number}: {req.name} from a URL cannot be installed here")
            continue
        found.append(req)
    if problems:
        raise InvalidInput(
            "requirements: " + "; ".join(problems),
            hint="list distributions with version specifiers only, e.g. `numpy>=1.26`",
        )
    return found


def check(text: str) -> dict[str, str]:
    """The installed version of each requirement that applies here; raises
    RequirementsNotMet naming every one that is missing or of another version."""
    met: dict[str, str] = {}
    unmet: list[str] = []
    for req in parse(text):
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            unmet.append(f"{req} (not installed)")
            continue
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            unmet.append(f"{req} (installed: {installed})")
            continue
        met[req.name] = installed
    if unmet:
        raise RequirementsNotMet(unmet)
    return met


def offered() -> dict[str, str]:
    """What a script can import: every distribution installed here, with its version."""
    names = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            names[name] = dist.version
    return dict(sorted(names.items(), key=lambda kv: kv[0].lower()))
