-- Removes one object's partials from every partial table, and its label sets; $1 object, $2 source,
-- $3 its days. The range lets the BRIN indexes find the days (they cannot use `= ANY`).
WITH span AS (
    SELECT min(d) AS first_day, max(d) AS last_day FROM unnest($3::date[]) AS d
), pod AS (
    DELETE FROM ocp_pod_usage_partial p USING span
    WHERE p.usage_start BETWEEN span.first_day AND span.last_day
      AND p.object_id = $1 AND p.source_uuid = $2
), capacity AS (
    DELETE FROM ocp_node_capacity_partial p USING span
    WHERE p.usage_start BETWEEN span.first_day AND span.last_day
      AND p.object_id = $1 AND p.source_uuid = $2
), storage AS (
    DELETE FROM ocp_storage_usage_partial p USING span
    WHERE p.usage_start BETWEEN span.first_day AND span.last_day
      AND p.object_id = $1 AND p.source_uuid = $2
), node_labels AS (
    DELETE FROM ocp_node_labels_partial p USING span
    WHERE p.usage_start BETWEEN span.first_day AND span.last_day
      AND p.object_id = $1 AND p.source_uuid = $2
), namespace_labels AS (
    DELETE FROM ocp_namespace_labels_partial p USING span
    WHERE p.usage_start BETWEEN span.first_day AND span.last_day
      AND p.object_id = $1 AND p.source_uuid = $2
), label_sets AS (
    DELETE FROM ocp_label_set WHERE object_id = $1
)
SELECT 1
