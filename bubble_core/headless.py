"""The headless commands' bodies: `collect`, `status`, `backtest`."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from bubble_core.config import Config
from bubble_core.errors import BubbleMonitorError, InputError
from bubble_core.store import Store, utcnow

log = logging.getLogger("bubble_monitor.collect")


class CollectorBusyError(BubbleMonitorError):
    exit_code = 1


def _acquire(store: Store) -> Any:
    from bubble_core.lock import CollectorLock

    lock = CollectorLock(store.path)
    if not lock.acquire():
        owner = lock.owner_pid()
        raise CollectorBusyError(
            f"another collector (pid {owner or '?'}) is already writing to {store.path}"
        )
    return lock


def collect_once(config: Config, store: Store, http_client: Any = None, yahoo: Any = None) -> int:
    """Poll every source once. Exit 0 if any succeeded, 1 if all failed (one line each)."""
    lock = _acquire(store)
    try:
        outcomes = asyncio.run(_collect_once(config, store, http_client, yahoo))
    finally:
        lock.release()
    for outcome in outcomes:
        if outcome.ok:
            print(f"{outcome.job}: ok, {outcome.rows} rows")
        else:
            print(f"{outcome.job}: FAILED: {outcome.error}", file=sys.stderr)
    if outcomes and all(not outcome.ok for outcome in outcomes):
        print("bubble-monitor: every source failed; nothing stored", file=sys.stderr)
        return 1
    return 0


async def _collect_once(
    config: Config, store: Store, http_client: Any, yahoo: Any
) -> list[Any]:
    import httpx

    from bubble_core.collector import Collector
    from bubble_core.live import AlertPipeline, build_jobs
    from bubble_core.snapshots import snapshot_from_store

    store.ensure_schema()
    client = http_client or httpx.AsyncClient(follow_redirects=True)
    try:
        jobs = build_jobs(config, store, client, yahoo)
        collector = Collector(store, jobs, max_backoff=config.sources.max_backoff)
        outcomes = await collector.run_due(force=True)
        pipeline = AlertPipeline(config, store)
        snapshot = await asyncio.to_thread(
            snapshot_from_store, store, config, None, None, None, (), False
        )
        await pipeline.evaluate(snapshot, utcnow())
        return outcomes
    finally:
        if http_client is None:
            await client.aclose()


def collect_forever(config: Config, store: Store) -> int:
    lock = _acquire(store)
    try:
        asyncio.run(_collect_forever(config, store))
    finally:
        lock.release()
    return 0


async def _collect_forever(config: Config, store: Store) -> None:
    import httpx

    from bubble_core.collector import Collector
    from bubble_core.live import AlertPipeline, build_jobs
    from bubble_core.snapshots import snapshot_from_store

    store.ensure_schema()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with httpx.AsyncClient(follow_redirects=True) as client:
        jobs = build_jobs(config, store, client)
        collector = Collector(store, jobs, max_backoff=config.sources.max_backoff)
        pipeline = AlertPipeline(config, store)
        log.info("collecting into %s (%d sources)", store.path, len(jobs))
        while not stop.is_set():
            outcomes = await collector.run_due()
            if outcomes:
                snapshot = await asyncio.to_thread(
                    snapshot_from_store, store, config, None, None, collector.next_retry,
                    tuple(job.name for job in jobs), False,
                )
                evaluated = await pipeline.evaluate(snapshot, utcnow())
                for notice in evaluated.notices:
                    log.warning("alert %s %s: %s", notice.rule, notice.status, notice.summary)
            delay = max(collector.seconds_until_next(), 1.0)
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(delay, 60.0))
            except TimeoutError:
                pass
    log.info("collector stopped")


# -- status ------------------------------------------------------------------------------------


def status_document(config: Config, store: Store, as_of: dt.date | None) -> dict[str, Any]:
    from bubble_core.alerts.engine import AlertEngine
    from bubble_core.alerts.rules import load_rules
    from bubble_core.live import SOURCE_NAMES
    from bubble_core.snapshots import snapshot_from_store

    if not store.path.exists():
        raise InputError(str(store.path), "no store here yet (run `collect`, `import` or see "
                         "`bubble-monitor --replay dotcom`)")
    viewer = Store(store.path, read_only=True)
    now = utcnow()
    as_of = as_of or now.date()
    expected = tuple(
        name for name in SOURCE_NAMES
        if getattr(config.sources, name.split("_")[0], True)
    )
    snapshot = snapshot_from_store(
        viewer, config, as_of, now, expected_sources=expected, with_charts=False
    )
    rules = load_rules(config.rules, str(config.path or "config.toml"))
    statuses = AlertEngine(rules, viewer).statuses(now)
    return {
        "as_of": as_of.isoformat(),
        "generated_at": now.replace(microsecond=0).isoformat() + "Z",
        "indicators": {name: value.to_json() for name, value in snapshot.indicators.items()},
        "drawdowns": {symbol: dd.to_json() for symbol, dd in snapshot.drawdowns.items()},
        "events": [event.to_json() for event in snapshot.events],
        "alerts": [status.to_json() for status in statuses if status.state != "inactive"],
        "sources": {name: health.to_json() for name, health in snapshot.sources.items()},
    }


def status_exit_code(document: dict[str, Any]) -> int:
    """Nagios: 2 critical firing, 1 warning firing, 3 stale or missing data, 0 otherwise."""
    firing = [a for a in document["alerts"] if a["state"] in ("firing", "recovering")]
    if any(a["severity"] == "critical" for a in firing):
        return 2
    if any(a["severity"] == "warning" for a in firing):
        return 1
    key = ("nvda_cap_to_gdp", "mag7_cap_to_gdp", "fed_funds_effective")
    if any(document["indicators"][name]["value"] is None for name in key) or any(
        source["stale"] for source in document["sources"].values()
    ):
        return 3
    return 0


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "fraction":
        return f"{value * 100:.2f} %"
    if unit == "percent_points":
        return f"{value * 100:+.2f} pt"
    if unit == "usd":
        return f"{value / 1e9:,.0f} bn$"
    if unit == "usd_bn":
        return f"{value:,.0f} bn$"
    return f"{value:g}"


def status_text(document: dict[str, Any]) -> str:
    lines = [f"bubble-monitor status as of {document['as_of']}", ""]
    lines.append(f"{'indicator':<26} {'value':>12} {'reference':>12}  {'as of':<10}  note")
    for name, item in document["indicators"].items():
        unit = item["unit"]
        note = item["reason"] or ("STALE" if item["stale"] else "")
        ref = _fmt(item["reference"], unit) if item["reference"] is not None else ""
        lines.append(
            f"{name:<26} {_fmt(item['value'], unit):>12} {ref:>12}  "
            f"{item['as_of'] or '-':<10}  {item['source'] or ''} {note}".rstrip()
        )
    if document["drawdowns"]:
        lines += ["", f"{'symbol':<8} {'last':>10} {'date':<10} {'drawdown':>9} "
                  f"{'peak date':<10} {'days':>5} {'max dd':>8} {'recovered':<10}"]
        for symbol, dd in document["drawdowns"].items():
            lines.append(
                f"{symbol:<8} {dd['last']:>10,.2f} {dd['last_date']:<10} "
                f"{dd['drawdown'] * 100:>8.2f}% {dd['peak_date']:<10} {dd['days_since_peak']:>5} "
                f"{dd['max_drawdown'] * 100:>7.2f}% {dd['recovery_date'] or '-':<10}"
            )
    lines += ["", "alerts:"]
    if not document["alerts"]:
        lines.append("  none firing or pending")
    for alert in document["alerts"]:
        lines.append(
            f"  {alert['state']:<10} {alert['severity']:<8} {alert['rule']}: {alert['summary']}"
        )
    lines += ["", "sources:"]
    for name, source in document["sources"].items():
        state = "STALE" if source["stale"] else "ok"
        error = f"  last error: {source['last_error']}" if source["last_error"] else ""
        lines.append(
            f"  {name:<13} {state:<6} last success: {source['last_success'] or 'never'}{error}"
        )
    return "\n".join(lines)


# -- backtest ----------------------------------------------------------------------------------


def backtest_main(config: Config, scenario: str, rules_file: Path | None, as_json: bool) -> int:
    import tomllib

    from bubble_core.alerts.rules import load_rules
    from bubble_core.replay import run_backtest

    user_rules = list(config.rules)
    where = str(config.path or "config.toml")
    if rules_file is not None:
        try:
            document = tomllib.loads(rules_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(str(rules_file), "no such file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(str(rules_file), f"not valid TOML ({exc})") from None
        extra = document.get("rules", [])
        if not isinstance(extra, list):
            raise InputError(f"{rules_file}:rules", "must be an array of tables ([[rules]])")
        unknown = set(document) - {"rules"}
        if unknown:
            raise InputError(f"{rules_file}:{sorted(unknown)[0]}", "unknown key")
        user_rules += extra
        where = str(rules_file)
    rules = load_rules(user_rules, where)
    timeline = run_backtest(config, scenario, rules)
    if as_json:
        print(json.dumps({"scenario": scenario,
                          "timeline": [entry.to_json() for entry in timeline]}, indent=2))
        return 0
    print(f"backtest {scenario}: {len(timeline)} alert transitions")
    for entry in timeline:
        value = "" if entry.value is None else f"{entry.value:>9.4f}"
        print(f"{entry.date}  {entry.status.upper():<8} {entry.severity:<8} {entry.rule:<28} "
              f"{value}  {entry.summary}")
    return 0
