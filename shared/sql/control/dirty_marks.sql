-- Every tenant's dirty (source, day) marks set no later than $1, from the index alone: the
-- planner's one query, whatever the number of tenants.
SELECT tenant, source_uuid, usage_start, generation
FROM ocp_control.ocp_dirty_day_index
WHERE marked_at <= $1
ORDER BY tenant, source_uuid, usage_start
