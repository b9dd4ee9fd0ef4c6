"""A stand-in for `bubble-monitor collect` whose polls are recognisable: python writer.py STORE ...

It drives the product's own Collector and Store (Collector.run_due -> Store.write_batch, one
transaction per poll) with one fake source that returns, for poll number P:

* ROWS daily bars (symbols W000...), dated day P, with volume = P;
* ROWS intraday bars of the same symbols at minute P, with volume = P;
* one macro observation POLL on day P with value P;
* the warning "poll P", which write_batch puts into the poll's fetch-log line.

So a poll is complete when all 2 * ROWS + 1 rows of P and its fetch-log line are there, and the
crash tests can tell a partial poll from a missing one. After each committed poll the writer
prints "P <unix time>" (flushed): every poll it printed must survive a kill -9.

With --lock it holds the collector lock like `collect` does, so a second collector is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time

from bubble_core.collector import Collector, Job
from bubble_core.lock import CollectorLock
from bubble_core.models import DailyBar, IntradayBar, MacroObservation, SourceBatch
from bubble_core.store import Store

DAY0 = dt.date(1900, 1, 1)
MINUTE0 = dt.datetime(1900, 1, 1)


def batch_for(poll: int, rows: int) -> SourceBatch:
    day = DAY0 + dt.timedelta(days=poll)
    minute = MINUTE0 + dt.timedelta(minutes=poll)
    symbols = [f"W{index:03d}" for index in range(rows)]
    return SourceBatch(
        daily_bars=[DailyBar(s, day, 100.0 + i, volume=float(poll))
                    for i, s in enumerate(symbols)],
        intraday_bars=[IntradayBar(s, minute, 100.0 + i, volume=float(poll))
                       for i, s in enumerate(symbols)],
        macro=[MacroObservation("POLL", day, float(poll))],
        warnings=[f"poll {poll}"],
    )


async def run(args: argparse.Namespace) -> None:
    store = Store(args.store)
    store.ensure_schema()
    if args.lock:
        lock = CollectorLock(store.path)
        if not lock.acquire():
            print("lock busy", flush=True)
            sys.exit(1)
    counter = {"poll": args.first}

    async def poll(now: dt.datetime) -> SourceBatch:
        return batch_for(counter["poll"], args.rows)

    job = Job("writer", poll, lambda now: dt.timedelta(seconds=args.interval))
    collector = Collector(store, [job], jitter=lambda: 1.0)
    print("ready", flush=True)
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline and counter["poll"] < args.first + args.polls:
        outcomes = await collector.run_due(force=True)
        if outcomes and outcomes[0].ok:
            print(f"{counter['poll']} {time.time():.6f}", flush=True)
            counter["poll"] += 1
        await asyncio.sleep(args.interval)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--polls", type=int, default=10**6)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--lock", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
