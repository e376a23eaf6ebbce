-- Reverts 20250115010400_create_sessions: indexes first, then the table.
DROP INDEX IF EXISTS idx_sessions_created_at;
DROP INDEX IF EXISTS idx_sessions_last_heartbeat;
DROP INDEX IF EXISTS idx_sessions_is_active;
DROP INDEX IF EXISTS idx_sessions_user_id;
DROP INDEX IF EXISTS idx_sessions_client_id;
DROP TABLE IF EXISTS sessions;
