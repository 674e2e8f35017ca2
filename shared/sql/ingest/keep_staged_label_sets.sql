-- The staged label sets of the object, each once (see stage_label_sets.sql).
INSERT INTO ocp_label_set (object_id, label_set_id, labels)
SELECT DISTINCT ON (label_set_id, object_id) object_id, label_set_id, labels
FROM ocp_label_set_staged;
DROP TABLE ocp_label_set_staged
