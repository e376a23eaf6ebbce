-- tool_executions: the audit log of every tool an agent ran for a task.
CREATE TABLE IF NOT EXISTS tool_executions (
    id           TEXT PRIMARY KEY NOT NULL,
    -- The task the tool ran for; its executions go with it (ON DELETE CASCADE).
    task_id      TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    tool_name    TEXT NOT NULL,
    arguments    TEXT NOT NULL,
    output       TEXT,
    -- The orchestrator's set (pending, running, completed, failed, timeout) plus cancelled,
    -- for executions stopped because their task was cancelled.
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timeout', 'cancelled')),
    error        TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- When the tool began running; duration_ms = completed_at - started_at.
    started_at   TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    duration_ms  BIGINT CHECK (duration_ms IS NULL OR duration_ms >= 0)
);

-- idx_tool_executions_task_id doubles as the foreign-key lookup index.
CREATE INDEX IF NOT EXISTS idx_tool_executions_task_id ON tool_executions(task_id);
CREATE INDEX IF NOT EXISTS idx_tool_executions_tool_name ON tool_executions(tool_name);
CREATE INDEX IF NOT EXISTS idx_tool_executions_status ON tool_executions(status);
CREATE INDEX IF NOT EXISTS idx_tool_executions_created_at ON tool_executions(created_at);
