-- Mirrors the marks mark_dirty.sql just set into the control schema's index, in the same
-- transaction. $1 source, $2 days, $3 tenant schema.
INSERT INTO ocp_control.ocp_dirty_day_index AS i
    (tenant, source_uuid, usage_start, generation, marked_at)
SELECT $3, d.source_uuid, d.usage_start, d.generation, d.marked_at
FROM ocp_dirty_day d
WHERE d.source_uuid = $1 AND d.usage_start = ANY ($2::date[])
ORDER BY d.usage_start
ON CONFLICT (tenant, source_uuid, usage_start) DO UPDATE
SET generation = excluded.generation, marked_at = excluded.marked_at
