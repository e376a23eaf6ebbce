-- Reverts 20250115010200_create_workflow_tasks: indexes first, then the table.
DROP INDEX IF EXISTS idx_workflow_tasks_sequence;
DROP INDEX IF EXISTS idx_workflow_tasks_task_id;
DROP INDEX IF EXISTS idx_workflow_tasks_workflow_id;
DROP TABLE IF EXISTS workflow_tasks;
