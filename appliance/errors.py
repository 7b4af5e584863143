"""The appliance's error root and its small, data-carrying subclasses.

Every error names the problem and what to do about it. Edges map these to HTTP
(problem+json), gRPC status or CLI exit codes in exactly one place each; the
``code`` is the stable identifier those mappings use.
"""

from __future__ import annotations


class ApplianceError(Exception):
    """Root of every error the appliance raises on purpose."""

    code = "appliance-error"
    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class NotFound(ApplianceError):
    code = "not-found"
    exit_code = 4

    def __init__(self, kind: str, ref: str, *, hint: str = "") -> None:
        super().__init__(f"{kind} {ref!r} does not exist", hint=hint)
        self.kind = kind
        self.ref = ref


class Conflict(ApplianceError):
    code = "conflict"
    exit_code = 5


class InvalidInput(ApplianceError):
    code = "invalid-input"
    exit_code = 2


class UnsupportedMediaType(InvalidInput):
    code = "unsupported-media-type"

    def __init__(self, given: str, accepted: tuple[str, ...]) -> None:
        super().__init__(
            f"content type {given or 'none'!r} is not accepted here",
            hint=f"send the body as {' or '.join(accepted)}",
        )
        self.given = given
        self.accepted = accepted


class InvalidFilename(InvalidInput):
    code = "invalid-filename"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(
            f"file name {name!r} is not allowed: {reason}",
            hint="rename the file or leave it out of the import",
        )
        self.name = name
        self.reason = reason


class InvalidName(InvalidInput):
    """A name (tag, model, token, dataset, ...) holds a character that does not show."""

    code = "invalid-name"

    def __init__(self, kind: str, name: str, reason: str) -> None:
        super().__init__(
            f"{kind} name {name!r} is not allowed: {reason}",
            hint="names may not hold control, invisible or bidirectional-control "
            "characters; retype the name",
        )
        self.kind = kind
        self.name = name
        self.reason = reason


class NestedTooDeeply(InvalidInput):
    """A JSON body nests objects and arrays deeper than the appliance decodes."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the JSON body nests objects and arrays more than {limit} levels deep",
            hint=f"send at most {limit} levels of nesting",
        )
        self.limit = limit


class UnsafeDestination(InvalidInput):
    """A folder the appliance was asked to write into holds a link (or something
    else) that would send a write elsewhere; nothing is written through it."""

    code = "unsafe-destination"

    def __init__(self, path: str, reason: str, *, hint: str = "") -> None:
        super().__init__(
            f"{path}: {reason}",
            hint=hint or "remove it, or write into a new, empty folder",
        )
        self.path = path
        self.reason = reason


class ImportRejected(InvalidInput):
    """The source tree has problems; nothing was stored."""

    code = "import-rejected"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        lines = "; ".join(f"{path}: {why}" for path, why in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(
            f"import refused, {len(problems)} problem(s): {lines}{more}",
            hint="fix or remove these files and run the import again; nothing was stored",
        )
        self.problems = problems


class WebhookTargetRefused(InvalidInput):
    """A webhook url whose host is, or resolves to, an address the webhook policy
    refuses (loopback, link-local, ..., or a private one no admin allow-listed)."""

    def __init__(self, host: str, verdict: str, message: str, *, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.host = host
        self.verdict = verdict


class WebhookHostUnresolvable(InvalidInput):
    """A webhook url whose host name resolves to no address on the appliance."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"webhook host {host!r} does not resolve on the appliance",
            hint="check the name, or register the receiver by its address",
        )
        self.host = host


class NothingToCommit(Conflict):
    code = "nothing-to-commit"

    def __init__(self, dataset: str, version: int) -> None:
        super().__init__(
            f"dataset {dataset!r} has no changes since version {version}",
            hint="import or remove files first, or pass --allow-empty",
        )
        self.dataset = dataset
        self.version = version


class VersionHeld(Conflict):
    """A lineage hold protects a version from deletion."""

    code = "version-held"

    def __init__(self, dataset: str, version: int, holders: list[str]) -> None:
        super().__init__(
            f"version {version} of {dataset!r} is held by {', '.join(holders)}",
            hint="release the holds (delete or re-home those models) before deleting it",
        )
        self.dataset = dataset
        self.version = version
        self.holders = holders


