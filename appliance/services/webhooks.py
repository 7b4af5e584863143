"""Webhooks: registrations, and the dispatcher that delivers events to them.

The audit log is the outbox (see ``appliance.domain.webhooks``), so the code that
changes state never calls into webhooks: the dispatcher reads what was audited
after each hook's cursor and POSTs it. Delivery is at least once and in order per
hook; receivers dedupe on the event ``id`` (or ``X-Ahoy-Delivery``). Each hook is
drained by its own task, so a slow or dead receiver delays only itself.

Where a hook may point is checked when it is registered and again before every
attempt, and the POST goes only to the addresses that check saw
(``appliance.services.webhook_delivery``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from appliance.domain import webhooks as hooks
from appliance.domain.canonical import canonical_json
from appliance.domain.records import AuditEntry, Delivery, Webhook
from appliance.domain.webhook_targets import AllowList
from appliance.errors import InvalidInput, NotFound
from appliance.services import webhook_delivery as delivery
from appliance.services.context import ServiceContext

log = logging.getLogger("ahoy.webhooks")

#: Audit entries read per query while draining one hook.
BATCH = 200
#: Most deliveries the API pages through, newest first.
MAX_DELIVERIES = 10_000


# -- registrations ------------------------------------------------------------


def _shown_url(url: str) -> str:
    """The url with any password in it masked, for the audit log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _check_events(events: list[str]) -> list[str]:
    unique = list(dict.fromkeys(e.strip() for e in events))
    valid = ", ".join(hooks.PATTERNS)
    if not unique:
        raise InvalidInput("a webhook needs at least one event", hint=f"use any of: {valid}")
    bad = hooks.invalid_patterns(unique)
    if bad:
        raise InvalidInput(
            f"unknown webhook event(s): {', '.join(repr(b) for b in bad)}",
            hint=f"use any of: {valid}",
        )
    return unique


async def create(
    ctx: ServiceContext,
    ws: str,
    actor: str,
    url: str,
    events: list[str],
    *,
    resolve: delivery.Resolver = delivery.system_resolve,
) -> dict[str, Any]:
    """Register a hook. The answer holds its signing ``secret``: the only time it is shown.
    A url whose host is (or resolves to) an address the policy refuses is InvalidInput."""
    url = url.strip()
    events = _check_events(events)
    allow = delivery.allow_list(ctx.settings.webhook_allow_private)
    await asyncio.to_thread(delivery.check_target, url, allow, resolve)
    secret = secrets.token_urlsafe(32)
    hook_id = secrets.token_hex(8)
    async with ctx.catalog.writing(ws) as uow:
        hook = await uow.webhooks.add(hook_id, url, events, secret, actor)
        await uow.audit.record(
            actor, "webhook.create", f"webhook:{hook_id}", url=_shown_url(url), events=events
        )
    return {**hook, "secret": secret}


async def list_hooks(ctx: ServiceContext, ws: str) -> list[Webhook]:
    """Live hooks, oldest first; never their secrets."""
    async with ctx.catalog.reading(ws) as uow:
        return await uow.webhooks.list()


async def delete(ctx: ServiceContext, ws: str, hook_id: str, actor: str) -> None:
    async with ctx.catalog.writing(ws) as uow:
        await uow.webhooks.delete(hook_id)
        await uow.audit.record(actor, "webhook.delete", f"webhook:{hook_id}")


async def deliveries(
    ctx: ServiceContext, ws: str, hook_id: str, limit: int = MAX_DELIVERIES
) -> list[Delivery]:
    """Every delivery attempt, newest first."""
    async with ctx.catalog.reading(ws) as uow:
        return await uow.webhooks.deliveries(hook_id, limit=limit)


# -- delivery -------------------------------------------------------------------


def post_event(
    url: str,
    allow: AllowList,
    secret: str,
    body: bytes,
    kind: str,
    delivery_id: str,
    timeout: float,
    resolve: delivery.Resolver = delivery.system_resolve,
) -> delivery.Attempt:
    """One signed POST (blocking), to where the address policy lets ``url`` lead.

    Redirects are not followed (the signed body goes only where it was registered)
    and proxy variables and .netrc are ignored: receivers are on the appliance's LAN.
    """
    headers = {
        "Content-Type": "application/json",
        "X-Ahoy-Event": kind,
        "X-Ahoy-Delivery": delivery_id,
        "X-Ahoy-Signature": hooks.sign(secret, int(time.time()), body),
    }
    return delivery.attempt(url, allow, headers, body, timeout, resolve)


