-- Unallocated capacity per node and day (spec §4.7): node capacity minus the node's Pod rows.
-- No clamp (values can be negative); an unknown role gives a NULL namespace; the cost category is
-- joined after grouping and without max(), as koku does. $1 report period, $2 cluster id,
-- $3 cluster alias, $4 source uuid.
WITH node_roles AS (
    SELECT max(node_role) AS node_role, node, resource_id
    FROM reporting_ocp_nodes
    GROUP BY node, resource_id
), unallocated AS (
    SELECT p.usage_start,
           CASE max(r.node_role)
               WHEN 'master' THEN 'Platform unallocated'
               WHEN 'infra' THEN 'Platform unallocated'
               WHEN 'worker' THEN 'Worker unallocated'
           END AS namespace,
           p.node,
           max(p.resource_id) AS resource_id,
           max(p.node_capacity_cpu_core_hours) - sum(p.pod_usage_cpu_core_hours) AS cpu_usage,
           max(p.node_capacity_cpu_core_hours) - sum(p.pod_request_cpu_core_hours) AS cpu_request,
           max(p.node_capacity_cpu_core_hours) - sum(p.pod_effective_usage_cpu_core_hours) AS cpu_effective,
           max(p.node_capacity_memory_gigabyte_hours) - sum(p.pod_usage_memory_gigabyte_hours) AS memory_usage,
           max(p.node_capacity_memory_gigabyte_hours) - sum(p.pod_request_memory_gigabyte_hours) AS memory_request,
           max(p.node_capacity_memory_gigabyte_hours) - sum(p.pod_effective_usage_memory_gigabyte_hours) AS memory_effective,
           max(p.node_capacity_cpu_cores) AS node_capacity_cpu_cores,
           max(p.node_capacity_cpu_core_hours) AS node_capacity_cpu_core_hours,
           max(p.node_capacity_memory_gigabytes) AS node_capacity_memory_gigabytes,
           max(p.node_capacity_memory_gigabyte_hours) AS node_capacity_memory_gigabyte_hours,
           max(p.cluster_capacity_cpu_core_hours) AS cluster_capacity_cpu_core_hours,
           max(p.cluster_capacity_memory_gigabyte_hours) AS cluster_capacity_memory_gigabyte_hours
    FROM ocp_rollup_rows p
    LEFT JOIN node_roles r ON r.node = p.node AND r.resource_id = p.resource_id
    WHERE p.data_source = 'Pod'
      AND p.node IS NOT NULL
      AND p.namespace NOT IN ('Platform unallocated', 'Worker unallocated',
                              'Network unattributed', 'Storage unattributed')
    GROUP BY p.node, p.usage_start
)
INSERT INTO reporting_ocpusagelineitem_daily_summary (
    uuid, report_period_id, cluster_id, cluster_alias, data_source, usage_start, usage_end,
    namespace, node, resource_id, all_labels, source_uuid, cost_category_id,
    pod_usage_cpu_core_hours, pod_request_cpu_core_hours, pod_effective_usage_cpu_core_hours,
    pod_usage_memory_gigabyte_hours, pod_request_memory_gigabyte_hours,
    pod_effective_usage_memory_gigabyte_hours,
    node_capacity_cpu_cores, node_capacity_cpu_core_hours, node_capacity_memory_gigabytes,
    node_capacity_memory_gigabyte_hours, cluster_capacity_cpu_core_hours,
    cluster_capacity_memory_gigabyte_hours
)
SELECT gen_random_uuid(), $1, $2, $3, 'Pod', u.usage_start, u.usage_start,
       u.namespace, u.node, u.resource_id, '{}'::jsonb, $4, cat.cost_category_id,
       u.cpu_usage, u.cpu_request, u.cpu_effective,
       u.memory_usage, u.memory_request, u.memory_effective,
       u.node_capacity_cpu_cores, u.node_capacity_cpu_core_hours, u.node_capacity_memory_gigabytes,
       u.node_capacity_memory_gigabyte_hours, u.cluster_capacity_cpu_core_hours,
       u.cluster_capacity_memory_gigabyte_hours
FROM unallocated u
LEFT JOIN reporting_ocp_cost_category_namespace cat ON u.namespace LIKE cat.namespace
