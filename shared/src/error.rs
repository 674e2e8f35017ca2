//! The library's one error type. Callers care about one distinction above all: whether the fault is
//! the *input's* (permanent: record it, do not retry) or the *environment's* (transient: return `Err`
//! so the platform retries). [`Error::is_permanent`] answers that.

use std::fmt;

/// A boxed error from outside the crate (S3 SDK, TLS setup), kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object is bad for good: not Parquet, truncated, wrong columns or types, hostile values.
    #[error("{key}: {reason}")]
    BadInput { key: String, reason: String },

    /// The object cannot be aggregated inside the configured memory ceiling.
    #[error("{key}: cannot be read within the {ceiling_mib} MiB memory ceiling: {reason}")]
    OverCeiling {
        key: String,
        ceiling_mib: u64,
        reason: String,
    },

    /// The object changed (412 on `If-Match`) or vanished (404) since the event: a newer event follows.
    #[error("{key}: {what}; a newer event will describe the current object")]
    Superseded { key: String, what: &'static str },

    /// S3 could not be reached or answered with a server error.
    #[error("S3 request for {key} failed: {source}")]
    S3 {
        key: String,
        #[source]
        source: BoxError,
    },

    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),

    #[error("local spill file: {0}")]
    Io(#[from] std::io::Error),

    #[error("configuration: {0}")]
    Config(String),

    /// A background task (decoder thread) ended abnormally.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn bad_input(key: &str, reason: impl fmt::Display) -> Self {
        Error::BadInput {
            key: key.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// True when retrying cannot help: the file itself is at fault.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Error::BadInput { .. } | Error::OverCeiling { .. })
    }

    /// A short, stable name for logs and the Lambda diagnostic `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::BadInput { .. } => "BadInput",
            Error::OverCeiling { .. } => "OverMemoryCeiling",
            Error::Superseded { .. } => "Superseded",
            Error::S3 { .. } => "S3Unavailable",
            Error::Postgres(_) => "PostgresUnavailable",
            Error::Io(_) => "SpillIo",
            Error::Config(_) => "Configuration",
            Error::Internal(_) => "Internal",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
