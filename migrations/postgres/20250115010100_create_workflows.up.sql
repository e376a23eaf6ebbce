-- Workflows: a named definition (JSON) that groups tasks in sequence.
CREATE TABLE IF NOT EXISTS workflows (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    -- The definition is required and must be a JSON document.
    definition  TEXT NOT NULL CHECK (json_valid(definition)),
    -- The orchestrator's set (draft, active, paused, archived) plus the outcomes of a run
    -- (completed, failed, cancelled), so a finished workflow says how it ended.
    status      TEXT NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'active', 'paused', 'completed', 'failed', 'cancelled', 'archived')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS idx_workflows_status ON workflows(status);
CREATE INDEX IF NOT EXISTS idx_workflows_created_at ON workflows(created_at);
CREATE INDEX IF NOT EXISTS idx_workflows_name ON workflows(name);
