-- Reverts 20250115010000_create_tasks: indexes first, then the table.
DROP INDEX IF EXISTS idx_tasks_workspace_path;
DROP INDEX IF EXISTS idx_tasks_created_at;
DROP INDEX IF EXISTS idx_tasks_task_type;
DROP INDEX IF EXISTS idx_tasks_status;
DROP TABLE IF EXISTS tasks;
DROP FUNCTION IF EXISTS json_valid(TEXT);
