-- One roll-up of a source per schema at a time; ingest never takes this lock, so it keeps running.
SELECT pg_advisory_xact_lock(hashtextextended('ocp-rollup:' || current_schema() || ':' || $1::uuid::text, 0))
