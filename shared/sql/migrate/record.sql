INSERT INTO ocp_schema_migration (version, name) VALUES ($1, $2)
