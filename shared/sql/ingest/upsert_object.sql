-- Records the object's new version; returns its id (stable across versions of one key).
INSERT INTO ocp_ingested_object AS o
    (bucket, object_key, etag, sequencer, state, report_type, source_uuid, days,
     rows_read, partial_rows, bytes_fetched, object_size, manifest_id, payload_day, payload_hours,
     updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now())
ON CONFLICT (bucket, object_key) DO UPDATE SET
    etag = excluded.etag,
    sequencer = excluded.sequencer,
    state = excluded.state,
    report_type = excluded.report_type,
    source_uuid = excluded.source_uuid,
    days = excluded.days,
    rows_read = excluded.rows_read,
    partial_rows = excluded.partial_rows,
    bytes_fetched = excluded.bytes_fetched,
    object_size = excluded.object_size,
    manifest_id = excluded.manifest_id,
    payload_day = excluded.payload_day,
    payload_hours = excluded.payload_hours,
    updated_at = now()
RETURNING object_id
