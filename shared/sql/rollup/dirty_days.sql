-- Dirty (source, day) marks set no later than $1 (the schedule's time, so a retry sees the same set).
SELECT source_uuid, usage_start, generation
FROM ocp_dirty_day
WHERE marked_at <= $1
ORDER BY source_uuid, usage_start
