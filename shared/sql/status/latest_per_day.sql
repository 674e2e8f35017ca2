-- status: the latest present object of each of a source's last $2 days with data.
SELECT day, object_key, report_type, updated_at
FROM (
    SELECT DISTINCT ON (day) day, o.object_key, o.report_type, o.updated_at
    FROM ocp_ingested_object o, unnest(o.days) AS day
    WHERE o.source_uuid = $1 AND o.state = 'present'
    ORDER BY day DESC, o.updated_at DESC, o.object_key
) latest
ORDER BY day DESC
LIMIT $2
