-- Serializes deliveries of one object (same event in parallel, or an overwrite racing its
-- predecessor) for the rest of the transaction.
SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))
