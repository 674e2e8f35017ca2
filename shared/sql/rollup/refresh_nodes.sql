-- koku's node topology refresh (spec §3) over the chunk's days: role = the pods' node_role column,
-- else master if openshift-kube-apiserver ran there, else infra by node label, else worker. Nodes
-- without node-label rows in the range are skipped. A row is added per new (node, resource_id,
-- cores); an existing row's empty role is filled in. $1 source uuid, $2 days, $3 cluster id.
WITH labelled_nodes AS (
    SELECT node, bool_or(node_labels ->> 'node_role_kubernetes_io' = 'infra') AS infra
    FROM ocp_node_labels_partial
    WHERE source_uuid = $1 AND usage_start = ANY ($2::date[])
    GROUP BY node
), roles AS (
    SELECT li.node, li.resource_id,
           max(li.node_capacity_cpu_cores) AS node_capacity_cpu_cores,
           coalesce(max(li.node_role),
                    CASE WHEN bool_or(li.namespace = 'openshift-kube-apiserver') THEN 'master'
                         WHEN bool_or(nl.infra) THEN 'infra'
                         ELSE 'worker' END) AS node_role
    FROM ocp_pod_usage_partial li
    JOIN labelled_nodes nl ON nl.node = li.node
    WHERE li.source_uuid = $1 AND li.usage_start = ANY ($2::date[])
    GROUP BY li.node, li.resource_id
), filled AS (
    UPDATE reporting_ocp_nodes n
    SET node_role = r.node_role
    FROM roles r
    WHERE n.node = r.node AND n.resource_id IS NOT DISTINCT FROM r.resource_id
      AND (n.node_role IS NULL OR n.node_role = '')
)
INSERT INTO reporting_ocp_nodes (node, resource_id, node_capacity_cpu_cores, node_role, cluster_id)
SELECT r.node, r.resource_id, r.node_capacity_cpu_cores, r.node_role, $3
FROM roles r
WHERE NOT EXISTS (
    SELECT 1 FROM reporting_ocp_nodes n
    WHERE n.node = r.node
      AND n.resource_id IS NOT DISTINCT FROM r.resource_id
      AND n.node_capacity_cpu_cores IS NOT DISTINCT FROM r.node_capacity_cpu_cores::numeric(18, 2)
)
