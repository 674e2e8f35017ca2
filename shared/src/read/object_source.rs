//! The seam between I/O and decoding: ranged reads of one object version. S3 implements it for the
//! functions; a local file implements it for tests and tools.

use std::future::Future;
use std::ops::Range;
use std::path::PathBuf;

use bytes::Bytes;
use futures_util::stream::BoxStream;

use crate::error::{Error, Result};

/// A stream of the bytes of one range, in order.
pub type RangeStream = BoxStream<'static, Result<Bytes>>;

pub trait ObjectSource: Sync {
    /// The object's key, for messages.
    fn key(&self) -> &str;
    /// The object's size in bytes.
    fn size(&self) -> u64;
    /// Streams `range` of the object, failing with [`Error::Superseded`] if it changed.
    fn read_range(&self, range: Range<u64>) -> impl Future<Output = Result<RangeStream>> + Send;
    /// The value of the object's user metadata `name` (lower case), once a read has returned it:
    /// koku tags payloads this way ([`crate::ingest::payload`]). Sources without metadata have none.
    fn user_metadata(&self, _name: &str) -> Option<String> {
        None
    }
}

/// A file on local disk posing as an object.
#[derive(Debug, Clone)]
pub struct LocalObject {
    pub path: PathBuf,
    pub key: String,
    pub size: u64,
}

impl LocalObject {
    pub fn open(path: impl Into<PathBuf>, key: &str) -> Result<Self> {
        let path = path.into();
        let size = std::fs::metadata(&path)?.len();
        Ok(LocalObject {
            path,
            key: key.to_owned(),
            size,
        })
    }
}

impl ObjectSource for LocalObject {
    fn key(&self) -> &str {
        &self.key
    }

    fn size(&self) -> u64 {
        self.size
    }

    async fn read_range(&self, range: Range<u64>) -> Result<RangeStream> {
        use std::os::unix::fs::FileExt;
        const PIECE: u64 = 1 << 20;
        let file = std::fs::File::open(&self.path)?;
        let pieces = (range.start..range.end)
            .step_by(PIECE as usize)
            .map(move |start| {
                let len = PIECE.min(range.end - start) as usize;
                let mut buf = vec![0; len];
                file.read_exact_at(&mut buf, start).map_err(Error::from)?;
                Ok(Bytes::from(buf))
            });
        Ok(Box::pin(futures_util::stream::iter(pieces)))
    }
}
