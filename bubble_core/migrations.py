"""Forward-only schema migrations of the DuckDB store.

Each entry moves the schema from version i to i+1; the store applies the missing ones in order, in
one transaction each, and records the version in `meta`. Never edit a released migration: append.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: history, fetch log, alert state
    """
    CREATE TABLE daily_bars (
        symbol VARCHAR NOT NULL,
        date DATE NOT NULL,
        open DOUBLE, high DOUBLE, low DOUBLE,
        close DOUBLE NOT NULL,
        adj_close DOUBLE,
        volume DOUBLE,
        source VARCHAR NOT NULL,
        PRIMARY KEY (symbol, date)
    );
    CREATE TABLE intraday_bars (
        symbol VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,          -- bar open, UTC
        close DOUBLE NOT NULL,
        volume DOUBLE,
        source VARCHAR NOT NULL,
        PRIMARY KEY (symbol, ts)
    );
    CREATE TABLE shares_outstanding (
        symbol VARCHAR NOT NULL,
        date DATE NOT NULL,
        shares DOUBLE NOT NULL,
        source VARCHAR NOT NULL,
        PRIMARY KEY (symbol, date)
    );
    CREATE TABLE market_caps (
        symbol VARCHAR NOT NULL,
        date DATE NOT NULL,
        market_cap DOUBLE NOT NULL,      -- USD
        source VARCHAR NOT NULL,
        PRIMARY KEY (symbol, date)
    );
    CREATE TABLE macro_observations (
        series_id VARCHAR NOT NULL,
        date DATE NOT NULL,
        value DOUBLE NOT NULL,           -- as published: percent for rates, USD bn for GDP
        source VARCHAR NOT NULL,
        PRIMARY KEY (series_id, date)
    );
    CREATE TABLE fetch_log (
        source VARCHAR NOT NULL,
        started TIMESTAMP NOT NULL,      -- UTC
        finished TIMESTAMP NOT NULL,
        ok BOOLEAN NOT NULL,
        error VARCHAR,
        rows INTEGER NOT NULL,
        retry_after DOUBLE,
        PRIMARY KEY (source, started)
    );
    CREATE TABLE alert_state (
        rule VARCHAR PRIMARY KEY,
        state VARCHAR NOT NULL,          -- inactive | pending | firing | recovering
        active_since TIMESTAMP,
        firing_since TIMESTAMP,
        recovering_since TIMESTAMP,
        last_value DOUBLE,
        last_eval TIMESTAMP,
        last_notified TIMESTAMP,
        summary VARCHAR
    );
    CREATE TABLE alert_history (
        rule VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        from_state VARCHAR NOT NULL,
        to_state VARCHAR NOT NULL,
        value DOUBLE,
        summary VARCHAR,
        PRIMARY KEY (rule, ts, to_state)
    );
    CREATE SEQUENCE notification_id START 1;
    CREATE TABLE notifications (
        id BIGINT PRIMARY KEY DEFAULT nextval('notification_id'),
        ts TIMESTAMP NOT NULL,
        rule VARCHAR NOT NULL,
        status VARCHAR NOT NULL,         -- firing | resolved
        channel VARCHAR NOT NULL,
        ok BOOLEAN NOT NULL,
        error VARCHAR,
        attempts INTEGER NOT NULL DEFAULT 1,
        summary VARCHAR
    );
    CREATE SEQUENCE silence_id START 1;
    CREATE TABLE silences (
        id BIGINT PRIMARY KEY DEFAULT nextval('silence_id'),
        matcher VARCHAR NOT NULL,        -- rule name, or a glob of rule names
        starts TIMESTAMP NOT NULL,
        ends TIMESTAMP NOT NULL,
        comment VARCHAR,
        created_by VARCHAR
    );
    CREATE TABLE events_seen (
        event_key VARCHAR PRIMARY KEY,
        ts TIMESTAMP NOT NULL
    );
    """,
    # 2: minute bars without a primary key. The (symbol, ts) index was 87 % of their size and
    # made bulk imports 7x slower; writes keep them unique by replacing a symbol's time span
    # (store.replace_intraday), and rows are kept in (symbol, ts) order for DuckDB's zone maps.
    """
    CREATE TABLE intraday_bars_v2 (
        symbol VARCHAR NOT NULL,
        ts TIMESTAMP NOT NULL,
        close DOUBLE NOT NULL,
        volume DOUBLE,
        source VARCHAR NOT NULL
    );
    INSERT INTO intraday_bars_v2 SELECT * FROM intraday_bars ORDER BY symbol, ts;
    DROP TABLE intraday_bars;
    ALTER TABLE intraday_bars_v2 RENAME TO intraday_bars;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
