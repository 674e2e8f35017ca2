-- Which migrations this schema has applied.
CREATE TABLE IF NOT EXISTS ocp_schema_migration (
    version    int PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
