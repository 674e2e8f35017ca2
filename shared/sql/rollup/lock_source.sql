-- One roll-up of a source at a time; ingest never takes this lock, so it keeps running.
SELECT pg_advisory_xact_lock(hashtextextended('ocp-rollup:' || $1::uuid::text, 0))
