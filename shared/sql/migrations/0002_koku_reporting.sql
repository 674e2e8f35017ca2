-- koku's reporting tables that the roll-up reads and writes, created only where they do not exist:
-- against an existing koku tenant schema, koku's own tables are used unchanged.

CREATE TABLE IF NOT EXISTS reporting_enabledtagkeys (
    uuid          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key           varchar(512) NOT NULL,
    enabled       boolean NOT NULL DEFAULT false,
    provider_type varchar(50) NOT NULL,
    UNIQUE (key, provider_type)
);

CREATE TABLE IF NOT EXISTS reporting_ocp_cost_category (
    id             serial PRIMARY KEY,
    name           text NOT NULL UNIQUE,
    description    text NOT NULL DEFAULT '',
    source_type    text NOT NULL DEFAULT 'OCP',
    system_default boolean NOT NULL DEFAULT false
);

-- `namespace` holds SQL LIKE patterns (spec §3).
CREATE TABLE IF NOT EXISTS reporting_ocp_cost_category_namespace (
    id               serial PRIMARY KEY,
    namespace        text NOT NULL UNIQUE,
    system_default   boolean NOT NULL DEFAULT false,
    cost_category_id int NOT NULL REFERENCES reporting_ocp_cost_category (id) ON DELETE CASCADE
);

INSERT INTO reporting_ocp_cost_category (name, description, source_type, system_default)
VALUES ('Platform', 'OpenShift and Kubernetes platform projects', 'OCP', true)
ON CONFLICT (name) DO NOTHING;

INSERT INTO reporting_ocp_cost_category_namespace (namespace, system_default, cost_category_id)
SELECT pattern, true, c.id
FROM reporting_ocp_cost_category c,
     unnest(array['openshift-%', 'kube-%', 'Platform unallocated', 'openshift']) AS pattern
WHERE c.name = 'Platform'
ON CONFLICT (namespace) DO NOTHING;

CREATE TABLE IF NOT EXISTS reporting_ocpusagereportperiod (
    id                             serial PRIMARY KEY,
    cluster_id                     varchar(50) NOT NULL,
    cluster_alias                  varchar(256),
    report_period_start            timestamptz NOT NULL,
    report_period_end              timestamptz NOT NULL,
    summary_data_creation_datetime timestamptz,
    summary_data_updated_datetime  timestamptz,
    derived_cost_datetime          timestamptz,
    ocp_on_cloud_updated_datetime  timestamptz,
    provider_id                    uuid,
    UNIQUE (cluster_id, report_period_start, provider_id)
);

-- Node roles, as koku keeps them: a row per (node, resource_id, cores), role filled in once.
CREATE TABLE IF NOT EXISTS reporting_ocp_nodes (
    uuid                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    node                    text,
    resource_id             text,
    node_capacity_cpu_cores numeric(18, 2),
    node_role               text,
    architecture            text,
    cluster_id              text
);

