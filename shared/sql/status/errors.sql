-- status: the number of error rows and the latest $1 of them.
SELECT object_key, reason, failed_at, count(*) OVER () AS total
FROM ocp_ingest_error
ORDER BY failed_at DESC, id DESC
LIMIT $1
