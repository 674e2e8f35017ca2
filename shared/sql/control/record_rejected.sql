-- An object whose key names no tenant: recorded, nothing else written. $1 bucket, $2 key, $3 ETag,
-- $4 sequencer, $5 reason.
INSERT INTO ocp_control.ocp_rejected_object AS r (bucket, object_key, etag, sequencer, reason)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (bucket, object_key) DO UPDATE SET
    etag = excluded.etag,
    sequencer = excluded.sequencer,
    reason = excluded.reason,
    rejected_at = now()
