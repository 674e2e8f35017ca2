-- Label sets of an object read in several passes: a set shared by pods of two partitions arrives
-- twice, so they are staged here and kept once each (keep_staged_label_sets.sql) at the end.
CREATE TEMP TABLE IF NOT EXISTS ocp_label_set_staged (
    object_id    bigint NOT NULL,
    label_set_id uuid   NOT NULL,
    labels       jsonb  NOT NULL
) ON COMMIT DROP
