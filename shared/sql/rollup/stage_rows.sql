-- Pod rows (spec §4.5) and Storage rows (§4.6) of the chunk's days from the partials of the objects
-- that count (each day's kept payload, and objects without one), following koku's on-prem PostgreSQL
-- summary. $1 source uuid, $2 days, $3 and $4 the first and
-- last of them (the partials' BRIN indexes need the range).
INSERT INTO ocp_rollup_rows
WITH enabled_keys AS (
    -- §4.2: vm_kubevirt_io_name is always kept (on-prem: even when no key is enabled, §8.4).
    SELECT array['vm_kubevirt_io_name'] || coalesce(array_agg(key::text ORDER BY key), '{}') AS keys
    FROM reporting_enabledtagkeys
    WHERE enabled AND provider_type = 'OCP'
),
superseded AS (
    -- Objects of a payload koku would not keep for its day (migration 0005): none of their rows
    -- count, whichever days they hold.
    SELECT object_id FROM ocp_object_payload
    WHERE source_uuid = $1 AND NOT counted AND days && $2::date[]
),
chunk_label_sets AS (
    -- Every label set the chunk's partials refer to, filtered to the enabled keys once per set.
    SELECT s.label_set_id, ocp_filter_labels(s.labels, k.keys) AS labels
    FROM (
        SELECT DISTINCT ON (ls.label_set_id) ls.label_set_id, ls.labels
        FROM ocp_label_set ls
        WHERE ls.label_set_id IN (
            SELECT pod_labels_id FROM ocp_pod_usage_partial
            WHERE source_uuid = $1 AND usage_start BETWEEN $3 AND $4
              AND usage_start = ANY ($2::date[])
              AND object_id NOT IN (SELECT object_id FROM superseded)
            UNION
            SELECT unnest(array[persistentvolume_labels_id, persistentvolumeclaim_labels_id])
            FROM ocp_storage_usage_partial
            WHERE source_uuid = $1 AND usage_start BETWEEN $3 AND $4
              AND usage_start = ANY ($2::date[])
              AND object_id NOT IN (SELECT object_id FROM superseded)
            UNION
            SELECT node_labels_id FROM ocp_node_labels_partial
            WHERE source_uuid = $1 AND usage_start BETWEEN $3 AND $4
              AND usage_start = ANY ($2::date[])
              AND object_id NOT IN (SELECT object_id FROM superseded)
            UNION
            SELECT namespace_labels_id FROM ocp_namespace_labels_partial
            WHERE source_uuid = $1 AND usage_start BETWEEN $3 AND $4
              AND usage_start = ANY ($2::date[])
              AND object_id NOT IN (SELECT object_id FROM superseded)
        )
    ) s, enabled_keys k
),
filtered_node_labels AS (
    -- §4.3: distinct filtered maps per node and day; several maps in a day multiply rows (§8.1).
    SELECT DISTINCT nl.usage_start, nl.node, coalesce(ls.labels, '{}'::jsonb) AS node_labels
    FROM ocp_node_labels_partial nl
    LEFT JOIN chunk_label_sets ls ON ls.label_set_id = nl.node_labels_id
    WHERE nl.source_uuid = $1 AND nl.usage_start BETWEEN $3 AND $4
      AND nl.usage_start = ANY ($2::date[])
      AND nl.object_id NOT IN (SELECT object_id FROM superseded)
),
filtered_namespace_labels AS (
    SELECT DISTINCT nsl.usage_start, nsl.namespace, coalesce(ls.labels, '{}'::jsonb) AS namespace_labels
    FROM ocp_namespace_labels_partial nsl
    LEFT JOIN chunk_label_sets ls ON ls.label_set_id = nsl.namespace_labels_id
    WHERE nsl.source_uuid = $1 AND nsl.usage_start BETWEEN $3 AND $4
      AND nsl.usage_start = ANY ($2::date[])
      AND nsl.object_id NOT IN (SELECT object_id FROM superseded)
),
node_hour_capacity AS (
    -- §4.4: the max over a node's pods in each hour, across every object holding that hour.
    SELECT interval_start, node,
           max(node_capacity_cpu_core_seconds) AS cpu_core_seconds,
           max(node_capacity_memory_byte_seconds) AS memory_byte_seconds
    FROM ocp_node_capacity_hour
    WHERE source_uuid = $1 AND usage_start BETWEEN $3 AND $4 AND usage_start = ANY ($2::date[])
      AND object_id NOT IN (SELECT object_id FROM superseded)
    GROUP BY interval_start, node
),
node_capacity AS (
    SELECT interval_start::date AS usage_start, node,
           sum(cpu_core_seconds) AS cpu_core_seconds,
           sum(memory_byte_seconds) AS memory_byte_seconds
    FROM node_hour_capacity
    GROUP BY interval_start::date, node
),
cluster_capacity AS (
    SELECT usage_start,
           sum(cpu_core_seconds) AS cpu_core_seconds,
           sum(memory_byte_seconds) AS memory_byte_seconds
    FROM node_capacity
    GROUP BY usage_start
),
pod_rows AS (
    SELECT 'Pod' AS data_source,
           li.usage_start,
           li.namespace,
           li.node,
           max(li.resource_id) AS resource_id,
           -- §4.5: node, then namespace, then pod labels; the last map wins on a shared key.
           coalesce(nl.node_labels, '{}'::jsonb)
               || coalesce(nsl.namespace_labels, '{}'::jsonb)
               || coalesce(pl.labels, '{}'::jsonb) AS pod_labels,
           max(cat.cost_category_id) AS cost_category_id,
           sum(li.pod_usage_cpu_core_seconds) / 3600 AS pod_usage_cpu_core_hours,
           sum(li.pod_request_cpu_core_seconds) / 3600 AS pod_request_cpu_core_hours,
           sum(coalesce(li.pod_effective_usage_cpu_core_seconds,
                        greatest(li.pod_usage_cpu_core_seconds, li.pod_request_cpu_core_seconds)))
               / 3600 AS pod_effective_usage_cpu_core_hours,
           sum(li.pod_limit_cpu_core_seconds) / 3600 AS pod_limit_cpu_core_hours,
           sum(li.pod_usage_memory_byte_seconds) / 3600 * power(2, -30) AS pod_usage_memory_gigabyte_hours,
           sum(li.pod_request_memory_byte_seconds) / 3600 * power(2, -30) AS pod_request_memory_gigabyte_hours,
           sum(coalesce(li.pod_effective_usage_memory_byte_seconds,
                        greatest(li.pod_usage_memory_byte_seconds, li.pod_request_memory_byte_seconds)))
               / 3600 * power(2, -30) AS pod_effective_usage_memory_gigabyte_hours,
           sum(li.pod_limit_memory_byte_seconds) / 3600 * power(2, -30) AS pod_limit_memory_gigabyte_hours,
           max(li.node_capacity_cpu_cores) AS node_capacity_cpu_cores,
           coalesce(max(nc.cpu_core_seconds), 0) / 3600 AS node_capacity_cpu_core_hours,
           max(li.node_capacity_memory_bytes) * power(2, -30) AS node_capacity_memory_gigabytes,
           coalesce(max(nc.memory_byte_seconds), 0) / 3600 * power(2, -30) AS node_capacity_memory_gigabyte_hours,
           coalesce(max(cc.cpu_core_seconds), 0) / 3600 AS cluster_capacity_cpu_core_hours,
           coalesce(max(cc.memory_byte_seconds), 0) / 3600 * power(2, -30) AS cluster_capacity_memory_gigabyte_hours
    FROM ocp_pod_usage_partial li
    LEFT JOIN chunk_label_sets pl ON pl.label_set_id = li.pod_labels_id
    LEFT JOIN filtered_node_labels nl ON nl.node = li.node AND nl.usage_start = li.usage_start
    LEFT JOIN filtered_namespace_labels nsl
           ON nsl.namespace = li.namespace AND nsl.usage_start = li.usage_start
    LEFT JOIN node_capacity nc ON nc.node = li.node AND nc.usage_start = li.usage_start
    LEFT JOIN cluster_capacity cc ON cc.usage_start = li.usage_start
    -- Joined before the sums: a namespace matching two patterns is counted twice (§8.1).
    LEFT JOIN reporting_ocp_cost_category_namespace cat ON li.namespace LIKE cat.namespace
    WHERE li.source_uuid = $1 AND li.usage_start BETWEEN $3 AND $4
      AND li.usage_start = ANY ($2::date[])
      AND li.object_id NOT IN (SELECT object_id FROM superseded)
      AND li.node <> ''
    GROUP BY li.usage_start, li.namespace, li.node, 6
),
volume_nodes AS (
    -- §4.6: a claim's node is the node of the pod mounting it; pods without a node count (§8.7).
    SELECT DISTINCT sli.usage_start, sli.persistentvolumeclaim, sli.persistentvolume, sli.pod,
           sli.namespace, uli.node, uli.resource_id
    FROM ocp_storage_usage_partial sli
    JOIN ocp_pod_usage_partial uli
      ON uli.source_uuid = sli.source_uuid AND uli.usage_start = sli.usage_start
     AND uli.namespace = sli.namespace AND uli.pod = sli.pod
    WHERE sli.source_uuid = $1 AND sli.usage_start BETWEEN $3 AND $4
      AND sli.usage_start = ANY ($2::date[])
      AND uli.usage_start BETWEEN $3 AND $4 AND uli.usage_start = ANY ($2::date[])
      AND sli.object_id NOT IN (SELECT object_id FROM superseded)
      AND uli.object_id NOT IN (SELECT object_id FROM superseded)
),
volume_node_count AS (
    SELECT usage_start, persistentvolume, count(DISTINCT node) AS node_count
    FROM volume_nodes
    GROUP BY usage_start, persistentvolume
),
storage_rows AS (
    SELECT 'Storage' AS data_source,
           sli.usage_start,
           sli.namespace,
           vn.node,
           vn.resource_id,
           sli.persistentvolumeclaim,
           sli.persistentvolume,
           sli.storageclass,
           coalesce(nl.node_labels, '{}'::jsonb)
               || coalesce(nsl.namespace_labels, '{}'::jsonb)
               || coalesce(pvl.labels, '{}'::jsonb)
               || coalesce(pvcl.labels, '{}'::jsonb) AS volume_labels,
           max(cat.cost_category_id) AS cost_category_id,
           max(sli.persistentvolumeclaim_capacity_bytes) * power(2, -30)
               AS persistentvolumeclaim_capacity_gigabyte,
           sum(sli.persistentvolumeclaim_capacity_byte_seconds)
               / (86400 * days_in_month.days) * power(2, -30)
               AS persistentvolumeclaim_capacity_gigabyte_months,
           sum(sli.volume_request_storage_byte_seconds) / coalesce(max(nc.node_count), 1)
               / (86400 * days_in_month.days) * power(2, -30)
               AS volume_request_storage_gigabyte_months,
           sum(sli.persistentvolumeclaim_usage_byte_seconds) / coalesce(max(nc.node_count), 1)
               / (86400 * days_in_month.days) * power(2, -30)
               AS persistentvolumeclaim_usage_gigabyte_months
    FROM ocp_storage_usage_partial sli
    LEFT JOIN chunk_label_sets pvl ON pvl.label_set_id = sli.persistentvolume_labels_id
    LEFT JOIN chunk_label_sets pvcl ON pvcl.label_set_id = sli.persistentvolumeclaim_labels_id
    CROSS JOIN LATERAL (
        SELECT extract(day FROM date_trunc('month', sli.usage_start) + interval '1 month - 1 day')::float8 AS days
    ) days_in_month
    LEFT JOIN volume_nodes vn
           ON vn.usage_start = sli.usage_start AND vn.persistentvolumeclaim = sli.persistentvolumeclaim
          AND vn.pod = sli.pod AND vn.namespace = sli.namespace
    LEFT JOIN volume_node_count nc
           ON nc.usage_start = sli.usage_start AND nc.persistentvolume = sli.persistentvolume
    LEFT JOIN filtered_node_labels nl ON nl.node = vn.node AND nl.usage_start = vn.usage_start
    LEFT JOIN filtered_namespace_labels nsl
           ON nsl.namespace = sli.namespace AND nsl.usage_start = sli.usage_start
    LEFT JOIN reporting_ocp_cost_category_namespace cat ON sli.namespace LIKE cat.namespace
    WHERE sli.source_uuid = $1 AND sli.usage_start BETWEEN $3 AND $4
      AND sli.usage_start = ANY ($2::date[])
      AND sli.object_id NOT IN (SELECT object_id FROM superseded)
    GROUP BY sli.namespace, vn.node, vn.resource_id, sli.persistentvolumeclaim,
             sli.persistentvolume, sli.storageclass, sli.csi_volume_handle, sli.usage_start,
             9, days_in_month.days
)
SELECT data_source, usage_start, namespace, node, resource_id,
       NULL, NULL, NULL, pod_labels, NULL, cost_category_id,
       pod_usage_cpu_core_hours, pod_request_cpu_core_hours, pod_effective_usage_cpu_core_hours,
       pod_limit_cpu_core_hours, pod_usage_memory_gigabyte_hours, pod_request_memory_gigabyte_hours,
       pod_effective_usage_memory_gigabyte_hours, pod_limit_memory_gigabyte_hours,
       node_capacity_cpu_cores, node_capacity_cpu_core_hours, node_capacity_memory_gigabytes,
       node_capacity_memory_gigabyte_hours, cluster_capacity_cpu_core_hours,
       cluster_capacity_memory_gigabyte_hours,
       NULL, NULL, NULL, NULL
FROM pod_rows
UNION
SELECT data_source, usage_start, namespace, node, resource_id,
       persistentvolumeclaim, persistentvolume, storageclass, NULL, volume_labels, cost_category_id,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL,
       persistentvolumeclaim_capacity_gigabyte, persistentvolumeclaim_capacity_gigabyte_months,
       volume_request_storage_gigabyte_months, persistentvolumeclaim_usage_gigabyte_months
FROM storage_rows
