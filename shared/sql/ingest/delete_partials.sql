-- Removes one object's partials from every partial table; $1 object, $2 source, $3 its days.
WITH pod AS (
    DELETE FROM ocp_pod_usage_partial
    WHERE source_uuid = $2 AND usage_start = ANY($3::date[]) AND object_id = $1
), capacity AS (
    DELETE FROM ocp_node_capacity_partial
    WHERE source_uuid = $2 AND usage_start = ANY($3::date[]) AND object_id = $1
), storage AS (
    DELETE FROM ocp_storage_usage_partial
    WHERE source_uuid = $2 AND usage_start = ANY($3::date[]) AND object_id = $1
), node_labels AS (
    DELETE FROM ocp_node_labels_partial
    WHERE source_uuid = $2 AND usage_start = ANY($3::date[]) AND object_id = $1
), namespace_labels AS (
    DELETE FROM ocp_namespace_labels_partial
    WHERE source_uuid = $2 AND usage_start = ANY($3::date[]) AND object_id = $1
)
SELECT 1
