-- koku's node topology refresh (spec §3) over the chunk's days, from the objects that count (see
-- stage_rows.sql): role = the pods' node_role column,
-- else master if openshift-kube-apiserver ran there, else infra by node label, else worker. Nodes
-- without node-label rows in the range are skipped. A row is added per new (node, resource_id,
-- cores); an existing row's empty role is filled in. $1 source uuid, $2 days, $3 and $4 the first
-- and last of them, $5 cluster id.
WITH superseded AS (
    SELECT object_id FROM ocp_object_payload
    WHERE source_uuid = $1 AND NOT counted AND days && $2::date[]
), labelled_nodes AS (
    SELECT nl.node, bool_or(ls.labels ->> 'node_role_kubernetes_io' = 'infra') AS infra
    FROM ocp_node_labels_partial nl
    LEFT JOIN ocp_label_set ls
           ON ls.label_set_id = nl.node_labels_id AND ls.object_id = nl.object_id
    WHERE nl.source_uuid = $1 AND nl.usage_start BETWEEN $3 AND $4
      AND nl.usage_start = ANY ($2::date[])
      AND nl.object_id NOT IN (SELECT object_id FROM superseded)
    GROUP BY nl.node
), roles AS (
    SELECT li.node, li.resource_id,
           max(li.node_capacity_cpu_cores) AS node_capacity_cpu_cores,
           coalesce(max(li.node_role),
                    CASE WHEN bool_or(li.namespace = 'openshift-kube-apiserver') THEN 'master'
                         WHEN bool_or(nl.infra) THEN 'infra'
                         ELSE 'worker' END) AS node_role
    FROM ocp_pod_usage_partial li
    JOIN labelled_nodes nl ON nl.node = li.node
    WHERE li.source_uuid = $1 AND li.usage_start BETWEEN $3 AND $4
      AND li.usage_start = ANY ($2::date[])
      AND li.object_id NOT IN (SELECT object_id FROM superseded)
    GROUP BY li.node, li.resource_id
), filled AS (
    UPDATE reporting_ocp_nodes n
    SET node_role = r.node_role
    FROM roles r
    WHERE n.node = r.node AND n.resource_id IS NOT DISTINCT FROM r.resource_id
      AND (n.node_role IS NULL OR n.node_role = '')
)
INSERT INTO reporting_ocp_nodes (node, resource_id, node_capacity_cpu_cores, node_role, cluster_id)
SELECT r.node, r.resource_id, r.node_capacity_cpu_cores, r.node_role, $5
FROM roles r
WHERE NOT EXISTS (
    SELECT 1 FROM reporting_ocp_nodes n
    WHERE n.node = r.node
      AND n.resource_id IS NOT DISTINCT FROM r.resource_id
      AND n.node_capacity_cpu_cores IS NOT DISTINCT FROM r.node_capacity_cpu_cores::numeric(18, 2)
)
