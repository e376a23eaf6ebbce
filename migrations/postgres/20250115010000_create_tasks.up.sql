-- Tasks: the unit of work the orchestrator hands to an agent.
-- Ids are TEXT (UUIDs), timestamps TIMESTAMPTZ, JSON columns TEXT checked by json_valid
-- (defined here: PostgreSQL 15 has no IS JSON), so a payload is served back byte for byte. Idempotent: safe to run again on a migrated database.
-- json_valid(text) as SQLite's: true for a well-formed JSON document. Used by the CHECKs of every JSON column.
CREATE OR REPLACE FUNCTION json_valid(document TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    PERFORM document::json;
    RETURN TRUE;
EXCEPTION WHEN others THEN
    RETURN FALSE;
END;
$$;

CREATE TABLE IF NOT EXISTS tasks (
    id             TEXT PRIMARY KEY NOT NULL,
    title          TEXT NOT NULL,
    description    TEXT,
    task_type      TEXT NOT NULL,
    -- The orchestrator's set (pending, running, completed, failed, cancelled) plus queued and
    -- paused. The legal transitions between them are enforced by the application: a CHECK
    -- cannot see the old value.
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'queued', 'running', 'paused', 'completed', 'failed', 'cancelled')),
    config         TEXT NOT NULL DEFAULT '{}',
    metadata       TEXT,
    workspace_path TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at     TIMESTAMPTZ,
    completed_at   TIMESTAMPTZ,
    error          TEXT,
    -- config is required JSON, metadata optional JSON: a malformed document never lands.
    CHECK (json_valid(config) AND (metadata IS NULL OR json_valid(metadata)))
);

-- Dashboards filter by status and type and page by creation time; agents look tasks up by workspace.
CREATE INDEX IF NOT EXISTS idx_tasks_status ON tasks(status);
CREATE INDEX IF NOT EXISTS idx_tasks_task_type ON tasks(task_type);
CREATE INDEX IF NOT EXISTS idx_tasks_created_at ON tasks(created_at);
CREATE INDEX IF NOT EXISTS idx_tasks_workspace_path ON tasks(workspace_path);
