//! Security properties against the real PostgreSQL of `make test`, whose server certificate is
//! signed by a throwaway CA (`PG_TEST_CA`): verified TLS connects, an unknown CA is refused.

use integration_tests::harness::unique_name;
use ocp_summary::store::{DbConfig, open};

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
