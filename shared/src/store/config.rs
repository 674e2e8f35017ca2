//! Database settings from the environment: `DATABASE_URL` or libpq's `PG*` variables, where data
//! goes (`DB_SCHEMA`, or per tenant with `TENANTS`), and TLS from `PGSSLMODE` / `PGSSLROOTCERT`
//! (or `sslmode`/`sslrootcert` in the URL).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_postgres::config::SslMode;

use crate::error::{Error, Result};

/// How to protect the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP (local development and tests only).
    Disable,
    /// TLS, with the server certificate verified against `root_cert` and its host name checked.
    /// libpq's `require` and `verify-ca` are taken as this stricter mode.
    VerifyFull { root_cert: PathBuf },
}

/// A validated SQL identifier (schema name): lower-case letters, digits and `_`, at most 63 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier(String);

impl Identifier {
    pub fn parse(name: &str) -> Result<Self> {
        let ok = !name.is_empty()
            && name.len() <= 63
            && name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Identifier(name.to_owned()))
        } else {
            Err(Error::Config(format!(
                "{name:?} is not a valid schema name (lower-case letters, digits and _, at most 63)"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Identifier {
    /// Always quoted: safe to splice into DDL because `parse` admitted no quote.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0)
    }
}

/// Idle time before the first keepalive probe of a Postgres connection.
pub const TCP_KEEPALIVE_IDLE: std::time::Duration = std::time::Duration::from_secs(30);
/// How long data sent to Postgres may stay unacknowledged before the connection is given up.
pub const TCP_USER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Which schema an object's rows go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tenancy {
    /// `DB_SCHEMA`: every object into one schema, whatever its key's account (single-tenant
    /// installs, and every test that needs a schema of its own).
    Single(Identifier),
    /// The key's account names the tenant schema (see [`crate::koku::tenant`]).
    PerTenant(Provisioning),
}

/// How a tenant schema comes to exist (`TENANTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provisioning {
    /// `existing` (koku mode): koku creates tenant schemas; an object of a tenant without one is
    /// rejected. Our tables are added to an existing schema by migration.
    Existing,
    /// `create` (standalone): a tenant's schema and tables are created on first sight.
    Create,
}

impl Provisioning {
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "existing" => Ok(Provisioning::Existing),
            "create" => Ok(Provisioning::Create),
            other => Err(Error::Config(format!(
                "TENANTS={other:?}: expected \"existing\" or \"create\""
            ))),
        }
    }
}

#[derive(Clone)]
pub struct DbConfig {
    pub pg: tokio_postgres::Config,
    pub tls: TlsMode,
    pub tenancy: Tenancy,
}

impl fmt::Debug for DbConfig {
    /// Never prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbConfig")
            .field("hosts", &self.pg.get_hosts())
            .field("ports", &self.pg.get_ports())
            .field("user", &self.pg.get_user())
            .field("dbname", &self.pg.get_dbname())
            .field("tls", &self.tls)
            .field("tenancy", &self.tenancy)
            .finish()
    }
}

impl DbConfig {
    /// Reads the settings through `var` (the process environment in production).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut url_sslmode = None;
        let mut url_rootcert = None;
        let mut pg = match var("DATABASE_URL").filter(|u| !u.is_empty()) {
            Some(url) => {
                let url = strip_libpq_tls_params(&url, &mut url_sslmode, &mut url_rootcert);
                url.parse::<tokio_postgres::Config>()
                    .map_err(|e| Error::Config(format!("DATABASE_URL: {e}")))?
            }
            None => {
                let mut pg = tokio_postgres::Config::new();
                pg.host(var("PGHOST").unwrap_or_else(|| "localhost".into()));
                let port = var("PGPORT").unwrap_or_else(|| "5432".into());
                pg.port(
                    port.parse()
                        .map_err(|_| Error::Config(format!("PGPORT {port:?}")))?,
                );
                pg.user(var("PGUSER").unwrap_or_else(|| "postgres".into()));
                if let Some(password) = var("PGPASSWORD") {
                    pg.password(password);
                }
                pg.dbname(var("PGDATABASE").unwrap_or_else(|| "postgres".into()));
                pg
            }
        };
        pg.application_name("ocp-summary");
        pg.connect_timeout(std::time::Duration::from_secs(10));
        // A peer that vanished without a reset (a NAT entry dropped while Lambda was frozen, a
        // failover) must fail a statement in seconds, not hold it until the function's timeout.
        pg.keepalives(true)
            .keepalives_idle(TCP_KEEPALIVE_IDLE)
            .keepalives_interval(std::time::Duration::from_secs(10))
            .keepalives_retries(3)
            .tcp_user_timeout(TCP_USER_TIMEOUT);

