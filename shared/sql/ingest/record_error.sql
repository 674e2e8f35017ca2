INSERT INTO ocp_ingest_error (bucket, object_key, etag, sequencer, reason)
VALUES ($1, $2, $3, $4, $5)
