"""The collector: one scheduler that runs every source at its own cadence into the store.

The TUI (in live mode) and `collect` both drive this same object. A job is a named coroutine that
returns a SourceBatch; the collector decides when it is due, writes its rows and its fetch-log line
in one transaction, and on failure records the reason and backs off (exponential, with jitter,
never sooner than a 429's Retry-After). Cycles never overlap: `run_due` is awaited to the end
before the next one is computed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bubble_core.errors import SourceError, StoreBusyError
from bubble_core.models import SourceBatch
from bubble_core.store import Store, utcnow

log = logging.getLogger("bubble_monitor.collector")

NEW_YORK = ZoneInfo("America/New_York")
BACKOFF_BASE = dt.timedelta(seconds=30)
# The longest a 429's Retry-After may hold a source back.
MAX_RETRY_AFTER = dt.timedelta(days=1)


def us_market_open(now_utc: dt.datetime) -> bool:
    """Regular US session, Monday to Friday 09:30-16:00 New York time (holidays not modelled)."""
    local = now_utc.replace(tzinfo=dt.UTC).astimezone(NEW_YORK)
    if local.weekday() >= 5:
        return False
    minutes = local.hour * 60 + local.minute
    return 9 * 60 + 30 <= minutes < 16 * 60


@dataclass
class Job:
    """A source poll. `name` is what the fetch log and the status bar call it."""

    name: str
    run: Callable[[dt.datetime], Awaitable[SourceBatch]]
    cadence: Callable[[dt.datetime], dt.timedelta]
    timeout: float = 60.0


@dataclass
class JobState:
    next_due: dt.datetime
    consecutive_failures: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class JobOutcome:
    job: str
    ok: bool
    rows: int
    error: str | None
    next_due: dt.datetime


@dataclass
class Collector:
    store: Store
    jobs: list[Job]
    max_backoff: dt.timedelta = dt.timedelta(minutes=30)
    clock: Callable[[], dt.datetime] = utcnow
    jitter: Callable[[], float] = random.random
    states: dict[str, JobState] = field(default_factory=dict)
    # Jobs in flight: a second `run_due` (a refresh key while a tick runs) must not start them
    # again, or one source would be polled twice at once and its backoff counted twice.
    running: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._restore()

    def _restore(self) -> None:
        """Resume cadence and backoff from the fetch log, so a restart does not hammer a source."""
        now = self.clock()
        health = self.store.source_health() if self.store.path.exists() else {}
        for job in self.jobs:
            info = health.get(job.name)
            state = JobState(next_due=now)
            if info:
                failures = int(info["consecutive_failures"])
                state.consecutive_failures = failures
                state.last_error = info["last_error"] if failures else None
                last_attempt = info["last_attempt"]
                if failures and last_attempt is not None:
                    state.next_due = last_attempt + self.backoff(failures, info["retry_after"])
                elif info["last_success"] is not None:
                    state.next_due = info["last_success"] + job.cadence(now)
            self.states[job.name] = state

    def backoff(self, failures: int, retry_after: float | None = None) -> dt.timedelta:
        """Exponential from 30 s, capped at max_backoff, with jitter in [50 %, 100 %]."""
        exponent = min(max(failures - 1, 0), 20)
        delay = min(BACKOFF_BASE * (2**exponent), self.max_backoff)
        delay = delay * (0.5 + 0.5 * self.jitter())
        if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
            # Honoured, but only up to a day: the header comes from the network, and "inf" or
            # 10^14 s would overflow the datetime arithmetic or park the source for good.
            retry = min(retry_after, MAX_RETRY_AFTER.total_seconds())
            delay = max(delay, dt.timedelta(seconds=retry))
        return delay

    def due(self, now: dt.datetime | None = None) -> list[Job]:
        now = now or self.clock()
        return [job for job in self.jobs if self.states[job.name].next_due <= now]

    def seconds_until_next(self, now: dt.datetime | None = None) -> float:
        now = now or self.clock()
        if not self.jobs:
            return 3600.0
        soonest = min(state.next_due for state in self.states.values())
        return max(0.0, (soonest - now).total_seconds())

    def next_retry(self, job_name: str) -> dt.datetime | None:
        state = self.states.get(job_name)
        return state.next_due if state else None

    async def run_due(self, force: bool = False) -> list[JobOutcome]:
        """Run every due job (all jobs when `force`), sources concurrently, each to completion."""
        now = self.clock()
        jobs = list(self.jobs) if force else self.due(now)
        jobs = [job for job in jobs if job.name not in self.running]
        if not jobs:
            return []
        self.running.update(job.name for job in jobs)
        try:
            return list(await asyncio.gather(*(self._run_one(job) for job in jobs)))
        finally:
            self.running.difference_update(job.name for job in jobs)

    async def _run_one(self, job: Job) -> JobOutcome:
        state = self.states[job.name]
        started = self.clock()
        retry_after: float | None = None
        try:
            batch = await asyncio.wait_for(job.run(started), timeout=job.timeout)
        except SourceError as exc:
            error, retry_after = exc.reason, exc.retry_after
        except TimeoutError:
            error = f"no answer within {job.timeout:.0f}s"
        except Exception as exc:  # a bug or an unexpected payload must not stop the collector
            log.exception("source %s crashed", job.name)
            error = f"unexpected {type(exc).__name__}: {exc}"
        else:
            finished = self.clock()
            if batch.row_count() == 0 and not batch.warnings:
                batch.warnings.append("no new rows")
            try:
                rows = await asyncio.to_thread(
                    self.store.write_batch, job.name, batch, started, finished
                )
            except StoreBusyError as exc:
                # Another process held the file past the retry budget: the poll (one
                # transaction) left nothing behind and is retried like a failed fetch.
                error = f"fetched but not stored: {exc}"
            else:
                state.consecutive_failures = 0
                state.last_error = None
                state.next_due = finished + job.cadence(finished)
                log.info("%s: %d rows%s", job.name, rows,
                         f" ({'; '.join(batch.warnings)})" if batch.warnings else "")
                return JobOutcome(job.name, True, rows, None, state.next_due)
        finished = self.clock()
        state.consecutive_failures += 1
        state.last_error = error
        state.next_due = finished + self.backoff(state.consecutive_failures, retry_after)
        try:
            await asyncio.to_thread(
                self.store.record_failure, job.name, started, finished, error, retry_after
            )
        except StoreBusyError as exc:
            log.warning("%s: failure not recorded in the fetch log: %s", job.name, exc)
        log.warning("%s failed (%d in a row): %s; next try at %s", job.name,
                    state.consecutive_failures, error, state.next_due.isoformat(" ", "seconds"))
        return JobOutcome(job.name, False, 0, error, state.next_due)