class WebhookDispatcher:
    """Delivers audited events to every live hook on the box.

    ``run(stop)`` is the serving loop (``ahoy serve`` runs it beside the web
    server); ``deliver_pending()`` does one full pass and returns when every hook
    is drained, which is how tests and one-shot callers drive it.
    """

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        interval: float = 0.5,
        backoff: Callable[[int], float] = hooks.backoff,
        resolve: delivery.Resolver = delivery.system_resolve,
    ) -> None:
        self.ctx = ctx
        self.interval = interval
        self.backoff = backoff
        self.resolve = resolve
        self.allow = delivery.allow_list(ctx.settings.webhook_allow_private)
        self.max_attempts = max(1, ctx.settings.webhook_max_attempts)
        self.timeout = ctx.settings.webhook_timeout
        self._poked = asyncio.Event()
        self._workers: dict[str, asyncio.Task[None]] = {}

    def poke(self) -> None:
        """Look for new events now rather than at the next tick."""
        self._poked.set()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                self._poked.clear()
                try:
                    await self._sweep()
                except Exception:  # e.g. the catalog is busy: try again next tick
                    log.exception("webhook sweep failed")
                await self._wait(stop)
        finally:
            await self.close()

    async def deliver_pending(self) -> None:
        await self._sweep()
        while pending := [t for t in self._workers.values() if not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def close(self) -> None:
        """Stop every delivery; one cut off mid-flight is sent again on the next start."""
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()

    async def _wait(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._poked.wait())]
        try:
            await asyncio.wait(waiters, timeout=self.interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    async def _sweep(self) -> None:
        """Start a drain for each live hook that has none running."""
        async with self.ctx.catalog.accounts() as acc:
            workspaces = await acc.workspaces.with_webhooks()
        for ws in workspaces:
            async with self.ctx.catalog.reading(ws) as uow:
                live = await uow.webhooks.list()
            for hook in live:
                hook_id = hook["id"]
                running = self._workers.get(hook_id)
                if running is None or running.done():
                    task = asyncio.create_task(self._drain(ws, hook_id))
                    self._workers[hook_id] = task
                    task.add_done_callback(functools.partial(self._forget, hook_id))

    def _forget(self, hook_id: str, task: asyncio.Task[None]) -> None:
        if self._workers.get(hook_id) is task:
            del self._workers[hook_id]

    async def _drain(self, ws: str, hook_id: str) -> None:
        try:
            while await self._drain_batch(ws, hook_id):
                pass
        except Exception:  # one broken hook must not stop the others
            log.exception("webhook %s: delivery failed unexpectedly", hook_id)

    async def _hook(self, ws: str, hook_id: str) -> tuple[Webhook, str, int] | None:
        """The live hook, its secret and its cursor; None once it is deleted."""
        async with self.ctx.catalog.reading(ws) as uow:
            try:
                hook = await uow.webhooks.get(hook_id)
            except NotFound:
                return None
            return hook, await uow.webhooks.secret(hook_id), await uow.webhooks.cursor(hook_id)

    async def _drain_batch(self, ws: str, hook_id: str) -> bool:
        """Deliver the next batch of events in order; True when there may be more."""
        found = await self._hook(ws, hook_id)
        if found is None:
            return False
        hook, secret, cursor = found
        async with self.ctx.catalog.reading(ws) as uow:
            entries = await uow.audit.since(cursor, limit=BATCH)
        skipped_to: int | None = None
        for entry in entries:
            kind = hooks.event_type(entry)
            if kind is None or not hooks.matches(hook["events"], kind):
                skipped_to = entry["id"]
                continue
            if not await self._deliver(ws, hook, secret, entry, kind):
                return False
            skipped_to = None
        if skipped_to is not None:
            async with self.ctx.catalog.writing(ws) as uow:
                await uow.webhooks.advance(hook_id, skipped_to)
        return len(entries) == BATCH

    async def _deliver(
        self, ws: str, hook: Webhook, secret: str, entry: AuditEntry, kind: str
    ) -> bool:
        """Try one event up to ``max_attempts`` times, logging each attempt, then move
        the cursor past it. A policy refusal is not tried again. False when the hook
        was deleted meanwhile."""
        hook_id, event_id = hook["id"], entry["id"]
        body = canonical_json(hooks.event_payload(entry, kind))
        delivery_id = f"{hook_id}-{event_id}"
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self.backoff(attempt - 1))
            if await self._hook(ws, hook_id) is None:  # deleted since: not one more POST
                return False
            result = await asyncio.to_thread(
                post_event,
                hook["url"],
                self.allow,
                secret,
                body,
                kind,
                delivery_id,
                self.timeout,
                self.resolve,
            )
            outcome = result.outcome
            last = not outcome.retried or attempt == self.max_attempts
            async with self.ctx.catalog.writing(ws) as uow:
                await uow.webhooks.log_delivery(
                    hook_id,
                    event_id,
                    kind,
                    attempt,
                    outcome,
                    result.status_code,
                    result.duration_ms,
                )
                if last:
                    await uow.webhooks.advance(hook_id, event_id)
            if outcome is hooks.Outcome.DELIVERED:
                log.info("webhook %s: event %s (%s) delivered", hook_id, event_id, kind)
                return True
            log.warning(
                "webhook %s: event %s attempt %d/%d: %s (%s)",
                hook_id,
                event_id,
                attempt,
                self.max_attempts,
                outcome,
                result.status_code,
            )
            if last:
                break
        log.error("webhook %s: gave up on event %s (%s)", hook_id, event_id, kind)
        return True
