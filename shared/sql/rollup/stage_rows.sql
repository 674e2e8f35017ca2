-- Pod rows (spec §4.5) and Storage rows (§4.6) of the chunk's days from the partials of all objects,
-- following koku's on-prem PostgreSQL summary. $1 source uuid, $2 days.
INSERT INTO ocp_rollup_rows
WITH enabled_keys AS (
    -- §4.2: vm_kubevirt_io_name is always kept (on-prem: even when no key is enabled, §8.4).
    SELECT array['vm_kubevirt_io_name'] || coalesce(array_agg(key::text ORDER BY key), '{}') AS keys
    FROM reporting_enabledtagkeys
    WHERE enabled AND provider_type = 'OCP'
),
filtered_node_labels AS (
    -- §4.3: distinct filtered maps per node and day; several maps in a day multiply rows (§8.1).
    SELECT DISTINCT nl.usage_start, nl.node, ocp_filter_labels(nl.node_labels, k.keys) AS node_labels
    FROM ocp_node_labels_partial nl, enabled_keys k
    WHERE nl.source_uuid = $1 AND nl.usage_start = ANY ($2::date[])
),
filtered_namespace_labels AS (
    SELECT DISTINCT nsl.usage_start, nsl.namespace,
           ocp_filter_labels(nsl.namespace_labels, k.keys) AS namespace_labels
    FROM ocp_namespace_labels_partial nsl, enabled_keys k
    WHERE nsl.source_uuid = $1 AND nsl.usage_start = ANY ($2::date[])
),
node_hour_capacity AS (
    -- §4.4: the max over a node's pods in each hour, across every object holding that hour.
    SELECT interval_start, node,
           max(node_capacity_cpu_core_seconds) AS cpu_core_seconds,
           max(node_capacity_memory_byte_seconds) AS memory_byte_seconds
    FROM ocp_node_capacity_partial
    WHERE source_uuid = $1 AND usage_start = ANY ($2::date[])
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
               || ocp_filter_labels(li.pod_labels, k.keys) AS pod_labels,
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
    CROSS JOIN enabled_keys k
    LEFT JOIN filtered_node_labels nl ON nl.node = li.node AND nl.usage_start = li.usage_start
    LEFT JOIN filtered_namespace_labels nsl
           ON nsl.namespace = li.namespace AND nsl.usage_start = li.usage_start
    LEFT JOIN node_capacity nc ON nc.node = li.node AND nc.usage_start = li.usage_start
    LEFT JOIN cluster_capacity cc ON cc.usage_start = li.usage_start
    -- Joined before the sums: a namespace matching two patterns is counted twice (§8.1).
    LEFT JOIN reporting_ocp_cost_category_namespace cat ON li.namespace LIKE cat.namespace
    WHERE li.source_uuid = $1 AND li.usage_start = ANY ($2::date[])
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
    WHERE sli.source_uuid = $1 AND sli.usage_start = ANY ($2::date[])
      AND uli.usage_start = ANY ($2::date[])
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
               || ocp_filter_labels(sli.persistentvolume_labels, k.keys)
               || ocp_filter_labels(sli.persistentvolumeclaim_labels, k.keys) AS volume_labels,
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
    CROSS JOIN enabled_keys k
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
    WHERE sli.source_uuid = $1 AND sli.usage_start = ANY ($2::date[])
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