class SchemaChangeRefused(Conflict):
    """A new label schema would make existing labels read as other classes."""

    code = "schema-change-refused"

    def __init__(
        self, dataset: str, affected: list[dict[str, object]], lines: list[str], maps: list[str]
    ) -> None:
        example = " ".join(f"--map {m}" for m in maps)
        super().__init__(
            f"the new schema of {dataset!r} would change what existing labels mean: "
            + "; ".join(lines),
            hint=f"say where each class goes (old id=new id, or drop), e.g. {example}"
            ' (API: "mapping"); or leave the schema as it is',
        )
        self.dataset = dataset
        self.affected = affected


class BlobStoreError(ApplianceError):
    code = "blob-store-error"
    exit_code = 3


class BlobStoreUnavailable(BlobStoreError):
    code = "blob-store-unavailable"

    def __init__(self, where: str, cause: str) -> None:
        super().__init__(
            f"the blob store at {where} is not answering: {cause}",
            hint="start the appliance with `ahoy serve` (or `make run`) and try again",
        )
        self.where = where


class BlobMissing(BlobStoreError):
    code = "blob-missing"

    def __init__(self, workspace: str, sha256: str) -> None:
        super().__init__(
            f"blob sha256:{sha256} is missing from workspace {workspace!r}",
            hint="run `ahoy gc --verify` to list every affected version",
        )
        self.workspace = workspace
        self.sha256 = sha256


class BlobCorrupt(BlobStoreError):
    code = "blob-corrupt"

    def __init__(self, sha256: str, actual: str) -> None:
        super().__init__(
            f"blob sha256:{sha256} failed verification (read back sha256:{actual})",
            hint="the stored copy is damaged; restore it from a backup or re-import the file",
        )
        self.sha256 = sha256
        self.actual = actual


class StorageFull(BlobStoreError):
    code = "storage-full"

    def __init__(self, where: str) -> None:
        super().__init__(
            f"no space left on the device holding {where}",
            hint="free disk space (`ahoy gc` reclaims unreferenced blobs) and retry; "
            "nothing was stored",
        )
        self.where = where


class ServiceFailed(ApplianceError):
    """A supervised child process could not be started or kept alive."""

    code = "service-failed"
    exit_code = 6


class ConfigError(ApplianceError):
    code = "config-error"
    exit_code = 2


class Unauthenticated(ApplianceError):
    """No credentials, or ones that are unknown, expired or revoked."""

    code = "unauthenticated"
    exit_code = 7

    def __init__(self, why: str, *, hint: str = "") -> None:
        super().__init__(
            f"not authenticated: {why}",
            hint=hint or "log in again (`ahoy login`) or create a new token (`ahoy token create`)",
        )


class Forbidden(ApplianceError):
    code = "forbidden"
    exit_code = 7

    def __init__(self, permission: str, role: str | None) -> None:
        super().__init__(
            f"this needs the {permission!r} permission, which your role "
            f"({role or 'none'}) does not have",
            hint="ask an owner or admin of the workspace for a role that has it",
        )
        self.permission = permission
        self.role = role


class QuotaExceeded(ApplianceError):
    code = "quota-exceeded"
    exit_code = 8

    def __init__(self, workspace: str, needed: int, remaining: int) -> None:
        super().__init__(
            f"workspace {workspace!r} has {remaining:,} bytes of quota left; this needs {needed:,}",
            hint="free space (delete versions, then `ahoy gc`) or ask an admin for more quota; "
            "nothing was stored",
        )
        self.needed = needed
        self.remaining = remaining


class PayloadTooLarge(ApplianceError):
    code = "payload-too-large"
    exit_code = 8

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"the request body is {size:,} bytes; the limit is {limit:,}",
            hint="split the upload into smaller requests; nothing was stored",
        )
        self.size = size
        self.limit = limit


class HashMismatch(InvalidInput):
    code = "hash-mismatch"

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            f"the bytes received hash to sha256:{actual}, not the sha256:{expected} announced",
            hint="the file changed or was damaged in transit; retry the upload; nothing was stored",
        )
        self.expected = expected
        self.actual = actual


