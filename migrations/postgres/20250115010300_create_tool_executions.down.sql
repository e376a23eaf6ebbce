-- Reverts 20250115010300_create_tool_executions: indexes first, then the table.
DROP INDEX IF EXISTS idx_tool_executions_created_at;
DROP INDEX IF EXISTS idx_tool_executions_status;
DROP INDEX IF EXISTS idx_tool_executions_tool_name;
DROP INDEX IF EXISTS idx_tool_executions_task_id;
DROP TABLE IF EXISTS tool_executions;
