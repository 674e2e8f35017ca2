SELECT object_id, etag, sequencer, state, source_uuid, days, payload_day
FROM ocp_ingested_object
WHERE bucket = $1 AND object_key = $2
