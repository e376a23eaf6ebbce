-- Reverts 20251125000000_create_event_log: indexes first, then the table.
DROP INDEX IF EXISTS idx_gateway_events_created_at;
DROP INDEX IF EXISTS idx_gateway_events_execution_id;
DROP INDEX IF EXISTS idx_gateway_events_workflow_id;
DROP INDEX IF EXISTS idx_gateway_events_task_id;
DROP TABLE IF EXISTS gateway_events;
