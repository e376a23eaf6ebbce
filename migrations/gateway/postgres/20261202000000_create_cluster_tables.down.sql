-- Reverts 20261202000000_create_cluster_tables.
DROP INDEX IF EXISTS idx_gateway_signals_created_at;
DROP TABLE IF EXISTS gateway_signals;
DROP TABLE IF EXISTS gateway_nodes;
DROP TABLE IF EXISTS gateway_log;
