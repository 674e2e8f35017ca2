//! [`ObjectSource`] over S3: every request carries `If-Match` with the event's ETag, so all bytes read
//! belong to the version the event announced. A 412 or 404 means a newer event is on its way.
//! The object's user metadata comes with every response, so it is kept from the first one.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::error::{Error, Result};
use crate::read::object_source::{ObjectSource, RangeStream};

#[derive(Debug, Clone)]
pub struct S3Object {
    client: Client,
    bucket: String,
    key: String,
    etag: Option<String>,
    size: u64,
    /// User metadata, names lower-cased; every response carries the same (`If-Match`).
    metadata: OnceLock<HashMap<String, String>>,
}

impl S3Object {
    /// Binds to one version. The size comes from the event when it has one, else from a HEAD.
    pub async fn open(
        client: Client,
        bucket: &str,
        key: &str,
        etag: Option<&str>,
        size: Option<u64>,
    ) -> Result<Self> {
        let etag = etag.filter(|e| !e.is_empty()).map(quote_etag);
        let metadata = OnceLock::new();
        let size = match size {
            Some(size) if size > 0 => size,
            _ => {
                let head = client
                    .head_object()
                    .bucket(bucket)
                    .key(key)
                    .set_if_match(etag.clone())
                    .send()
                    .await
                    .map_err(|e| classify(key, e))?;
                keep_metadata(&metadata, head.metadata());
                head.content_length().unwrap_or(0).max(0) as u64
            }
        };
        Ok(S3Object {
            client,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            etag,
            size,
            metadata,
        })
    }
}

fn keep_metadata(
    kept: &OnceLock<HashMap<String, String>>,
    metadata: Option<&HashMap<String, String>>,
) {
    kept.get_or_init(|| {
        metadata
            .into_iter()
            .flatten()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect()
    });
}

impl ObjectSource for S3Object {
    fn key(&self) -> &str {
        &self.key
    }

    fn size(&self) -> u64 {
        self.size
    }

    async fn read_range(&self, range: Range<u64>) -> Result<RangeStream> {
        let response = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .set_if_match(self.etag.clone())
            .range(format!(
                "bytes={}-{}",
                range.start,
                range.end.saturating_sub(1)
            ))
            .send()
            .await
            .map_err(|e| classify(&self.key, e))?;
        keep_metadata(&self.metadata, response.metadata());
        let key = self.key.clone();
        let stream = futures_util::stream::unfold(Some(response.body), move |body| {
            let key = key.clone();
            async move {
                let mut body = body?;
                match body.next().await {
                    None => None,
                    Some(Ok(bytes)) => Some((Ok(bytes), Some(body))),
                    Some(Err(e)) => Some((
                        Err(Error::S3 {
                            key,
                            source: Box::new(e),
                        }),
                        None,
                    )),
                }
            }
        });
        Ok(Box::pin(stream))
    }

    fn user_metadata(&self, name: &str) -> Option<String> {
        self.metadata.get()?.get(name).cloned()
    }
}

/// S3 wants the ETag quoted in `If-Match`; events carry it bare.
fn quote_etag(etag: &str) -> String {
    if etag.starts_with('"') {
        etag.to_owned()
    } else {
        format!("\"{etag}\"")
    }
}

/// 404 and 412 mean the event is stale; everything else is a fault of the service or the network.
fn classify<E>(key: &str, err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    match status {
        Some(404) => Error::Superseded {
            key: key.to_owned(),
            what: "object no longer exists",
        },
        Some(412) => Error::Superseded {
            key: key.to_owned(),
            what: "object changed since the event (If-Match failed)",
        },
        _ => Error::S3 {
            key: key.to_owned(),
            source: Box::new(err),
        },
    }
}
