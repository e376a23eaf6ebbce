-- sessions: one row per client connection, kept fresh by heartbeats.
CREATE TABLE IF NOT EXISTS sessions (
    id              TEXT PRIMARY KEY NOT NULL,
    -- Stable across a client's reconnects; a new connection gets a new session id.
    client_id       TEXT NOT NULL,
    user_id         TEXT,
    -- The orchestrator's set (websocket, http, grpc) plus the two other SignalR transports.
    connection_type TEXT NOT NULL
                    CHECK (connection_type IN ('websocket', 'http', 'grpc', 'server_sent_events', 'long_polling')),
    is_active       BOOLEAN NOT NULL DEFAULT TRUE,
    metadata        TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_heartbeat  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS idx_sessions_client_id ON sessions(client_id);
CREATE INDEX IF NOT EXISTS idx_sessions_user_id ON sessions(user_id);
CREATE INDEX IF NOT EXISTS idx_sessions_is_active ON sessions(is_active);
-- The stale-session reaper scans by last_heartbeat.
CREATE INDEX IF NOT EXISTS idx_sessions_last_heartbeat ON sessions(last_heartbeat);
CREATE INDEX IF NOT EXISTS idx_sessions_created_at ON sessions(created_at);
