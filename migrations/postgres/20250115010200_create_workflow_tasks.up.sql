-- workflow_tasks: which tasks belong to which workflow, and in what order.
-- Deleting a workflow or a task removes its links (ON DELETE CASCADE).
CREATE TABLE IF NOT EXISTS workflow_tasks (
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    task_id     TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    -- Position of the task in the workflow, from 0. Not unique, so that a reorder can be
    -- written row by row inside one transaction.
    sequence    INTEGER NOT NULL CHECK (sequence >= 0),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, task_id)
);

CREATE INDEX IF NOT EXISTS idx_workflow_tasks_workflow_id ON workflow_tasks(workflow_id);
CREATE INDEX IF NOT EXISTS idx_workflow_tasks_task_id ON workflow_tasks(task_id);
-- Reading a workflow's tasks in order.
CREATE INDEX IF NOT EXISTS idx_workflow_tasks_sequence ON workflow_tasks(workflow_id, sequence);
