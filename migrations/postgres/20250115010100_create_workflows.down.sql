-- Reverts 20250115010100_create_workflows: indexes first, then the table.
DROP INDEX IF EXISTS idx_workflows_name;
DROP INDEX IF EXISTS idx_workflows_created_at;
DROP INDEX IF EXISTS idx_workflows_status;
DROP TABLE IF EXISTS workflows;
