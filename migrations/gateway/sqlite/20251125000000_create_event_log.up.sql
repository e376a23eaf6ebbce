-- Gateway's own migration set (recorded in _gateway_migrations, never in the orchestrator's
-- _sqlx_migrations). The event log: every change Gateway persists appends its events here in the
-- same transaction, so an event exists exactly when its change does.
CREATE TABLE IF NOT EXISTS gateway_events (
    -- AUTOINCREMENT: ids strictly increase and are never reused, even after old events are pruned,
    -- so a client's last seen id is a safe resume position.
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The orchestrator's vocabulary: task.status, task.progress, tool.output, workflow.progress, ...
    event_type   TEXT NOT NULL,
    -- 0 low (progress, output), 1 normal (status, completions, tool start), 2 high (failures).
    priority     INTEGER NOT NULL CHECK (priority IN (0, 1, 2)),
    -- What the event is about; no foreign keys: the events of a deleted task stay in the log.
    task_id      TEXT,
    workflow_id  TEXT,
    execution_id TEXT,
    payload      TEXT NOT NULL CHECK (json_valid(payload)),
    created_at   TEXT NOT NULL DEFAULT (datetime('now'))
);

-- Replay for one task, workflow or tool execution after a position; retention pruning by age.
CREATE INDEX IF NOT EXISTS idx_gateway_events_task_id ON gateway_events(task_id, id);
CREATE INDEX IF NOT EXISTS idx_gateway_events_workflow_id ON gateway_events(workflow_id, id);
CREATE INDEX IF NOT EXISTS idx_gateway_events_execution_id ON gateway_events(execution_id, id);
CREATE INDEX IF NOT EXISTS idx_gateway_events_created_at ON gateway_events(created_at);
