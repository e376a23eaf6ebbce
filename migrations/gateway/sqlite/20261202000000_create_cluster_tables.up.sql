-- Gateway's own migration set. What several gateway nodes on one database share besides the events themselves.

-- The event log's own state, one row. epoch: this log's identity, fresh for every new database, so a resume
-- position from another database (a new file, another deployment) is answered with a reset instead of a
-- partial replay. retention_floor: every event with a greater id is still in the log (pruning deletes a prefix
-- of ids and raises the floor in the same transaction), so a resume after a position >= the floor is complete.
CREATE TABLE IF NOT EXISTS gateway_log (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    epoch           TEXT NOT NULL,
    retention_floor INTEGER NOT NULL DEFAULT 0 CHECK (retention_floor >= 0)
);

-- A log that was pruned before this table existed: its floor is one below the oldest event left, or the
-- last id ever taken when none is left.
INSERT OR IGNORE INTO gateway_log (id, epoch, retention_floor)
VALUES (1, lower(hex(randomblob(16))),
        COALESCE((SELECT MIN(id) - 1 FROM gateway_events),
                 (SELECT seq FROM sqlite_sequence WHERE name = 'gateway_events'),
                 0));

-- The node registry: one row per running node, beaten by it. A node claims its row at start (a second live
-- process with the same id is refused), deletes it when it stops; a row whose last_seen is older than the
-- configured Node:LostAfterSeconds belongs to a lost node, whose sessions a live peer closes.
CREATE TABLE IF NOT EXISTS gateway_nodes (
    id          TEXT PRIMARY KEY NOT NULL,
    -- A fresh id per process: tells a live holder of the row from an earlier run of the same node.
    instance_id TEXT NOT NULL,
    version     TEXT NOT NULL,
    -- Where the node listens, as it sees itself (informational: admins and the dashboard show it).
    address     TEXT,
    started_at  TEXT NOT NULL,
    last_seen   TEXT NOT NULL
);

-- Signals between nodes, tailed by every node like the event log: session announcements for every
-- node's admins, and requests to the node holding a connection (an admin's disconnect). Short-lived:
-- pruned after an hour.
CREATE TABLE IF NOT EXISTS gateway_signals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('session.opened', 'session.closed', 'session.disconnect')),
    origin_node TEXT NOT NULL,
    -- The one node the signal is for; NULL: every node.
    target_node TEXT,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    created_at  TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS idx_gateway_signals_created_at ON gateway_signals(created_at);
