//! The crate's error: what failed, with the file it concerns where there is one.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    Parquet(parquet::errors::ParquetError),
    Arrow(arrow_schema::ArrowError),
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Flags that make no sense together or out of range.
    Usage(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parquet(e) => write!(f, "writing parquet: {e}"),
            Error::Arrow(e) => write!(f, "building columns: {e}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Usage(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Parquet(e) => Some(e),
            Error::Arrow(e) => Some(e),
            Error::Io { source, .. } => Some(source),
            Error::Usage(_) => None,
        }
    }
}

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Self {
        Error::Parquet(e)
    }
}

impl From<arrow_schema::ArrowError> for Error {
    fn from(e: arrow_schema::ArrowError) -> Self {
        Error::Arrow(e)
    }
}

/// Attaches the path to an I/O error.
pub fn io_at(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
