-- The control schema (ocp_control), used only when objects are routed to their tenant's schema
-- (DB_SCHEMA unset). It holds what is shared across tenants and nothing of any tenant's usage:
-- a tenant's partials, object versions, error rows, dirty marks and summaries stay in its schema.
-- Applied to the control schema only; tenant schemas never get these tables.

-- Objects whose key names no tenant (a malformed or hostile account part, or under
-- TENANTS=existing a tenant without a schema): nothing of them is written anywhere else. One row
-- per key, the latest event's.
CREATE TABLE IF NOT EXISTS ocp_rejected_object (
    bucket      text NOT NULL,
    object_key  text NOT NULL,
    etag        text,
    sequencer   text,
    reason      text NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bucket, object_key)
);

-- Every tenant's dirty (source, day) marks, mirrored from the tenant's ocp_dirty_day in the
-- transaction that sets them and cleared with them, so the roll-up finds the dirty days of all
-- tenants with one indexed query instead of visiting every schema. It names tenants, sources
-- and days only: no usage, no label, no key.
CREATE TABLE IF NOT EXISTS ocp_dirty_day_index (
    tenant      text NOT NULL,
    source_uuid uuid NOT NULL,
    usage_start date NOT NULL,
    generation  bigint NOT NULL,
    marked_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant, source_uuid, usage_start)
);
CREATE INDEX IF NOT EXISTS ocp_dirty_day_index_marked ON ocp_dirty_day_index (marked_at);
