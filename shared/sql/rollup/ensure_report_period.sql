-- The source's report period for the month ($2 = first day), created when missing; returns its id,
-- cluster id and alias. $1 source uuid.
WITH cluster AS (
    SELECT coalesce(
               (SELECT cluster_id FROM ocp_source_cluster WHERE source_uuid = $1),
               $1::uuid::text) AS cluster_id,
           coalesce(
               (SELECT cluster_alias FROM ocp_source_cluster WHERE source_uuid = $1),
               $1::uuid::text) AS cluster_alias
), existing AS (
    SELECT p.id, p.cluster_id, p.cluster_alias
    FROM reporting_ocpusagereportperiod p, cluster c
    WHERE p.provider_id = $1 AND p.cluster_id = c.cluster_id
      AND p.report_period_start = $2::date::timestamp AT TIME ZONE 'UTC'
), created AS (
    INSERT INTO reporting_ocpusagereportperiod
        (cluster_id, cluster_alias, report_period_start, report_period_end,
         summary_data_creation_datetime, provider_id)
    SELECT c.cluster_id, c.cluster_alias,
           $2::date::timestamp AT TIME ZONE 'UTC',
           ($2::date + interval '1 month')::timestamp AT TIME ZONE 'UTC',
           now(), $1
    FROM cluster c
    WHERE NOT EXISTS (SELECT 1 FROM existing)
    RETURNING id, cluster_id, cluster_alias
)
SELECT id, cluster_id, cluster_alias FROM existing
UNION ALL
SELECT id, cluster_id, cluster_alias FROM created