-- The per-source cluster id and alias (koku takes them from the provider's credentials and name).
-- A source without a row gets its uuid as both.
CREATE TABLE IF NOT EXISTS ocp_source_cluster (
    source_uuid   uuid PRIMARY KEY,
    cluster_id    varchar(50) NOT NULL,
    cluster_alias varchar(256) NOT NULL
);

CREATE TABLE IF NOT EXISTS reporting_ocpusagelineitem_daily_summary (
    uuid                                      uuid NOT NULL DEFAULT gen_random_uuid(),
    report_period_id                          int REFERENCES reporting_ocpusagereportperiod (id) ON DELETE CASCADE,
    cluster_id                                varchar(50),
    cluster_alias                             varchar(256),
    data_source                               varchar(64),
    namespace                                 varchar(253),
    node                                      varchar(253),
    resource_id                               varchar(253),
    usage_start                               date NOT NULL,
    usage_end                                 date NOT NULL,
    pod_labels                                jsonb,
    pod_usage_cpu_core_hours                  numeric(33, 15),
    pod_request_cpu_core_hours                numeric(33, 15),
    pod_effective_usage_cpu_core_hours        numeric(33, 15),
    pod_limit_cpu_core_hours                  numeric(33, 15),
    pod_usage_memory_gigabyte_hours           numeric(33, 15),
    pod_request_memory_gigabyte_hours         numeric(33, 15),
    pod_effective_usage_memory_gigabyte_hours numeric(33, 15),
    pod_limit_memory_gigabyte_hours           numeric(33, 15),
    node_capacity_cpu_cores                   numeric(33, 15),
    node_capacity_cpu_core_hours              numeric(33, 15),
    node_capacity_memory_gigabytes            numeric(33, 15),
    node_capacity_memory_gigabyte_hours       numeric(33, 15),
    cluster_capacity_cpu_core_hours           numeric(33, 15),
    cluster_capacity_memory_gigabyte_hours    numeric(33, 15),
    persistentvolumeclaim                     varchar(253),
    persistentvolume                          varchar(253),
    storageclass                              varchar(253),
    volume_labels                             jsonb,
    all_labels                                jsonb,
    persistentvolumeclaim_capacity_gigabyte        numeric(33, 15),
    persistentvolumeclaim_capacity_gigabyte_months numeric(33, 15),
    volume_request_storage_gigabyte_months         numeric(33, 15),
    persistentvolumeclaim_usage_gigabyte_months    numeric(33, 15),
    infrastructure_raw_cost                   numeric(33, 15),
    infrastructure_project_raw_cost           numeric(33, 15),
    infrastructure_usage_cost                 jsonb,
    infrastructure_markup_cost                numeric(33, 15),
    infrastructure_project_markup_cost        numeric(33, 15),
    infrastructure_monthly_cost               numeric(33, 15),
    infrastructure_monthly_cost_json          jsonb,
    infrastructure_project_monthly_cost       jsonb,
    infrastructure_data_in_gigabytes          numeric(33, 15),
    infrastructure_data_out_gigabytes         numeric(33, 15),
    supplementary_usage_cost                  jsonb,
    supplementary_monthly_cost                numeric(33, 15),
    supplementary_monthly_cost_json           jsonb,
    supplementary_project_monthly_cost        jsonb,
    monthly_cost_type                         text,
    cost_model_rate_type                      text,
    cost_model_cpu_cost                       numeric(33, 15),
    cost_model_memory_cost                    numeric(33, 15),
    cost_model_volume_cost                    numeric(33, 15),
    cost_model_gpu_cost                       numeric(33, 15),
    distributed_cost                          numeric(33, 15),
    raw_currency                              text,
    source_uuid                               uuid,
    cost_category_id                          int REFERENCES reporting_ocp_cost_category (id) ON DELETE SET NULL,
    PRIMARY KEY (uuid, usage_start)
) PARTITION BY RANGE (usage_start);

CREATE INDEX IF NOT EXISTS ocp_summary_period_day
    ON reporting_ocpusagelineitem_daily_summary (report_period_id, usage_start);
CREATE INDEX IF NOT EXISTS ocp_summary_pod_labels
    ON reporting_ocpusagelineitem_daily_summary USING gin (pod_labels);
CREATE INDEX IF NOT EXISTS ocp_summary_volume_labels
    ON reporting_ocpusagelineitem_daily_summary USING gin (volume_labels);
CREATE INDEX IF NOT EXISTS ocp_summary_all_labels
    ON reporting_ocpusagelineitem_daily_summary USING gin (all_labels);

-- Creates the month's partition (koku's naming: <table>_YYYY_MM) when it is missing.
CREATE OR REPLACE FUNCTION ocp_ensure_summary_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    month_start date := date_trunc('month', day)::date;
    partition   text := 'reporting_ocpusagelineitem_daily_summary_' || to_char(month_start, 'YYYY_MM');
BEGIN
    IF to_regclass(quote_ident(partition)) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF reporting_ocpusagelineitem_daily_summary '
            'FOR VALUES FROM (%L) TO (%L)',
            partition, month_start, (month_start + interval '1 month')::date);
    END IF;
END
$$;

-- koku's label filter: the entries of a label map whose key is enabled; NULL gives '{}' (spec §8.10).
CREATE OR REPLACE FUNCTION ocp_filter_labels(labels jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
    FROM jsonb_each(labels)
    WHERE key = ANY (keys)
$$;
