"""Delivery of notifications through Apprise's async API, with a recorded, retried outbox.

* Each notification goes to every URL of `[notify] urls` whose minimum severity allows it
  (`url_min_severity` per URL, else `min_severity`). Resolved notices use the alert's severity.
* Each URL is its own Apprise object, so each delivery has its own result. `async_notify` runs
  the blocking plugin in Apprise's thread pool and is bounded by `[notify] timeout` (and an
  outer `asyncio.wait_for`), so a hanging endpoint never blocks the event loop or the caller
  for longer than that.
* Every attempt is recorded: a DeliveryRecord returned to the caller (for the TUI) and a row in
  the `notifications` table (channel = the masked URL), updated in place by its retries.
* A failed delivery is queued and retried by later calls (`deliver()` retries whatever is due,
  or call `retry_due(now)`), with exponential backoff 30s, 1m, 2m, ... capped at 30m, at most
  `max_attempts` attempts. Nothing ever sleeps for a backoff.
* URLs and tokens are masked (bubble_core.alerts.masking) in every record, row and message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from bubble_core.alerts.engine import Notification
from bubble_core.alerts.masking import mask_secrets, mask_url
from bubble_core.alerts.rules import SEVERITY_RANK
from bubble_core.alerts.terminal import detect_method, terminal_notification
from bubble_core.config import Config, NotifyConfig
from bubble_core.durations import format_duration
from bubble_core.snapshot import DeliveryRecord
from bubble_core.store import Store, utcnow

TEST_TITLE = "bubble-monitor test notification"
TEST_BODY = (
    "This is a test from `bubble-monitor notify-test`. If you can read it, bubble-monitor's "
    "alerts reach you here."
)
_MAX_ERROR = 300


@dataclass(slots=True, eq=False)
class PendingRetry:
    """A failed delivery waiting for its next attempt (the TUI shows these)."""

    url: str = dataclasses.field(repr=False)
    rule: str
    status: str
    title: str
    body: str
    notify_type: str
    summary: str
    attempts: int
    next_due: dt.datetime
    last_error: str | None = None
    row_id: int | None = None
    in_flight: bool = False

    @property
    def channel(self) -> str:
        return mask_url(self.url)


def _notify_type(severity: str, status: str) -> str:
    if status == "resolved":
        return "success"
    return {"critical": "failure", "warning": "warning"}.get(severity, "info")


class Notifier:
    """Sends notifications to the configured Apprise URLs. One instance lives as long as the app.

    Not meant to be shared by concurrent callers of `deliver`, but overlapping calls never send
    one queued retry twice.
    """

    def __init__(
        self,
        config: NotifyConfig,
        store: Store | None = None,
        *,
        backoff: dt.timedelta = dt.timedelta(seconds=30),
        backoff_cap: dt.timedelta = dt.timedelta(minutes=30),
        max_attempts: int = 10,
        keep_recent: int = 200,
    ) -> None:
        self.config = config
        self._store = store if store is not None and not store.read_only else None
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.max_attempts = max(1, max_attempts)
        self._queue: list[PendingRetry] = []
        self._recent: deque[DeliveryRecord] = deque(maxlen=keep_recent)
        self._apprise: dict[str, Any] = {}
        self._reloaded = False

    # -- routing ---------------------------------------------------------------------------------

    def urls_for(self, severity: str) -> list[str]:
        """The configured URLs whose minimum severity lets `severity` through."""
        rank = SEVERITY_RANK.get(severity, 0)
        chosen = []
        for url in self.config.urls:
            minimum = self.config.url_min_severity.get(url, self.config.min_severity)
            if rank >= SEVERITY_RANK.get(minimum, 1):
                chosen.append(url)
        return chosen

    def delay_after(self, attempts: int) -> dt.timedelta:
        """Backoff before the next attempt, after `attempts` failed ones: 30s, 1m, 2m, ..."""
        seconds = self.backoff.total_seconds() * (2 ** max(0, attempts - 1))
        return dt.timedelta(seconds=min(seconds, self.backoff_cap.total_seconds()))

    # -- sending ---------------------------------------------------------------------------------

    async def deliver(
        self, notifications: Sequence[Notification], now: dt.datetime
    ) -> list[DeliveryRecord]:
        """Send each notification to its URLs, then retry the queued failures that are due.

        Returns one DeliveryRecord per attempt made. Never waits for a backoff: a failure is
        queued and retried by a later call.
        """
        now = _naive(now)
        await self._reload_queue(now)
        jobs = [
            PendingRetry(
                url=url,
                rule=n.rule,
                status=n.status,
                title=n.title,
                body=n.body,
                notify_type=_notify_type(n.severity, n.status),
                summary=n.summary,
                attempts=0,
                next_due=now,
                in_flight=True,
            )
            for n in notifications
            for url in self.urls_for(n.severity)
        ]
        records = await self._attempt(jobs, now, new=True)
        records += await self.retry_due(now)
        return records

    async def retry_due(self, now: dt.datetime) -> list[DeliveryRecord]:
        """Retry every queued failure whose backoff has elapsed by `now`."""
        now = _naive(now)
        await self._reload_queue(now)
        due = [item for item in self._queue if not item.in_flight and item.next_due <= now]
        for item in due:
            item.in_flight = True
        return await self._attempt(due, now, new=False)

    def pending_retries(self) -> list[PendingRetry]:
        """Failed deliveries still queued, soonest first."""
        return sorted(self._queue, key=lambda item: item.next_due)

    async def _attempt(
        self, items: list[PendingRetry], now: dt.datetime, *, new: bool
    ) -> list[DeliveryRecord]:
        if not items:
            return []
        outcomes = await asyncio.gather(
            *(self._send(item.url, item.title, item.body, item.notify_type) for item in items)
        )
        records: list[DeliveryRecord] = []
        for item, (ok, error) in zip(items, outcomes, strict=True):
            item.attempts += 1
            item.in_flight = False
            self._queue = [queued for queued in self._queue if queued is not item]
            if not ok:
                if item.attempts < self.max_attempts:
                    wait = self.delay_after(item.attempts)
                    item.next_due = now + wait
                    error = (
                        f"{error} (attempt {item.attempts}/{self.max_attempts}; "
                        f"retry in {format_duration(wait)})"
                    )
                    self._queue.append(item)
                else:
                    error = f"{error} (gave up after {item.attempts} attempts)"
                item.last_error = error
            records.append(
                DeliveryRecord(
                    ts=now,
                    rule=item.rule,
                    status=item.status,
                    channel=item.channel,
                    ok=ok,
                    error=None if ok else error,
                )
            )
        self._recent.extend(records)
        if self._store is not None:
            await asyncio.to_thread(self._persist, items, records, new)
        return records

    def _apprise_for(self, url: str) -> Any | None:
        if url not in self._apprise:
            import apprise  # deferred: 0.1 s of imports that `status` does not need

            instance = apprise.Apprise()
            self._apprise[url] = instance if instance.add(url) else None
        return self._apprise[url]

    async def _send(
        self, url: str, title: str, body: str, notify_type: str
    ) -> tuple[bool, str | None]:
        """One delivery to one URL: (ok, masked error)."""
        timeout = max(1.0, self.config.timeout.total_seconds())
        try:
            instance = self._apprise_for(url)
            if instance is None:
                return False, (
                    "Apprise cannot use this URL (unknown scheme, bad format, or its plugin's "
                    "library is not installed)"
                )
            result = await asyncio.wait_for(
                instance.async_notify(
                    body=body, title=title, notify_type=notify_type, timeout=timeout
                ),
                timeout=timeout + 2.0,
            )
        except TimeoutError:
            return False, f"timed out after {timeout:g}s"
        except Exception as exc:
            return False, self._mask(f"{type(exc).__name__}: {exc}")
        if bool(result):
            return True, None
        return False, self._describe(result, timeout)

    def _describe(self, result: Any, timeout: float) -> str:
        status = getattr(getattr(result, "status", None), "name", "FAILURE")
        if status == "TIMEOUT":
            head = f"timed out after {timeout:g}s"
        elif status == "NOMATCH":
            head = "no Apprise service matched"
        else:
            head = "delivery failed"
        messages: list[str] = []
        try:
            for entry in result.logs():
                if getattr(entry, "level", "") in ("WARNING", "ERROR", "CRITICAL"):
                    text = str(entry.message).strip()
                    if text and text not in messages:
                        messages.append(text)
        except Exception:
            pass
        text = head + (": " + "; ".join(messages) if messages else "")
        return self._mask(text)

    def _mask(self, text: str) -> str:
        masked = mask_secrets(text, self.config.urls)
        return masked if len(masked) <= _MAX_ERROR else masked[: _MAX_ERROR - 1] + "\u2026"

    # -- notify-test -----------------------------------------------------------------------------

    async def send_test(self) -> list[DeliveryRecord]:
        """One test notification to every configured URL, whatever its minimum severity."""
        now = utcnow()
        urls = list(self.config.urls)
        outcomes = await asyncio.gather(
            *(self._send(url, TEST_TITLE, TEST_BODY, "info") for url in urls)
        )
        records = [
            DeliveryRecord(
                ts=now, rule="notify-test", status="test", channel=mask_url(url), ok=ok,
                error=None if ok else error,
            )
            for url, (ok, error) in zip(urls, outcomes, strict=True)
        ]
        self._recent.extend(records)
        if self._store is not None:
            items = [
                PendingRetry(url, "notify-test", "test", TEST_TITLE, TEST_BODY, "info",
                             TEST_TITLE, 1, now)
                for url in urls
            ]
            await asyncio.to_thread(self._persist, items, records, True)
        return records

    # -- the record ------------------------------------------------------------------------------

    def recent(self, limit: int = 50) -> list[DeliveryRecord]:
        """The latest delivery records, newest first (from the store when there is one)."""
        if self._store is None:
            return list(reversed(self._recent))[:limit]
        return recent_deliveries(self._store, limit)

    def _persist(
        self, items: Sequence[PendingRetry], records: Sequence[DeliveryRecord], new: bool
    ) -> None:
        assert self._store is not None
        with self._store.writer() as con:
            for item, record in zip(items, records, strict=True):
                if new or item.row_id is None:
                    row = con.execute(
                        "INSERT INTO notifications (ts, rule, status, channel, ok, error, "
                        "attempts, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        [record.ts, record.rule, record.status, record.channel, record.ok,
                         record.error, item.attempts, item.summary],
                    ).fetchone()
                    item.row_id = int(row[0])
                else:
                    con.execute(
                        "UPDATE notifications SET ts = ?, ok = ?, error = ?, attempts = ? "
                        "WHERE id = ?",
                        [record.ts, record.ok, record.error, item.attempts, item.row_id],
                    )

    async def _reload_queue(self, now: dt.datetime) -> None:
        """After a restart, pick up failed deliveries of the last day that were still queued.

        A row is matched back to its URL through the masked channel; a channel that several
        configured URLs mask to is ambiguous and is not retried.
        """
        if self._reloaded or self._store is None:
            return
        self._reloaded = True
        by_channel: dict[str, list[str]] = {}
        for url in self.config.urls:
            by_channel.setdefault(mask_url(url), []).append(url)
        try:
            rows = await asyncio.to_thread(
                self._store.query,
                "SELECT id, ts, rule, status, channel, attempts, summary, error "
                "FROM notifications WHERE NOT ok AND attempts < ? AND ts >= ? "
                "AND status IN ('firing', 'resolved') ORDER BY id",
                [self.max_attempts, now - dt.timedelta(days=1)],
            )
        except Exception:
            return
        for row_id, ts, rule, status, channel, attempts, summary, error in rows:
            urls = by_channel.get(channel, [])
            if len(urls) != 1 or any(item.row_id == row_id for item in self._queue):
                continue
            word = "RESOLVED" if status == "resolved" else "ALERT"
            self._queue.append(
                PendingRetry(
                    url=urls[0],
                    rule=rule,
                    status=status,
                    title=f"[{word}] {rule}",
                    body=summary or "",
                    notify_type="success" if status == "resolved" else "warning",
                    summary=summary or "",
                    attempts=int(attempts),
                    next_due=ts + self.delay_after(int(attempts)),
                    last_error=error,
                    row_id=int(row_id),
                )
            )


def recent_deliveries(store: Store, limit: int = 50) -> list[DeliveryRecord]:
    """The latest rows of the notifications table as DeliveryRecords, newest first."""
    rows = store.query(
        "SELECT ts, rule, status, channel, ok, error FROM notifications ORDER BY id DESC LIMIT ?",
        [int(limit)],
    )
    return [DeliveryRecord(ts, rule, status, channel, bool(ok), error)
            for ts, rule, status, channel, ok, error in rows]


def _naive(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


# -- `bubble-monitor notify-test` ----------------------------------------------------------------


async def notify_test_main(
    config: Config | NotifyConfig,
    *,
    out: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    notifier: Notifier | None = None,
) -> int:
    """Send one test notification to every channel and print one line each; 1 if any failed.

    The channels are the Apprise URLs and, when standard output is a terminal, the terminal
    notification sequence (whose arrival cannot be confirmed). No URL configured is an error.
    """
    stream = out if out is not None else sys.stdout
    notify = config.notify if isinstance(config, Config) else config
    where = str(config.path) if isinstance(config, Config) and config.path else "config.toml"
    if not notify.urls:
        print(
            f"notify-test: no notification URL configured; add for example\n"
            f"  [notify]\n  urls = [\"ntfy://your-topic\"]\nto {where}",
            file=stream,
        )
        return 1
    sender = notifier or Notifier(notify, None)
    records = await sender.send_test()
    failed = 0
    for record in records:
        if record.ok:
            print(f"ok    {record.channel}", file=stream)
        else:
            failed += 1
            print(f"FAIL  {record.channel}: {record.error}", file=stream)
    if notify.terminal != "off" and _isatty(stream):
        environment = env if env is not None else os.environ
        method = detect_method(environment) if notify.terminal == "auto" else notify.terminal
        stream.write(terminal_notification(TEST_TITLE, "notify-test", environment, method=method))
        print(f"sent  terminal ({method}; its arrival cannot be confirmed)", file=stream)
    total = len(records)
    print(
        f"notify-test: {total - failed} of {total} channel(s) delivered"
        + (f", {failed} failed" if failed else ""),
        file=stream,
    )
    return 1 if failed else 0


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
