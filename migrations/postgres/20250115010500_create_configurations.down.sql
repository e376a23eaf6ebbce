-- Reverts 20250115010500_create_configurations: indexes first, then the table.
DROP INDEX IF EXISTS idx_configurations_updated_at;
DROP INDEX IF EXISTS idx_configurations_is_secret;
DROP INDEX IF EXISTS idx_configurations_value_type;
DROP TABLE IF EXISTS configurations;
