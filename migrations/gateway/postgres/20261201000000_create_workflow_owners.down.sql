-- Reverts 20261201000000_create_workflow_owners: the index, then the table.
DROP INDEX IF EXISTS idx_gateway_workflow_owners_created_by;
DROP TABLE IF EXISTS gateway_workflow_owners;
