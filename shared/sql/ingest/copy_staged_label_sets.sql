COPY ocp_label_set_staged (object_id, label_set_id, labels) FROM STDIN (FORMAT binary)
