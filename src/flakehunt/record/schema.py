"""The database layout and its migrations, versioned with ``PRAGMA user_version``.

Each entry of ``MIGRATIONS`` moves the schema from version i to i + 1. Never
edit a released migration: append a new one, so old databases upgrade in place.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: campaigns, their variants, and every run.
    """
    CREATE TABLE campaigns (
        id            INTEGER PRIMARY KEY,
        uuid          TEXT NOT NULL UNIQUE,
        kind          TEXT NOT NULL,            -- run | compare | bisect | pytest
        created       REAL NOT NULL,
        finished      REAL,
        state         TEXT NOT NULL,            -- running | finished | interrupted
        host          TEXT NOT NULL,
        version       TEXT NOT NULL,            -- flakehunt version that created it
        spec_json     TEXT NOT NULL,            -- everything needed to --resume
        title         TEXT NOT NULL             -- the command, for listings
    );
    CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        run_id        TEXT NOT NULL UNIQUE,     -- FLAKEHUNT_RUN_ID; merge key across hosts
        campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
        variant       TEXT NOT NULL,
        seq           INTEGER NOT NULL,
        block         INTEGER NOT NULL,
        slot          INTEGER NOT NULL,
        host          TEXT NOT NULL,
        worker        TEXT NOT NULL DEFAULT '',
        platform      TEXT NOT NULL,            -- posix | windows: primary status reading
        concurrency   INTEGER NOT NULL,
        load_profile  TEXT NOT NULL DEFAULT '',
        started       REAL NOT NULL,
        duration      REAL NOT NULL,
        returncode    INTEGER,                  -- raw; Python convention (-N = signal N)
        status_label  TEXT NOT NULL,            -- decoded, e.g. "SIGSEGV (-11)"
        outcome       TEXT NOT NULL,            -- pass | fail | timeout | ignored | ...
        signature     TEXT,                     -- signatures.id for failures
        pid           INTEGER,
        max_rss_kb    INTEGER,
        user_cpu      REAL,
        sys_cpu       REAL,
        core_dumped   INTEGER NOT NULL DEFAULT 0,
        evidence_path TEXT,                     -- relative to the evidence root, or NULL
        output_tail   BLOB,                     -- last 64 KiB of a failure's output
        note          TEXT                      -- why it could not start, left running...
    );
    CREATE INDEX runs_campaign ON runs(campaign_id, variant, outcome);
    CREATE TABLE signatures (
        campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
        id            TEXT NOT NULL,
        title         TEXT NOT NULL,
        PRIMARY KEY (campaign_id, id)
    );
    """,
    # 2: evidence of each run (issue 5): was a core kept, and why not; the rest
    # (kept files and hashes, telemetry summary, hooks, chkimg) as one JSON document.
    """
    ALTER TABLE runs ADD COLUMN core_captured INTEGER;
    ALTER TABLE runs ADD COLUMN core_reason TEXT;
    ALTER TABLE runs ADD COLUMN evidence_json TEXT;
    """,
    # 3 (bisect): each probe of a bisect campaign; its runs live in their own
    # "run" campaign (probe_campaign_id), so show/failures work on them as usual.
    """
    CREATE TABLE bisect_probes (
        id                INTEGER PRIMARY KEY,
        bisect_id         INTEGER NOT NULL REFERENCES campaigns(id),
        seq               INTEGER NOT NULL,
        position          INTEGER NOT NULL,     -- 0 = the older end of the search
        commit_sha        TEXT NOT NULL,
        phase             TEXT NOT NULL,        -- calibrate | probe
        runs              INTEGER NOT NULL,     -- counted runs (see --signature)
        failures          INTEGER NOT NULL,
        probe_campaign_id INTEGER REFERENCES campaigns(id),
        skipped           TEXT,                 -- why the commit could not be tested
        recorded          REAL NOT NULL,
        UNIQUE (bisect_id, seq)
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
