-- koku's usage-only GPU replacement (gpu spec §5.2): every row of the source on the chunk's days.
-- $1 source uuid, $2 days.
DELETE FROM reporting_ocp_gpu_summary_p
WHERE usage_start = ANY ($2::date[])
  AND source_uuid = $1
