//! Security properties against the real PostgreSQL of `make test`, whose server certificate is
//! signed by a throwaway CA (`PG_TEST_CA`): verified TLS connects, an unknown CA is refused. And the
//! release binaries never log the database password, whatever the log level and outcome.

use std::path::Path;
use std::process::Command;

use integration_tests::harness::{TestEnv, pg_port, raw_key, services_sdk_config, unique_name};
use integration_tests::koku_parquet::{WriteOptions, day, fleet, pod_usage};
use ocp_summary::store::{DbConfig, open};
use serde_json::json;

fn tls_config(root_cert: &str, host: &str) -> DbConfig {
    let url = std::env::var("DATABASE_URL").expect("run through `make test`");
    // Connect to the loopback address, but verify the certificate against `host`.
    let url = url.replace("@127.0.0.1:", &format!("@{host}:")) + "?hostaddr=127.0.0.1";
    let root = root_cert.to_owned();
    DbConfig::from_vars(move |k| match k {
        "DATABASE_URL" => Some(url.clone()),
        "PGSSLMODE" => Some("verify-full".into()),
        "PGSSLROOTCERT" => Some(root.clone()),
        "DB_SCHEMA" => Some(unique_name("tls")),
        _ => None,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn verified_tls_connects_and_the_session_is_encrypted() {
    let ca = std::env::var("PG_TEST_CA").expect("pg.sh exports the test CA");
    let client = open(&tls_config(&ca, "localhost")).await.unwrap();
    let ssl: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(ssl);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_certificate_from_an_unknown_ca_is_refused() {
    // The system bundle does not contain the throwaway CA that signed the server's certificate.
    let err = open(&tls_config(
        "/etc/ssl/certs/ca-certificates.crt",
        "localhost",
    ))
    .await
    .err();
    let message = format!("{:?}", err.expect("must not connect"));
    assert!(message.contains("UnknownIssuer"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_name_not_in_the_certificate_is_refused() {
    // The certificate names localhost and 127.0.0.1, not this name.
    let ca = std::env::var("PG_TEST_CA").unwrap();
    let err = open(&tls_config(&ca, "db.example.invalid")).await.err();
    let message = format!("{:?}", err.expect("host name verification must fail"));
    assert!(message.contains("NotValidForName"), "{message}");
}

fn moto_url() -> String {
    std::env::var("AWS_ENDPOINT_URL_S3").expect("run through `make test`")
}

/// Runs `command` to the end; returns whether it succeeded and its stdout and stderr together.
fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_log_line_shows_the_database_password_even_at_trace() {
    let env = TestEnv::new("secret_logs").await;
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let port = pg_port();
    let url = |port: u16| format!("postgres://koku:{password}@127.0.0.1:{port}/koku");
    // The server trusts loopback, so any password connects: what matters is where it is printed.
    let secrets = aws_sdk_secretsmanager::Client::new(&services_sdk_config().await);
    let secret_arn = secrets
        .create_secret()
        .name(&env.schema)
        .secret_string(json!({"username": "koku", "password": password}).to_string())
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let d = day(2025, 11, 10);
    let mut files = Vec::new();
    for (chunk, name) in ["ok", "secret", "s3_down"].into_iter().enumerate() {
        let body = pod_usage(&fleet(d, 2, "pod"), &WriteOptions::default());
        let event = env
            .put_event(&raw_key("pod_usage", d, chunk as u32), body)
            .await;
        files.push(env.event_file(name, &event));
    }
    let [ingest_ok, ingest_via_secret, ingest_s3_down] = &files[..] else {
        unreachable!()
    };
    let schedule = env.event_file(
        "schedule",
        // Later than the marks the ingest sets below, so the roll-up has work.
        &json!({"scheduled_time": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()}),
    );
    let traced = |binary: &str, event: &Path| {
        let mut command = env.function_command(binary, event);
        command
            .env("RUST_LOG", "trace")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env_remove("AWS_LAMBDA_LOG_LEVEL")
            .env("DATABASE_URL", url(port))
            .env("PGPASSWORD", &password);
        command
    };

    let runs = [
        ("ingest", run(&mut traced("ingest", ingest_ok)), true),
        ("rollup", run(&mut traced("rollup", &schedule)), true),
        (
            "ingest with the password from Secrets Manager",
            run(traced("ingest", ingest_via_secret)
                .env("DB_SECRET_ARN", &secret_arn)
                .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url())
                .env(
                    "DATABASE_URL",
                    format!("postgres://koku@127.0.0.1:{port}/koku"),
                )
                .env_remove("PGPASSWORD")),
            true,
        ),
        (
            "ingest with S3 down",
            run(traced("ingest", ingest_s3_down).env("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")),
            false,
        ),
        (
            "ingest with PostgreSQL down",
            run(traced("ingest", ingest_ok).env("DATABASE_URL", url(9))),
            false,
        ),
        (
            "rollup with PostgreSQL down, settings in PG* variables",
            run(traced("rollup", &schedule)
                .env_remove("DATABASE_URL")
                .env("PGHOST", "127.0.0.1")
                .env("PGPORT", "9")),
            false,
        ),
    ];
    // The SDK and the runtime log at trace; the roll-up without Secrets Manager may have nothing
    // to say at that level, so the check that trace was on covers all runs together.
    assert!(
        runs.iter()
            .any(|(_, (_, logs), _)| logs.contains(r#""level":"TRACE""#)),
        "trace logging was not on"
    );
    for (what, (succeeded, logs), should_succeed) in &runs {
        assert_eq!(succeeded, should_succeed, "{what}:\n{logs}");
        assert!(
            !logs.contains(password.as_str()),
            "{what}: the password is in the logs:\n{logs}"
        );
    }
}
