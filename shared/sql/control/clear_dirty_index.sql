-- clear_dirty.sql for the control schema's index: exactly the marks the roll-up read. $4 tenant.
DELETE FROM ocp_control.ocp_dirty_day_index i
USING unnest($1::uuid[], $2::date[], $3::bigint[]) AS seen (source_uuid, usage_start, generation)
WHERE i.tenant = $4
  AND i.source_uuid = seen.source_uuid
  AND i.usage_start = seen.usage_start
  AND i.generation = seen.generation
