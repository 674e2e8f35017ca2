-- koku keeps one payload per (source, report type, day) (spec §1, §2.3 "Day replacement"): the one
-- covering the most hours of the day, ties going to the higher manifest id (its post-write pass);
-- within it every file counts. koku deletes the others' objects only after it writes, and maybe
-- never, so ingest records every payload and the roll-up counts the kept one's objects alone.
--
-- An object version's payload tag comes from its S3 user metadata (`manifestid`, else the file
-- name; `reportdatestart`; `reportnumhours`); all three or none. Objects without one (non-daily
-- operators, hand uploads) always count.
ALTER TABLE ocp_ingested_object
    ADD COLUMN manifest_id   text,
    ADD COLUMN payload_day   date,
    ADD COLUMN payload_hours integer,
    ADD CONSTRAINT ocp_ingested_object_payload_whole CHECK (
        (manifest_id IS NULL) = (payload_day IS NULL)
        AND (payload_hours IS NULL) = (payload_day IS NULL)
    );

-- The roll-up and the view below read the present objects of one source.
CREATE INDEX ocp_ingested_object_payload
    ON ocp_ingested_object (source_uuid, report_type, payload_day)
    WHERE state = 'present';

-- Every present object and whether it counts: `payload_status` is 'counted' or
-- 'superseded by manifest <id>' (the kept payload of its day). Manifest ids compare as numbers
-- when they are (koku's rule), else as text. Filters on source_uuid, report_type and payload_day
-- reach inside the window (they are its partition), so one day's ranking reads one day's objects.
CREATE VIEW ocp_object_payload AS
SELECT object_id, bucket, object_key, source_uuid, report_type, days,
       manifest_id, payload_day, payload_hours, kept_manifest_id,
       payload_day IS NULL
           OR (payload_hours = kept_hours AND manifest_id = kept_manifest_id) AS counted,
       CASE
           WHEN payload_day IS NULL
               OR (payload_hours = kept_hours AND manifest_id = kept_manifest_id) THEN 'counted'
           ELSE 'superseded by manifest ' || kept_manifest_id
       END AS payload_status
FROM (
    SELECT o.object_id, o.bucket, o.object_key, o.source_uuid, o.report_type, o.days,
           o.manifest_id, o.payload_day, o.payload_hours,
           first_value(o.manifest_id) OVER kept AS kept_manifest_id,
           first_value(o.payload_hours) OVER kept AS kept_hours
    FROM ocp_ingested_object o
    WHERE o.state = 'present'
    WINDOW kept AS (
        PARTITION BY o.source_uuid, o.report_type, o.payload_day
        ORDER BY o.payload_hours DESC,
                 o.manifest_id ~ '^[0-9]{1,18}$' DESC,
                 CASE WHEN o.manifest_id ~ '^[0-9]{1,18}$' THEN o.manifest_id::bigint END DESC,
                 o.manifest_id COLLATE "C" DESC
    )
) ranked;
