-- A redelivery or a re-upload of identical content: only the sequencer moves forward.
UPDATE ocp_ingested_object SET sequencer = $3, updated_at = now()
WHERE bucket = $1 AND object_key = $2
