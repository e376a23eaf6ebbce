-- Reverts 20250115010600_create_triggers.
DROP TRIGGER IF EXISTS trg_configurations_updated_at ON configurations;
DROP TRIGGER IF EXISTS trg_sessions_updated_at ON sessions;
DROP TRIGGER IF EXISTS trg_workflows_updated_at ON workflows;
DROP TRIGGER IF EXISTS trg_tasks_updated_at ON tasks;
DROP FUNCTION IF EXISTS set_updated_at();
