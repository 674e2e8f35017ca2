-- Marks (source, day) pairs for the roll-up; a new generation supersedes any mark being processed.
INSERT INTO ocp_dirty_day AS d (source_uuid, usage_start, generation)
SELECT $1, day, nextval('ocp_dirty_day_generation')
FROM unnest($2::date[]) AS day
ON CONFLICT (source_uuid, usage_start) DO UPDATE
SET generation = excluded.generation, marked_at = now()
