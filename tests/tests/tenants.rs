//! One deployment for every koku tenant: the key's account part routes each object to its
//! tenant's schema, keys naming no tenant are recorded in the control schema and write nothing, and
//! the roll-up summarises each tenant in its own schema.
//!
//! Expected numbers are worked out from the generated files (kokugen's fleet: per pod and hour
//! 0.25 core used, 0.5 requested, 1 GiB used; see `assert_fleet_totals`), never read back from the
//! code under test.

use integration_tests::harness::{
    SOURCE, TestEnv, assert_close, assert_fleet_totals, count, partial_cpu_seconds, pod_totals,
    summary_rows,
};
use integration_tests::koku_parquet::{WriteOptions, day, fleet, pod_usage};
use integration_tests::tenants::{TenantWorld, tenant_key};
use lambda_runtime::LambdaEvent;
use ocp_summary::rollup::fanout;
use tokio_postgres::Client;

/// CPU core-seconds of one fleet pod over a day: 0.25 core × 86,400 s.
const POD_DAY_CPU_SECONDS: f64 = 0.25 * 86_400.0;

async fn schemas(admin: &Client) -> Vec<String> {
    admin
        .query(
            "SELECT nspname::text FROM pg_namespace
             WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Tables outside the tenant schemas and the control schema (there must be none).
async fn stray_tables(admin: &Client, tenants: &[&str]) -> Vec<String> {
    let mut allowed: Vec<String> = tenants.iter().map(|t| (*t).to_owned()).collect();
    allowed.push("ocp_control".into());
    admin
        .query(
            "SELECT schemaname || '.' || tablename FROM pg_tables
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
               AND NOT (schemaname = ANY ($1))",
            &[&allowed],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn outcomes(records: &[ingest::RecordOutcome]) -> Vec<&str> {
    records.iter().map(|r| r.outcome.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_tenants_with_one_source_uuid_are_summarised_apart() {
    let world = TenantWorld::new("two_tenants", "create").await;
    let (d1, d2) = (day(2025, 11, 1), day(2025, 11, 2));
    // org1234567: 5 pods on each of two days; acct10001 (written 10001): 3 pods on the first day.
    // The same source uuid for both, as two customers' clusters can never be told apart by it.
    let files = [
        ("org1234567", d1, 5, "org"),
        ("org1234567", d2, 5, "org"),
        ("10001", d1, 3, "acct"),
    ];
    let mut uploads = Vec::new();
    for (account, d, pods, prefix) in files {
        let body = pod_usage(&fleet(d, pods, prefix), &WriteOptions::default());
        let key = tenant_key(account, "pod_usage", d, 0);
        let event = world.put_event(&key, body.clone()).await;
        assert_eq!(outcomes(&world.ingest(event).await), ["ingested"]);
        uploads.push((key, body));
    }
    // The planner's one query over the control index, cut into a message per (tenant, source,
    // chunk), each run by the worker in its tenant's schema.
    let planned = {
        let control = world.sql("ocp_control").await;
        let at = chrono::Utc::now();
        fanout::messages(fanout::dirty_marks(&control, &at).await.unwrap())
    };
    let shape: Vec<(String, Vec<String>)> = planned
        .iter()
        .map(|m| (m.group_id(), m.days.iter().map(|d| d.to_string()).collect()))
        .collect();
    assert_eq!(
        shape,
        [
            (format!("acct10001:{SOURCE}"), vec!["2025-11-01".to_owned()]),
            (
                format!("org1234567:{SOURCE}"),
                vec!["2025-11-01".to_owned(), "2025-11-02".to_owned()]
            ),
        ]
    );
    for message in &planned {
        fanout::run_message(&world.rollup.db, message)
            .await
            .unwrap();
    }

    let admin = world.sql("public").await;
    assert_eq!(
        schemas(&admin).await,
        ["acct10001", "ocp_control", "org1234567", "public"]
    );
    assert_eq!(
        stray_tables(&admin, &["acct10001", "org1234567"]).await,
        Vec::<String>::new()
    );

    let org = world.sql("org1234567").await;
    assert_eq!(count(&org, "ocp_ingested_object").await, 2);
    assert_eq!(
        count(&org, "ocp_pod_usage_partial").await,
        10,
        "a row per pod and day"
    );
    assert_close(
        partial_cpu_seconds(&org).await,
        10.0 * POD_DAY_CPU_SECONDS,
        "org1234567 partial CPU",
    );
    assert_fleet_totals(pod_totals(&org, d1).await, 5);
    assert_fleet_totals(pod_totals(&org, d2).await, 5);

    let acct = world.sql("acct10001").await;
    assert_eq!(count(&acct, "ocp_ingested_object").await, 1);
    assert_eq!(count(&acct, "ocp_pod_usage_partial").await, 3);
    assert_close(
        partial_cpu_seconds(&acct).await,
        3.0 * POD_DAY_CPU_SECONDS,
        "acct10001 partial CPU",
    );
    assert_fleet_totals(pod_totals(&acct, d1).await, 3);
    assert_eq!(
        pod_totals(&acct, d2).await.rows,
        0,
        "org's second day stays in org"
    );
    for client in [&org, &acct] {
        let sources: Vec<String> = client
            .query(
                "SELECT DISTINCT source_uuid::text FROM reporting_ocpusagelineitem_daily_summary",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(sources, [SOURCE]);
        assert_eq!(count(client, "ocp_dirty_day").await, 0);
    }
    let control = world.sql("ocp_control").await;
    assert_eq!(
        count(&control, "ocp_dirty_day_index").await,
        0,
        "all rolled up"
    );
    assert_eq!(count(&control, "ocp_rejected_object").await, 0);

    // Each tenant's summary is what a single-tenant deployment makes of its files alone.
    for (schema, client, files) in [
        ("org1234567", &org, &uploads[..2]),
        ("acct10001", &acct, &uploads[2..]),
    ] {
        let single = TestEnv::new(&format!("alone_{schema}")).await;
        for (key, body) in files {
            let event = single.put_event(key, body.clone()).await;
            assert_eq!(outcomes(&single.ingest(event).await), ["ingested"]);
        }
        single.roll_up().await;
        assert_eq!(
            format!("{:?}", summary_rows(client).await),
            format!("{:?}", summary_rows(&single.sql().await).await),
            "{schema} routed vs alone"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_account_parts_are_recorded_and_write_nothing() {
    let world = TenantWorld::new("hostile_accounts", "create").await;
    let d = day(2025, 11, 1);
    let sixty_four = format!("org{}", "1".repeat(61));
    let hostile = [
        "public",
        "pg_catalog",
        "information_schema",
        "org1234567; drop schema x",
        "ORG1",
        "org",
        sixty_four.as_str(),
        "orgé1",
        "org１２３",
        "..",
        "",
    ];
    for account in hostile {
        // No object behind the event: a rejected key is never read (reading it would find
        // nothing and say "superseded", not "rejected").
        let key = tenant_key(account, "pod_usage", d, 0);
        let event = world.event(&key, "0123456789abcdef", 1000);
        let records = world.ingest(event).await;
        assert_eq!(outcomes(&records), ["rejected"], "{account:?}");
    }
    // A redelivery updates its row instead of adding one.
    let again = world.event(
        &tenant_key("public", "pod_usage", d, 0),
        "0123456789abcdef",
        1000,
    );
    assert_eq!(outcomes(&world.ingest(again).await), ["rejected"]);

    let control = world.sql("ocp_control").await;
    let rows = control
        .query(
            "SELECT object_key, etag, reason FROM ocp_rejected_object ORDER BY object_key",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), hostile.len(), "one row per hostile key");
    for account in hostile {
        let key = tenant_key(account, "pod_usage", d, 0);
        let row = rows
            .iter()
            .find(|r| r.get::<_, String>(0) == key)
            .unwrap_or_else(|| panic!("no control row for {account:?}"));
        assert_eq!(
            row.get::<_, Option<String>>(1).as_deref(),
            Some("0123456789abcdef")
        );
        assert!(!row.get::<_, String>(2).is_empty());
    }
    assert_eq!(count(&control, "ocp_dirty_day_index").await, 0);
    let admin = world.sql("public").await;
    assert_eq!(
        schemas(&admin).await,
        ["ocp_control", "public"],
        "no schema created"
    );
    assert_eq!(stray_tables(&admin, &[]).await, Vec::<String>::new());
    assert_eq!(world.roll_up().await["chunks"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn existing_mode_rejects_tenants_koku_has_not_created() {
    let world = TenantWorld::new("existing_tenants", "existing").await;
    let d = day(2025, 11, 3);
    let key = tenant_key("org1234567", "pod_usage", d, 0);
    let body = pod_usage(&fleet(d, 4, "p"), &WriteOptions::default());
    let event = world.put_event(&key, body.clone()).await;
    let records = world.ingest(event).await;
    assert_eq!(outcomes(&records), ["rejected"]);
    assert!(
        records[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("does not exist"),
        "{:?}",
        records[0].detail
    );
    let admin = world.sql("public").await;
    assert_eq!(schemas(&admin).await, ["ocp_control", "public"]);
    assert_eq!(
        count(&world.sql("ocp_control").await, "ocp_rejected_object").await,
        1
    );

    // koku creates the tenant; the next event's object gets our tables added by migration.
    admin
        .batch_execute("CREATE SCHEMA org1234567")
        .await
        .unwrap();
    let event = world.put_event(&key, body).await;
    assert_eq!(outcomes(&world.ingest(event).await), ["ingested"]);
    world.roll_up().await;
    let org = world.sql("org1234567").await;
    assert_eq!(count(&org, "ocp_pod_usage_partial").await, 4);
    assert_fleet_totals(pod_totals(&org, d).await, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_first_objects_at_once_create_the_tenant_once() {
    let world = TenantWorld::new("concurrent_tenant", "create").await;
    let d = day(2025, 11, 4);
    let mut tasks = tokio::task::JoinSet::new();
    for file in 0..10u32 {
        let body = pod_usage(&fleet(d, 2, &format!("f{file}")), &WriteOptions::default());
        let event = world
            .put_event(&tenant_key("org7654321", "pod_usage", d, file), body)
            .await;
        // Ten cold execution environments, each migrating the new tenant on first sight.
        let deps = world.another_ingest().await;
        tasks.spawn(async move {
            ingest::handle(&deps, LambdaEvent::new(event, Default::default()))
                .await
                .map(|records| records[0].outcome.clone())
                .map_err(|e| e.0.to_string())
        });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.unwrap().unwrap(), "ingested");
    }
    let org = world.sql("org7654321").await;
    let history: Vec<(i32, i64)> = org
        .query(
            "SELECT version, count(*) FROM ocp_schema_migration GROUP BY version ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        history,
        [(1, 1), (2, 1), (3, 1), (5, 1), (6, 1)],
        "each migration applied once"
    );
    assert_eq!(count(&org, "ocp_ingested_object").await, 10);
    assert_eq!(count(&org, "ocp_pod_usage_partial").await, 20);
    let control = world.sql("ocp_control").await;
    assert_eq!(
        count(&control, "ocp_dirty_day_index").await,
        1,
        "one (tenant, source, day)"
    );
    world.roll_up().await;
    // Every file's pods 0 and 1 run on (ns-0, node-0) and (ns-1, node-1): two rows for 20 pods.
    let totals = pod_totals(&org, d).await;
    assert_eq!(totals.rows, 2, "{totals:?}");
    assert_close(totals.cpu_usage_core_hours, 20.0 * 0.25 * 24.0, "CPU usage");
    assert_close(
        totals.cpu_request_core_hours,
        20.0 * 0.5 * 24.0,
        "CPU request",
    );
    assert_close(totals.memory_usage_gib_hours, 20.0 * 24.0, "memory usage");
    assert_eq!(count(&control, "ocp_dirty_day_index").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mark_set_after_planning_survives_the_worker_and_is_planned_anew() {
    let world = TenantWorld::new("fanout_mark_race", "create").await;
    let d = day(2025, 11, 5);
    let key = tenant_key("10001", "pod_usage", d, 0);
    let first = pod_usage(&fleet(d, 2, "a"), &WriteOptions::default());
    let event = world.put_event(&key, first).await;
    assert_eq!(outcomes(&world.ingest(event).await), ["ingested"]);
    let control = world.sql("ocp_control").await;
    let plan = || async {
        fanout::messages(
            fanout::dirty_marks(&control, &chrono::Utc::now())
                .await
                .unwrap(),
        )
    };
    let planned = plan().await;
    assert_eq!(planned.len(), 1);
    // The object is overwritten (4 pods) after planning, before the worker runs.
    let second = pod_usage(&fleet(d, 4, "b"), &WriteOptions::default());
    let event = world.put_event(&key, second).await;
    assert_eq!(outcomes(&world.ingest(event).await), ["ingested"]);
    fanout::run_message(&world.rollup.db, &planned[0])
        .await
        .unwrap();
    let acct = world.sql("acct10001").await;
    assert_eq!(
        count(&acct, "ocp_dirty_day").await,
        1,
        "the newer mark stays"
    );
    assert_eq!(count(&control, "ocp_dirty_day_index").await, 1);
    // A retried planner would have sent the same id; the newer mark makes a new one.
    let replanned = plan().await;
    assert_eq!(replanned.len(), 1);
    assert_eq!(replanned[0].group_id(), planned[0].group_id());
    assert_ne!(
        replanned[0].deduplication_id(),
        planned[0].deduplication_id()
    );
    fanout::run_message(&world.rollup.db, &replanned[0])
        .await
        .unwrap();
    assert_eq!(count(&acct, "ocp_dirty_day").await, 0);
    assert_eq!(count(&control, "ocp_dirty_day_index").await, 0);
    assert_fleet_totals(pod_totals(&acct, d).await, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_warm_execution_environment_does_not_migrate_a_tenant_again() {
    let world = TenantWorld::new("warm_migrations", "create").await;
    let d = day(2025, 11, 6);
    let world = &world;
    let put = |file: u32| {
        let body = pod_usage(&fleet(d, 1, &format!("f{file}")), &WriteOptions::default());
        let key = tenant_key("org1234567", "pod_usage", d, file);
        async move { world.put_event(&key, body).await }
    };
    let event = put(0).await;
    assert_eq!(outcomes(&world.ingest(event).await), ["ingested"]);
    // Forget the history: whoever migrates the tenant now re-applies 0003, which cannot run twice.
    let org = world.sql("org1234567").await;
    org.batch_execute("DROP TABLE ocp_schema_migration")
        .await
        .unwrap();
    let event = put(1).await;
    assert_eq!(
        outcomes(&world.ingest(event).await),
        ["ingested"],
        "the warm environment remembers the tenant is migrated"
    );
    let cold = world.another_ingest().await;
    let event = put(2).await;
    let result = ingest::handle(&cold, LambdaEvent::new(event, Default::default())).await;
    assert!(
        result.is_err(),
        "a cold environment migrates (and here fails): the check above is not vacuous"
    );
    assert_eq!(count(&org, "ocp_ingested_object").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_worker_leaves_its_marks_and_the_retried_message_lands_once() {
    let world = TenantWorld::new("fanout_retry", "create").await;
    let d = day(2025, 11, 7);
    let body = pod_usage(&fleet(d, 3, "p"), &WriteOptions::default());
    let event = world
        .put_event(&tenant_key("org1234567", "pod_usage", d, 0), body)
        .await;
    assert_eq!(outcomes(&world.ingest(event).await), ["ingested"]);
    let control = world.sql("ocp_control").await;
    let planned = fanout::messages(
        fanout::dirty_marks(&control, &chrono::Utc::now())
            .await
            .unwrap(),
    );
    assert_eq!(planned.len(), 1);
    // The chunk's transaction fails half-way (its report-period table is out of reach).
    let org = world.sql("org1234567").await;
    org.batch_execute("ALTER TABLE reporting_ocpusagereportperiod RENAME TO away")
        .await
        .unwrap();
    assert!(
        fanout::run_message(&world.rollup.db, &planned[0])
            .await
            .is_err()
    );
    assert_eq!(count(&org, "ocp_dirty_day").await, 1, "marks stay");
    assert_eq!(count(&control, "ocp_dirty_day_index").await, 1);
    assert_eq!(
        count(&org, "reporting_ocpusagelineitem_daily_summary").await,
        0
    );
    // Redelivered (twice, as SQS may): the summary lands once, the marks go.
    org.batch_execute("ALTER TABLE away RENAME TO reporting_ocpusagereportperiod")
        .await
        .unwrap();
    for _ in 0..2 {
        fanout::run_message(&world.rollup.db, &planned[0])
            .await
            .unwrap();
    }
    assert_eq!(count(&org, "ocp_dirty_day").await, 0);
    assert_eq!(count(&control, "ocp_dirty_day_index").await, 0);
    assert_fleet_totals(pod_totals(&org, d).await, 3);
}
