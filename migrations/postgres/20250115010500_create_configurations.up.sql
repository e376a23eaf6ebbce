-- configurations: key-value settings; value is TEXT interpreted by value_type.
CREATE TABLE IF NOT EXISTS configurations (
    key         TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL,
    value_type  TEXT NOT NULL DEFAULT 'string'
                CHECK (value_type IN ('string', 'integer', 'float', 'boolean', 'json')),
    description TEXT,
    -- A secret's value is never sent in clear to those who may not read it.
    is_secret   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS idx_configurations_value_type ON configurations(value_type);
CREATE INDEX IF NOT EXISTS idx_configurations_is_secret ON configurations(is_secret);
CREATE INDEX IF NOT EXISTS idx_configurations_updated_at ON configurations(updated_at);
