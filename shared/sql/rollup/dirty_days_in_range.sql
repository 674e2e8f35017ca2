-- The marks of one source's days, for a manual run. $1 source, $2 first day, $3 last day.
SELECT source_uuid, usage_start, generation
FROM ocp_dirty_day
WHERE source_uuid = $1 AND usage_start BETWEEN $2 AND $3
ORDER BY usage_start
