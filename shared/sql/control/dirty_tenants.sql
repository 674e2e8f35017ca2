-- Tenants with a day marked no later than $1 (the schedule's time), from the index alone.
SELECT DISTINCT tenant
FROM ocp_control.ocp_dirty_day_index
WHERE marked_at <= $1
ORDER BY tenant
