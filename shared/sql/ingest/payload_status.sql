-- Whether a just-written object counts, or which manifest's payload its day keeps instead (for the
-- log; the roll-up reads the same view). $1 source, $2 report type, $3 payload day, $4 object id.
SELECT payload_status
FROM ocp_object_payload
WHERE source_uuid = $1 AND report_type = $2 AND payload_day = $3 AND object_id = $4
