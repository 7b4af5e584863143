"""What the appliance counts to keep one client from hurting the others: failed
logins (throttled per account and per source address), refused anonymous
requests (audited as one summary per source and window, not one entry per
request), and uploads in flight (capped per user and in all, received on their
own bounded thread pool so a stalled body never holds a thread every request
needs).

The state is in memory, in the one ``ahoy serve`` process; a restart forgets it,
which only ever lets a client start over with a fresh allowance.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from appliance.domain.refusals import RefusalTally
from appliance.domain.throttle import TokenBuckets, retry_after
from appliance.errors import TooManyLogins, TooManyUploads
from appliance.settings import Settings

if TYPE_CHECKING:
    from appliance.services.context import ServiceContext

T = TypeVar("T")

#: What a refused upload is told to wait: uploads end (or time out) within seconds.
UPLOAD_RETRY_AFTER = 5


class Shield:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._accounts: TokenBuckets | None = None
        self._sources: TokenBuckets | None = None
        self._tally: RefusalTally | None = None
        self._uploads: dict[str, int] = {}
        self._uploading = 0
        self._pool: ThreadPoolExecutor | None = None

    # -- logins ----------------------------------------------------------------
    def _buckets(self, settings: Settings) -> tuple[TokenBuckets, TokenBuckets]:
        if self._accounts is None or self._sources is None:
            window = settings.login_failure_window_seconds
            per_account, per_source = (
                settings.login_failures_per_account,
                settings.login_failures_per_source,
            )
            self._accounts = TokenBuckets(per_account, window / per_account)
            self._sources = TokenBuckets(per_source, window / per_source)
        return self._accounts, self._sources

    def admit_login(self, settings: Settings, username: str, source: str) -> None:
        """Take one try from the source's and the account's allowances, or refuse
        with 429. The try is taken before the password is checked, so concurrent
        guesses cannot all slip in; a login that succeeds gives it back."""
        accounts, sources = self._buckets(settings)
        now, account = self.clock(), username.casefold()
        if not sources.take(source, now):
            self.refused(settings, source, "login throttled (source)", account=username)
            raise TooManyLogins("from your address", retry_after(sources.wait(source, now)))
        if not accounts.take(account, now):
            sources.give_back(source, now)  # this source did not get to guess
            self.refused(settings, source, "login throttled (account)", account=username)
            raise TooManyLogins("to this account", retry_after(accounts.wait(account, now)))

    def login_succeeded(self, settings: Settings, username: str, source: str) -> None:
        accounts, sources = self._buckets(settings)
        now = self.clock()
        accounts.give_back(username.casefold(), now)
        sources.give_back(source, now)

    # -- refusals --------------------------------------------------------------
    def refused(
        self,
        settings: Settings,
        source: str,
        reason: str,
        request: str | None = None,
        account: str | None = None,
    ) -> None:
        """Count a refused anonymous request; ``flush`` writes the summaries."""
        if self._tally is None:
            self._tally = RefusalTally(settings.refusal_audit_seconds)
        self._tally.record(source, self.clock(), reason, request, account)

    async def flush(self, ctx: ServiceContext, everything: bool = False) -> int:
        """Audit the summaries of closed windows (all of them at shutdown): one entry
        per source and window. Returns how many were written."""
        if self._tally is None:
            return 0
        summaries = self._tally.drain() if everything else self._tally.due(self.clock())
        if summaries:
            async with ctx.catalog.accounts(write=True) as acc:
                for s in summaries:
                    target = f"source:{s.source}"
                    await acc.audit.record(
                        None, "anonymous", "authenticate", target, "denied", **s.detail()
                    )
        return len(summaries)

    async def audit_refusals(self, ctx: ServiceContext, stop: asyncio.Event) -> None:
        """Until ``stop``: write each window's summaries as it closes; then the rest."""
        period = min(ctx.settings.refusal_audit_seconds, 10.0)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=period)
            await self.flush(ctx, everything=stop.is_set())

    # -- uploads ---------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def upload_slot(self, settings: Settings, user: str) -> AsyncIterator[None]:
        """Hold one of the user's and one of the appliance's upload slots, or 429."""
        if self._uploading >= settings.upload_workers:
            raise TooManyUploads(settings.upload_workers, UPLOAD_RETRY_AFTER, everyone=True)
        if self._uploads.get(user, 0) >= settings.uploads_per_user:
            raise TooManyUploads(settings.uploads_per_user, UPLOAD_RETRY_AFTER)
        self._uploading += 1
        self._uploads[user] = self._uploads.get(user, 0) + 1
        try:
            yield
        finally:
            self._uploading -= 1
            self._uploads[user] -= 1
            if not self._uploads[user]:
                del self._uploads[user]

    async def run_upload(
        self, settings: Settings, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        """Run blocking upload work (it may wait on the request body) on the uploads'
        own pool, sized like the appliance's upload slots."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(settings.upload_workers, thread_name_prefix="upload")
        call = functools.partial(fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
