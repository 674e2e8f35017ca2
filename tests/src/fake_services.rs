//! Misbehaving network peers on loopback, for fault tests: an HTTP endpoint standing in for S3 that
//! fails in one chosen way, and a TCP relay in front of PostgreSQL that can play dead the way a
//! connection does after Lambda froze the environment.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How the fake S3 endpoint answers every request.
#[derive(Debug, Clone, Copy)]
pub enum Misbehaviour {
    /// An S3 error document with this 5xx status.
    ServerError(u16),
    /// Accepts the connection, reads the request, never answers.
    Silent,
    /// Sends the headers of a 1 MiB object, then not a byte of its body.
    StalledBody,
}

/// An HTTP endpoint on loopback that misbehaves on every request. Stops when dropped.
pub struct FakeS3 {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    server: JoinHandle<()>,
}

impl FakeS3 {
    pub async fn start(misbehaviour: Misbehaviour) -> FakeS3 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let server = tokio::spawn(async move {
            // Owned here, so aborting the server also ends the connections it holds open.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(answer(stream, misbehaviour, counter.clone()));
            }
        });
        FakeS3 {
            addr,
            requests,
            server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far (retries included).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FakeS3 {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(mut stream: TcpStream, misbehaviour: Misbehaviour, requests: Arc<AtomicUsize>) {
    // The SDK's GET and HEAD requests have no body: the request ends with the blank line.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    match misbehaviour {
        Misbehaviour::ServerError(status) => {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ServiceUnavailable</Code>\
                        <Message>fake outage</Message><RequestId>FAKE</RequestId></Error>";
            let response = format!(
                "HTTP/1.1 {status} Fake Outage\r\nContent-Type: application/xml\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        }
        Misbehaviour::Silent => std::future::pending::<()>().await,
        Misbehaviour::StalledBody => {
            let size = 1 << 20;
            let response = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\n\
                 Content-Length: {size}\r\nContent-Range: bytes 0-{}/{size}\r\nETag: \"fake\"\r\n\r\n",
                size - 1
            );
            let _ = stream.write_all(response.as_bytes()).await;
            std::future::pending::<()>().await
        }
    }
}

/// A TCP relay in front of the test PostgreSQL. [`FreezingProxy::freeze`] makes the connections open
/// at that moment behave like ones the server dropped while Lambda had the environment frozen: the
/// client sees nothing (no error message, no close) until it next writes, and then the connection
/// is gone. Connections opened afterwards are relayed normally. Stops when dropped.
pub struct FreezingProxy {
    port: u16,
    epoch: Arc<AtomicU64>,
    server: JoinHandle<()>,
}

impl FreezingProxy {
    pub async fn start(upstream_port: u16) -> FreezingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let epoch = Arc::new(AtomicU64::new(0));
        let current = epoch.clone();
        let server = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let born = current.load(Ordering::SeqCst);
                let current = current.clone();
                connections.spawn(async move {
                    if let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await {
                        relay(client, server, move || {
                            current.load(Ordering::SeqCst) > born
                        })
                        .await;
                    }
                });
            }
        });
        FreezingProxy {
            port,
            epoch,
            server,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Freezes every connection open now (see the type's documentation).
    pub fn freeze(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for FreezingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn relay(mut client: TcpStream, mut server: TcpStream, frozen: impl Fn() -> bool) {
    let mut up = [0u8; 16 * 1024];
    let mut down = [0u8; 16 * 1024];
    let mut server_open = true;
    loop {
        tokio::select! {
            read = client.read(&mut up) => match read {
                Ok(n) if n > 0 && !frozen() => {
                    if server.write_all(&up[..n]).await.is_err() {
                        return;
                    }
                }
                // The client's first write after the freeze meets a dead connection.
                _ => return,
            },
            read = server.read(&mut down), if server_open => match read {
                Ok(n) if n > 0 => {
                    // Whatever the server says after the freeze (its FATAL on termination) is lost.
                    if !frozen() && client.write_all(&down[..n]).await.is_err() {
                        return;
                    }
                }
                _ if frozen() => server_open = false,
                _ => return,
            },
        }
    }
}
