COPY ocp_label_set (object_id, label_set_id, labels) FROM STDIN (FORMAT binary)
