"""The alert state machine: rules in, notifications out, state kept in DuckDB (or in memory).

States, per rule (Prometheus + Grafana semantics, shared/reference/alerting.md):

    inactive --breach--> pending --held `for`--> firing --past `clear`--> recovering
        ^                   |                      ^  |                       |
        |  (silently) <-----+  no longer breached  |  +-- keep_firing_for=0 --+--> resolved
        |                                          +---- back inside `clear` -+      (inactive)
        +------------------------------------------------------------------------------+

* The firing condition is `value op threshold`; once firing (or recovering) the alert is judged
  against `clear` instead (hysteresis), so it resolves only when the value is past `clear`.
* A pending alert whose condition stops holding goes back to inactive without a notification.
* Notifications: on firing, on resolved (only if that episode's firing was notified, as
  Alertmanager does), and again for a still-firing alert once `repeat` has elapsed since the
  last one. A firing alert whose notification was muted by a silence is notified when the
  silence ends, if it is still firing then.
* No data (value None or NaN) or a stale sample keeps the last state: nothing moves, nothing is
  notified, `for` keeps counting from when the breach began. A stale source instead raises one
  synthetic `SourceStale:<source>` alert, whatever the number of rules it feeds.
* Events (a change of the Fed's target range) notify once per event: the event key goes into
  `events_seen`. An event older than `event_max_age` when first seen (the history of past Fed
  moves on a first run) is recorded as seen without a notification.
* Silences mute notifications of matching alerts (exact name or a glob such as `Nasdaq*`); the
  alerts keep their state and stay visible, with `silenced_until`.

With a Store, every evaluation reads and writes alert_state, alert_history, silences and
events_seen in one writer transaction, so a restart neither resets a `for` in progress nor
notifies again. With `store=None` state lives in memory (rule tests, backtests).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import getpass
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bubble_core.alerts.masking import mask_secrets
from bubble_core.alerts.rules import SEVERITY_RANK, STALE_PREFIX, Rule, render_summary
from bubble_core.durations import format_duration, parse_duration
from bubble_core.errors import InputError
from bubble_core.snapshot import AlertStatus, FedTargetChange, Snapshot, SourceHealth
from bubble_core.store import Store, utcnow

STATES: tuple[str, ...] = ("inactive", "pending", "firing", "recovering")
_STATE_ORDER = {"firing": 0, "recovering": 1, "pending": 2, "inactive": 3}
DEFAULT_EVENT_MAX_AGE = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Notification:
    """One thing to tell the user: an alert that fired or resolved, or an event."""

    rule: str
    status: str  # firing | resolved
    severity: str  # info | warning | critical
    summary: str
    value: float | None
    at: dt.datetime
    source: str | None = None  # article row id
    indicator: str = ""
    kind: str = "rule"  # rule | event | stale | test
    # A reminder of an alert that was already firing and notified (after `repeat`), not a
    # change of state: remote channels send it, a replay's toasts skip it.
    reminder: bool = False

    @property
    def title(self) -> str:
        word = "RESOLVED" if self.status == "resolved" else self.severity.upper()
        return f"[{word}] {self.rule}"

    @property
    def body(self) -> str:
        return f"{self.summary} (article {self.source})" if self.source else self.summary


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    matcher: str  # a rule name, or a glob of rule names
    starts: dt.datetime
    ends: dt.datetime
    comment: str = ""
    created_by: str = ""

    def matches(self, rule: str) -> bool:
        return self.matcher == rule or fnmatch.fnmatchcase(rule, self.matcher)

    def active(self, now: dt.datetime) -> bool:
        return self.starts <= now < self.ends


@dataclass(slots=True)
class _State:
    rule: str
    state: str = "inactive"
    active_since: dt.datetime | None = None
    firing_since: dt.datetime | None = None
    recovering_since: dt.datetime | None = None
    last_value: float | None = None
    last_eval: dt.datetime | None = None
    last_notified: dt.datetime | None = None
    summary: str = ""
    since: dt.datetime | None = None  # last transition; from alert_history, not a column

    def row(self) -> tuple[Any, ...]:
        return (
            self.rule,
            self.state,
            self.active_since,
            self.firing_since,
            self.recovering_since,
            self.last_value,
            self.last_eval,
            self.last_notified,
            self.summary,
        )

    def notified_this_episode(self) -> bool:
        return (
            self.last_notified is not None
            and self.firing_since is not None
            and self.last_notified >= self.firing_since
        )


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


# -- where state lives: memory or one DuckDB transaction -----------------------------------------


class _MemoryTx:
    def __init__(self) -> None:
        self.states: dict[str, _State] = {}
        self.silences: list[Silence] = []
        self.seen: dict[str, dt.datetime] = {}
        self.history: list[tuple[Any, ...]] = []

    def load_states(self) -> dict[str, _State]:
        return {name: dataclasses.replace(st) for name, st in self.states.items()}

    def load_silences(self) -> list[Silence]:
        return list(self.silences)

    def load_seen(self) -> set[str]:
        return set(self.seen)

    def save(
        self,
        states: Iterable[_State],
        history: Sequence[tuple[Any, ...]],
        seen: dict[str, dt.datetime],
    ) -> None:
        for st in states:
            self.states[st.rule] = dataclasses.replace(st)
        self.history.extend(history)
        self.seen.update(seen)

    def add_silence(self, silence: Silence) -> Silence:
        silence = dataclasses.replace(silence, id=len(self.silences) + 1)
        self.silences.append(silence)
        return silence


class _DbTx:
    """Reads and writes on a connection the caller holds (one transaction per evaluation)."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def load_states(self) -> dict[str, _State]:
        rows = self.con.execute(
            """
            SELECT s.rule, s.state, s.active_since, s.firing_since, s.recovering_since,
                   s.last_value, s.last_eval, s.last_notified, s.summary, h.since
            FROM alert_state s
            LEFT JOIN (SELECT rule, max(ts) AS since FROM alert_history GROUP BY rule) h
                   USING (rule)
            """
        ).fetchall()
        states: dict[str, _State] = {}
        for row in rows:
            state = row[1] if row[1] in STATES else "inactive"
            states[row[0]] = _State(
                row[0], state, row[2], row[3], row[4], row[5], row[6], row[7], row[8] or "", row[9]
            )
        return states

    def load_silences(self) -> list[Silence]:
        rows = self.con.execute(
            "SELECT id, matcher, starts, ends, comment, created_by FROM silences ORDER BY id"
        ).fetchall()
        return [Silence(int(r[0]), r[1], r[2], r[3], r[4] or "", r[5] or "") for r in rows]

    def load_seen(self) -> set[str]:
        return {row[0] for row in self.con.execute("SELECT event_key FROM events_seen").fetchall()}

    def save(
        self,
        states: Iterable[_State],
        history: Sequence[tuple[Any, ...]],
        seen: dict[str, dt.datetime],
    ) -> None:
        rows = [st.row() for st in states]
        if rows:
            self.con.executemany(
                "INSERT OR REPLACE INTO alert_state (rule, state, active_since, firing_since, "
                "recovering_since, last_value, last_eval, last_notified, summary) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        if history:
            self.con.executemany(
                "INSERT OR REPLACE INTO alert_history (rule, ts, from_state, to_state, value, "
                "summary) VALUES (?, ?, ?, ?, ?, ?)",
                list(history),
            )
        if seen:
            self.con.executemany(
                "INSERT OR REPLACE INTO events_seen (event_key, ts) VALUES (?, ?)",
                list(seen.items()),
            )

    def add_silence(self, silence: Silence) -> Silence:
        row = self.con.execute(
            "INSERT INTO silences (matcher, starts, ends, comment, created_by) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            [silence.matcher, silence.starts, silence.ends, silence.comment, silence.created_by],
        ).fetchone()
        return dataclasses.replace(silence, id=int(row[0]))


# -- the engine ----------------------------------------------------------------------------------


class AlertEngine:
    """Evaluates rules against snapshots. Not thread-safe: one evaluating caller at a time."""

    def __init__(
        self,
        rules: Sequence[Rule],
        store: Store | None = None,
        *,
        event_max_age: dt.timedelta = DEFAULT_EVENT_MAX_AGE,
        stale_severity: str = "warning",
        stale_repeat: dt.timedelta = dt.timedelta(hours=24),
    ) -> None:
        names = [rule.name for rule in rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule names: {', '.join(duplicates)}")
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._by_name = {rule.name: rule for rule in self.rules}
        self._store = store
        self._memory = _MemoryTx()
        self.event_max_age = event_max_age
        self.stale_severity = stale_severity
        self.stale_repeat = stale_repeat

    # -- evaluation ------------------------------------------------------------------------------

    def evaluate(self, snapshot: Snapshot, now: dt.datetime) -> list[Notification]:
        """One evaluation at `now` (naive UTC; simulated in replays and rule tests)."""
        now = _naive_utc(now)
        if self._store is None:
            return self._evaluate(self._memory, snapshot, now)
        with self._store.writer() as con:
            return self._evaluate(_DbTx(con), snapshot, now)

    def _evaluate(self, tx: Any, snapshot: Snapshot, now: dt.datetime) -> list[Notification]:
        states = tx.load_states()
        before = {name: st.row() for name, st in states.items()}
        silences = [s for s in tx.load_silences() if s.active(now)]
        seen = tx.load_seen()
        new_seen: dict[str, dt.datetime] = {}
        history: list[tuple[Any, ...]] = []
        notes: list[Notification] = []

        for rule in self.rules:
            st = states.setdefault(rule.name, _State(rule.name))
            silenced = any(s.matches(rule.name) for s in silences)
            if rule.is_event:
                notes.extend(self._events(rule, st, snapshot, now, seen, new_seen, silenced))
            else:
                note = self._threshold(rule, st, snapshot, now, history, silenced)
                if note is not None:
                    notes.append(note)

        for source, health in sorted(snapshot.sources.items()):
            name = STALE_PREFIX + source
            st = states.setdefault(name, _State(name))
            silenced = any(s.matches(name) for s in silences)
            note = self._stale_source(source, health, st, now, history, silenced)
            if note is not None:
                notes.append(note)

        changed = [st for name, st in states.items() if before.get(name) != st.row()]
        tx.save(changed, history, new_seen)
        return notes

    def _threshold(
        self,
        rule: Rule,
        st: _State,
        snapshot: Snapshot,
        now: dt.datetime,
        history: list[tuple[Any, ...]],
        silenced: bool,
    ) -> Notification | None:
        value, stale, _ = snapshot.sample(rule.indicator)
        if value is None or stale or not math.isfinite(value):
            return None  # no data keeps the last state: a closed market is not a recovery
        value = float(value)
        st.last_value = value
        st.last_eval = now
        st.summary = render_summary(rule.summary, rule.fields(value))
        was_notified_firing = st.state in ("firing", "recovering") and st.last_notified is not None
        status = _advance(
            st, now, rule.breached(value), rule.holds(value), rule.for_, rule.keep_firing_for,
            history,
        )
        if not _should_notify(st, status, now, rule.repeat, silenced):
            return None
        return Notification(
            rule=rule.name,
            status=status,
            severity=rule.severity,
            summary=st.summary,
            value=value,
            at=now,
            source=rule.source,
            indicator=rule.indicator,
            reminder=status == "firing" and was_notified_firing,
        )

    def _stale_source(
        self,
        source: str,
        health: SourceHealth,
        st: _State,
        now: dt.datetime,
        history: list[tuple[Any, ...]],
        silenced: bool,
    ) -> Notification | None:
        stale = bool(health.stale)
        st.last_value = float(health.consecutive_failures)
        st.last_eval = now
        if stale:
            success = health.last_success
            last = success.strftime("%Y-%m-%d %H:%M UTC") if success else "never"
            error = mask_secrets(health.last_error) if health.last_error else ""
            attempts = health.consecutive_failures
            st.summary = (
                f"{source} is stale: last success {last}"
                + (f", {attempts} failed attempt{'s' if attempts != 1 else ''}" if attempts else "")
                + (f" ({error})" if error else "")
                + "; its rules keep their last state"
            )
        elif st.state != "inactive":
            st.summary = f"Data source {source} is fresh again"
        status = _advance(st, now, stale, stale, dt.timedelta(0), dt.timedelta(0), history)
        if not _should_notify(st, status, now, self.stale_repeat, silenced):
            return None
        return Notification(
            rule=st.rule,
            status=status,
            severity=self.stale_severity,
            summary=st.summary,
            value=st.last_value,
            at=now,
            source=None,
            indicator=f"source.{source}",
            kind="stale",
        )

    def _events(
        self,
        rule: Rule,
        st: _State,
        snapshot: Snapshot,
        now: dt.datetime,
        seen: set[str],
        new_seen: dict[str, dt.datetime],
        silenced: bool,
    ) -> list[Notification]:
        notes: list[Notification] = []
        events = [e for e in snapshot.events if _event_kind(e) == rule.indicator]
        for event in sorted(events, key=lambda e: e.date):
            key = f"{rule.name}/{event.key}"
            if key in seen or key in new_seen:
                continue
            new_seen[key] = now
            summary = render_summary(rule.summary, _event_fields(rule, event))
            st.last_value = float(event.change)
            st.last_eval = now
            st.summary = summary
            st.since = now
            if event.date < now.date() - self.event_max_age or silenced:
                continue
            st.last_notified = now
            notes.append(
                Notification(
                    rule=rule.name,
                    status="firing",
                    severity=rule.severity,
                    summary=summary,
                    value=float(event.change),
                    at=now,
                    source=rule.source,
                    indicator=rule.indicator,
                    kind="event",
                )
            )
        return notes

    # -- what the TUI and `status` show ----------------------------------------------------------

    def statuses(self, now: dt.datetime) -> list[AlertStatus]:
        """Every rule's state, inactive ones included, plus every non-inactive SourceStale alert.

        Sorted firing, recovering, pending, inactive; then by severity (critical first), name.
        With a store the state is read from it, so a read-only viewer sees the collector's.
        """
        now = _naive_utc(now)
        states, silences = self._read_for_display()
        active = [s for s in silences if s.active(now)]
        result: list[AlertStatus] = []
        for rule in self.rules:
            st = states.get(rule.name) or _State(rule.name)
            result.append(
                AlertStatus(
                    rule=rule.name,
                    state=st.state,
                    severity=rule.severity,
                    indicator=rule.indicator,
                    value=st.last_value,
                    # An event rule stays inactive; its "since" is its last event.
                    since=st.since or _entered(st) or (st.last_eval if rule.is_event else None),
                    summary=st.summary,
                    source=rule.source,
                    silenced_until=_silenced_until(rule.name, active),
                    last_notified=st.last_notified,
                )
            )
        for name, st in sorted(states.items()):
            if not name.startswith(STALE_PREFIX) or st.state == "inactive":
                continue
            result.append(
                AlertStatus(
                    rule=name,
                    state=st.state,
                    severity=self.stale_severity,
                    indicator="source." + name[len(STALE_PREFIX) :],
                    value=st.last_value,
                    since=st.since or _entered(st),
                    summary=st.summary,
                    source=None,
                    silenced_until=_silenced_until(name, active),
                    last_notified=st.last_notified,
                )
            )
        result.sort(
            key=lambda a: (_STATE_ORDER.get(a.state, 9), -SEVERITY_RANK.get(a.severity, 0), a.rule)
        )
        return result

    def _read_for_display(self) -> tuple[dict[str, _State], list[Silence]]:
        if self._store is None:
            return self._memory.load_states(), self._memory.load_silences()
        try:
            with self._store.reader() as con:
                tx = _DbTx(con)
                return tx.load_states(), tx.load_silences()
        except FileNotFoundError:
            return {}, []

    # -- silences --------------------------------------------------------------------------------

    def silence(
        self,
        matcher: str,
        until: dt.datetime,
        comment: str,
        created_by: str,
        *,
        starts: dt.datetime | None = None,
    ) -> Silence:
        """Mute notifications of alerts matching `matcher` (a name or glob) until `until`.

        `starts` defaults to the wall clock; a replay passes its simulated time.
        """
        if not matcher or not matcher.strip():
            raise InputError("silence", "needs a rule name or a glob of rule names")
        until = _naive_utc(until)
        begin = _naive_utc(starts) if starts is not None else min(utcnow(), until)
        silence = Silence(0, matcher, begin, until, comment or "", created_by or "")
        if self._store is None:
            return self._memory.add_silence(silence)
        with self._store.writer() as con:
            return _DbTx(con).add_silence(silence)

    def unsilence(self, matcher: str, now: dt.datetime) -> int:
        """End the active silences with exactly this matcher; returns how many."""
        now = _naive_utc(now)
        if self._store is None:
            count = 0
            for index, silence in enumerate(self._memory.silences):
                if silence.matcher == matcher and silence.active(now):
                    self._memory.silences[index] = dataclasses.replace(silence, ends=now)
                    count += 1
            return count
        with self._store.writer() as con:
            rows = con.execute(
                "UPDATE silences SET ends = ? WHERE matcher = ? AND starts <= ? AND ends > ? "
                "RETURNING id",
                [now, matcher, now, now],
            ).fetchall()
        return len(rows)

    def active_silences(self, now: dt.datetime) -> list[Silence]:
        now = _naive_utc(now)
        _, silences = self._read_for_display()
        return [s for s in silences if s.active(now)]


# -- the state machine, shared by rules and stale-source alerts ----------------------------------


def _advance(
    st: _State,
    now: dt.datetime,
    breached: bool,
    holds: bool,
    for_: dt.timedelta,
    keep_firing_for: dt.timedelta,
    history: list[tuple[Any, ...]],
) -> str | None:
    """Move `st` one evaluation on. Returns "firing" while firing (the caller checks whether a
    notification is due), "resolved" on the transition that resolves a notified episode, else
    None."""
    old = st.state
    resolved = False
    if old == "inactive":
        if breached:
            st.active_since = now
            if for_ <= dt.timedelta(0):
                st.state, st.firing_since = "firing", now
            else:
                st.state = "pending"
    elif old == "pending":
        if not breached:
            st.state, st.active_since = "inactive", None
        elif now - (st.active_since or now) >= for_:
            st.state, st.firing_since = "firing", now
    elif old == "firing":
        if not holds:
            if keep_firing_for > dt.timedelta(0):
                st.state, st.recovering_since = "recovering", now
            else:
                resolved = True
    elif old == "recovering":
        if holds:
            st.state, st.recovering_since = "firing", None
        elif now - (st.recovering_since or now) >= keep_firing_for:
            resolved = True
    status: str | None = None
    if resolved:
        if st.notified_this_episode():
            status = "resolved"
        st.state = "inactive"
        st.active_since = st.firing_since = st.recovering_since = None
    if st.state != old:
        st.since = now
        history.append((st.rule, now, old, st.state, st.last_value, st.summary))
    if st.state == "firing":
        status = "firing"
    return status


def _should_notify(
    st: _State, status: str | None, now: dt.datetime, repeat: dt.timedelta, silenced: bool
) -> bool:
    """Notify a change (or a still-firing alert once `repeat` has passed) unless silenced; a
    notification sent is remembered in the state."""
    if status is None or silenced:
        return False
    if status == "firing" and not _repeat_due(st, now, repeat):
        return False
    st.last_notified = now
    return True


def _repeat_due(st: _State, now: dt.datetime, repeat: dt.timedelta) -> bool:
    if not st.notified_this_episode():
        return True
    assert st.last_notified is not None
    return now - st.last_notified >= repeat


def _entered(st: _State) -> dt.datetime | None:
    return {
        "pending": st.active_since,
        "firing": st.firing_since,
        "recovering": st.recovering_since,
    }.get(st.state)


def _silenced_until(name: str, silences: Sequence[Silence]) -> dt.datetime | None:
    ends = [s.ends for s in silences if s.matches(name)]
    return max(ends) if ends else None


def _event_kind(event: Any) -> str:
    if isinstance(event, FedTargetChange):
        return "event.fed_target_change"
    return "event." + str(getattr(event, "kind", type(event).__name__))


def _event_fields(rule: Rule, event: FedTargetChange) -> dict[str, Any]:
    if event.lower is not None:
        span = f"{event.lower:.2f}-{event.upper:.2f} %"
    else:
        span = f"{event.upper:.2f} %"
    return {
        "value": event.change,
        "change": event.change,
        "lower": event.lower,
        "upper": event.upper,
        "range": span,
        "date": event.date.isoformat(),
        "indicator": rule.indicator,
        "name": rule.name,
        "source": rule.source or "",
    }


# -- the `silence` command -----------------------------------------------------------------------


def cmd_silence(
    store: Store,
    name: str,
    duration: dt.timedelta | str,
    comment: str,
    *,
    created_by: str | None = None,
    now: dt.datetime | None = None,
    known: Iterable[str] | None = None,
) -> str:
    """`bubble-monitor silence NAME --for 4h --comment "..."`: store a silence, return one line.

    `known` (the rule names) makes a matcher that matches no alert an InputError; SourceStale:*
    names are always accepted.
    """
    if not name or not name.strip():
        raise InputError("silence", "needs a rule name (or a glob such as 'Nasdaq*')")
    if isinstance(duration, str):
        try:
            duration = parse_duration(duration)
        except ValueError as exc:
            raise InputError("silence --for", str(exc)) from None
    if duration <= dt.timedelta(0):
        raise InputError("silence --for", "must be a positive duration, e.g. 4h")
    if known is not None and not name.startswith(STALE_PREFIX):
        names = list(known)
        probe = Silence(0, name, dt.datetime.min, dt.datetime.max)
        if not any(probe.matches(rule) for rule in names):
            raise InputError("silence", f"no alert rule matches {name!r}")
    start = _naive_utc(now) if now is not None else utcnow()
    until = start + duration
    who = created_by or _whoami()
    engine = AlertEngine([], store)
    engine.silence(name, until, comment, who, starts=start)
    text = (
        f"Silenced {name} until {until:%Y-%m-%d %H:%M} UTC ({format_duration(duration)})"
    )
    return text + (f": {comment}" if comment else "")


def _whoami() -> str:
    try:
        return getpass.getuser() + "@cli"
    except Exception:
        return "cli"
