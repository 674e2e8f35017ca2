-- Clears exactly the marks the roll-up read: a mark re-set meanwhile has a new generation and stays.
DELETE FROM ocp_dirty_day d
USING unnest($1::uuid[], $2::date[], $3::bigint[]) AS seen (source_uuid, usage_start, generation)
WHERE d.source_uuid = seen.source_uuid
  AND d.usage_start = seen.usage_start
  AND d.generation = seen.generation