        let mode = var("PGSSLMODE")
            .or(url_sslmode)
            .unwrap_or_else(|| "disable".into());
        let tls = match mode.as_str() {
            "disable" | "allow" | "prefer" => TlsMode::Disable,
            "require" | "verify-ca" | "verify-full" => {
                let root = var("PGSSLROOTCERT").or(url_rootcert).ok_or_else(|| {
                    Error::Config(format!(
                        "PGSSLMODE={mode} needs PGSSLROOTCERT (a PEM CA bundle)"
                    ))
                })?;
                TlsMode::VerifyFull {
                    root_cert: root.into(),
                }
            }
            other => return Err(Error::Config(format!("unknown PGSSLMODE {other:?}"))),
        };
        pg.ssl_mode(match tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::VerifyFull { .. } => SslMode::Require,
        });
        // An empty DB_SCHEMA is unset: the template passes its parameter through either way.
        let tenancy = match var("DB_SCHEMA").filter(|s| !s.is_empty()) {
            Some(schema) => Tenancy::Single(Identifier::parse(&schema)?),
            None => Tenancy::PerTenant(Provisioning::parse(
                var("TENANTS").as_deref().unwrap_or("existing"),
            )?),
        };
        Ok(DbConfig { pg, tls, tenancy })
    }

    pub fn from_env() -> Result<Self> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// rustls settings for [`TlsMode::VerifyFull`].
    pub fn rustls_config(root_cert: &std::path::Path) -> Result<Arc<rustls::ClientConfig>> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(root_cert)
            .map_err(|e| Error::Config(format!("PGSSLROOTCERT {}: {e}", root_cert.display())))?;
        for cert in certs {
            let cert = cert.map_err(|e| {
                Error::Config(format!("PGSSLROOTCERT {}: {e}", root_cert.display()))
            })?;
            roots.add(cert).map_err(|e| {
                Error::Config(format!("PGSSLROOTCERT {}: {e}", root_cert.display()))
            })?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

/// tokio-postgres knows neither `verify-full` nor `sslrootcert`; take them out of the URL.
fn strip_libpq_tls_params(
    url: &str,
    sslmode: &mut Option<String>,
    rootcert: &mut Option<String>,
) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some(("sslmode", v)) => {
                *sslmode = Some(v.to_owned());
                false
            }
            Some(("sslrootcert", v)) => {
                *rootcert = Some(v.to_owned());
                false
            }
            _ => true,
        })
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn dead_peers_are_detected_by_tcp_keepalives_and_user_timeout() {
        for source in [
            vars(&[("DATABASE_URL", "postgres://u:p@db.example:5432/koku")]),
            vars(&[("PGHOST", "db.example")]),
        ] {
            let config = DbConfig::from_vars(source).unwrap();
            assert!(config.pg.get_keepalives());
            assert_eq!(config.pg.get_keepalives_idle(), TCP_KEEPALIVE_IDLE);
            assert_eq!(
                config.pg.get_tcp_user_timeout(),
                Some(&TCP_USER_TIMEOUT),
                "unacknowledged writes give up well inside the functions' timeouts"
            );
        }
    }

    #[test]
    fn schema_names_are_validated() {
        assert!(Identifier::parse("org1234567").is_ok());
        assert!(Identifier::parse("_x9").is_ok());
        for bad in [
            "",
            "1abc",
            "Public",
            "a-b",
            "a\"b",
            "x; drop table y",
            &"a".repeat(64),
        ] {
            assert!(Identifier::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Identifier::parse("org1").unwrap().to_string(), "\"org1\"");
    }

    #[test]
    fn url_tls_parameters_are_understood() {
        let cfg = DbConfig::from_vars(vars(&[(
            "DATABASE_URL",
            "postgres://u:secret@db:5432/koku?sslmode=verify-full&sslrootcert=/ca.pem",
        )]))
        .unwrap();
        assert_eq!(
            cfg.tls,
            TlsMode::VerifyFull {
                root_cert: "/ca.pem".into()
            }
        );
        assert_eq!(cfg.pg.get_dbname(), Some("koku"));
        assert!(
            !format!("{cfg:?}").contains("secret"),
            "Debug must not show the password"
        );
    }

    #[test]
    fn verification_needs_a_root_certificate() {
        let err = DbConfig::from_vars(vars(&[("PGSSLMODE", "verify-full")])).unwrap_err();
        assert!(err.to_string().contains("PGSSLROOTCERT"));
        let err = DbConfig::from_vars(vars(&[("DB_SCHEMA", "bad-name")])).unwrap_err();
        assert!(err.to_string().contains("schema"));
    }

    #[test]
    fn db_schema_overrides_routing_by_tenant() {
        let single = DbConfig::from_vars(vars(&[("DB_SCHEMA", "org1"), ("TENANTS", "create")]));
        assert_eq!(
            single.unwrap().tenancy,
            Tenancy::Single(Identifier::parse("org1").unwrap())
        );
        let tenancy = |pairs: &[(&str, &str)]| DbConfig::from_vars(vars(pairs)).map(|c| c.tenancy);
        assert_eq!(
            tenancy(&[]).unwrap(),
            Tenancy::PerTenant(Provisioning::Existing),
            "koku mode by default: never create schemas a key names"
        );
        assert_eq!(
            tenancy(&[("DB_SCHEMA", ""), ("TENANTS", "create")]).unwrap(),
            Tenancy::PerTenant(Provisioning::Create)
        );
        assert!(tenancy(&[("TENANTS", "yes")]).is_err());
    }
}