class BlobsNotUploaded(ImportRejected):
    """Staging named content the store does not hold (never sent, or reclaimed by a
    GC between the client's check and its staging call)."""

    code = "blobs-not-uploaded"

    def __init__(self, problems: list[tuple[str, str]], missing: list[str]) -> None:
        super().__init__(problems)
        self.hint = "upload these blobs (POST /blobs) and stage again; nothing was staged"
        self.missing = missing


class LabelsRejected(InvalidInput):
    """A label document sent to be saved is not valid; ``location`` says where."""

    code = "invalid-labels"

    def __init__(self, location: str, problem: str) -> None:
        super().__init__(
            f"the label document is not valid: {location}: {problem}",
            hint="fix that part of the document (see docs/annotation.md) and save again",
        )
        self.location = location
        self.problem = problem


class ReviewRefused(Conflict):
    """A review step (submit, approve, reject) that the file's state does not allow."""

    code = "review-refused"

    def __init__(self, filename: str, step: str, problem: str, *, hint: str) -> None:
        super().__init__(f"cannot {step} {filename!r}: {problem}", hint=hint)
        self.filename = filename
        self.step = step


class ReviewIncomplete(InvalidInput):
    """A review decision that lacks what it needs (a rejection without a comment)."""

    code = "review-incomplete"

    def __init__(self, filename: str, step: str, problem: str, *, hint: str) -> None:
        super().__init__(f"cannot {step} {filename!r}: {problem}", hint=hint)
        self.filename = filename
        self.step = step


class EventsRejected(ImportRejected):
    """A batch of annotation events has problems; none of it was applied.

    ``problems``: (where in the body, e.g. ``events[3]``, what is wrong)."""

    code = "events-rejected"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        lines = "; ".join(f"{where}: {why}" for where, why in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        self.message = f"batch refused, {len(problems)} problem(s): {lines}{more}"
        self.hint = "fix these events and send the batch again; nothing of it was applied"


class JobRejected(ApplianceError):
    """The governor says this job can never run on this box (not: not now)."""

    code = "job-rejected"
    exit_code = 9

    def __init__(self, kind: str, reason: str, *, needed: dict[str, object]) -> None:
        super().__init__(
            f"a {kind} job cannot run on this box: {reason}",
            hint="ask for less (smaller model, image size or batch) or run it on a larger box",
        )
        self.kind = kind
        self.needed = needed


class TooManyRequests(ApplianceError):
    """Refused for now, not for good: ``retry_after`` says in how many seconds."""

    code = "too-many-requests"
    exit_code = 10

    def __init__(self, message: str, retry_after: int, *, hint: str = "") -> None:
        super().__init__(message, hint=hint or f"wait {retry_after} s and try again")
        self.retry_after = retry_after


class TooManyLogins(TooManyRequests):
    """Failed logins to one account, or from one source address, came too fast."""

    code = "too-many-logins"

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(
            f"too many failed logins {scope}; logins there are slowed for now",
            retry_after,
            hint=f"wait {retry_after} s before the next try; "
            "a token you already have (`ahoy token create`) keeps working",
        )
        self.scope = scope


class TooManyUploads(TooManyRequests):
    """A user (or the whole appliance) has as many uploads in flight as allowed."""

    code = "too-many-uploads"

    def __init__(self, limit: int, retry_after: int, *, everyone: bool = False) -> None:
        who = "the appliance is already receiving" if everyone else "you already have"
        super().__init__(
            f"{who} {limit} upload(s) in flight, the most allowed at once",
            retry_after,
            hint=f"let one finish (or wait {retry_after} s) and send this one again",
        )
        self.limit = limit
        self.everyone = everyone


class RequestTimeout(ApplianceError):
    """The request body stopped arriving; nothing of it was kept."""

    code = "request-timeout"
    exit_code = 10

    def __init__(self, idle_seconds: float) -> None:
        super().__init__(
            f"the request body sent nothing for {idle_seconds:g} s, so it was cut off",
            hint="check the network and send the request again; nothing of it was stored",
        )
        self.idle_seconds = idle_seconds


class UrlTooLong(ApplianceError):
    """The request target is longer than the appliance reads."""

    code = "uri-too-long"
    exit_code = 2

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(
            f"the request URL is {length:,} bytes; the limit is {limit:,}",
            hint="shorten the path and query (send long lists in a request body instead)",
        )
        self.length = length
        self.limit = limit
