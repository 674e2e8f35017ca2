-- Serializes migrations of one schema across concurrent cold starts (session-level lock).
SELECT pg_advisory_lock(hashtextextended($1, 0))
