-- status: per source, its objects by state, the days they cover and the days waiting for a roll-up.
SELECT o.source_uuid,
       count(*) FILTER (WHERE o.state = 'present')  AS present,
       count(*) FILTER (WHERE o.state = 'removed')  AS removed,
       count(*) FILTER (WHERE o.state = 'failed')   AS failed,
       max(o.updated_at)                            AS last_change,
       (SELECT count(*) FROM ocp_dirty_day d WHERE d.source_uuid = o.source_uuid) AS dirty_days,
       (SELECT min(d.usage_start) FROM ocp_dirty_day d WHERE d.source_uuid = o.source_uuid) AS first_dirty,
       (SELECT max(d.usage_start) FROM ocp_dirty_day d WHERE d.source_uuid = o.source_uuid) AS last_dirty
FROM ocp_ingested_object o
WHERE o.source_uuid IS NOT NULL
GROUP BY o.source_uuid
ORDER BY o.source_uuid
