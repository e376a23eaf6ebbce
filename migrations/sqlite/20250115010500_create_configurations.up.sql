-- configurations: key-value settings; value is TEXT interpreted by value_type.
CREATE TABLE IF NOT EXISTS configurations (
    key         TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL,
    value_type  TEXT NOT NULL DEFAULT 'string'
                CHECK (value_type IN ('string', 'integer', 'float', 'boolean', 'json')),
    description TEXT,
    -- A secret's value is never sent in clear to those who may not read it.
    is_secret   INTEGER NOT NULL DEFAULT 0 CHECK (is_secret IN (0, 1)),
    created_at  TEXT NOT NULL DEFAULT (datetime('now')),
    updated_at  TEXT NOT NULL DEFAULT (datetime('now'))
);

CREATE INDEX IF NOT EXISTS idx_configurations_value_type ON configurations(value_type);
CREATE INDEX IF NOT EXISTS idx_configurations_is_secret ON configurations(is_secret);
CREATE INDEX IF NOT EXISTS idx_configurations_updated_at ON configurations(updated_at);
