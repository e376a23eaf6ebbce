-- Gateway's own migration set. Who created each workflow through the gateway: the workflows table has no
-- column for it, and the definition is the orchestrator's document, which Gateway does not alter. Agents
-- change only the workflows they created; a workflow without a row here (written by the orchestrator itself)
-- is changed by admins only. No foreign key to workflows: the orchestrator owns that table, and a later
-- migration of its own that rebuilds it (create, copy, drop, rename) would cascade-delete every owner; a
-- row whose workflow is gone is harmless and never read.
CREATE TABLE IF NOT EXISTS gateway_workflow_owners (
    workflow_id TEXT PRIMARY KEY NOT NULL,
    -- The token's subject (sub) of the agent or admin that created the workflow.
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS idx_gateway_workflow_owners_created_by ON gateway_workflow_owners(created_by);
