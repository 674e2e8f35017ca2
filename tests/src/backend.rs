//! Watching and interrupting the functions' PostgreSQL sessions from another connection: polling
//! `pg_stat_activity`, terminating backends, and gates that stop a transaction just before its
//! commit, so a fault can be injected at a known point instead of after a guessed sleep.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ocp_summary::store::Database;
use tokio_postgres::{Client, SimpleQueryMessage};
use uuid::Uuid;

use crate::harness::sql;

/// Polls `check` every 10 ms until it yields a value; panics naming `what` after `limit`.
pub async fn wait_until<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < limit,
            "gave up after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The server process behind a function's connection.
pub async fn backend_pid(db: &Database) -> i32 {
    // The simple protocol: a prepared statement would be closed by a message sent after the
    // result, which could reach a just-frozen proxy and cut the connection early.
    let messages = db
        .client()
        .await
        .unwrap()
        .simple_query("SELECT pg_backend_pid()")
        .await
        .unwrap();
    messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).map(|pid| pid.parse().unwrap()),
            _ => None,
        })
        .unwrap()
}

/// The current statement (or, when idle, the last one) of backend `pid`, if it still exists.
pub async fn backend_query(admin: &Client, pid: i32) -> Option<String> {
    admin
        .query_opt("SELECT query FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .await
        .unwrap()
        .map(|r| r.get(0))
}

/// Terminates backend `pid` (as a failover or an idle timeout would) and waits until it is gone.
pub async fn terminate(admin: &Client, pid: i32) {
    let done: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(done, "backend {pid} could not be terminated");
    wait_gone(admin, pid).await;
}

/// Waits until backend `pid` has ended (its transaction, if any, rolled back).
pub async fn wait_gone(admin: &Client, pid: i32) {
    wait_until(
        &format!("backend {pid} to end"),
        Duration::from_secs(10),
        || async { backend_query(admin, pid).await.is_none().then_some(()) },
    )
    .await;
}

/// An open transaction on its own connection holding row locks that a function's transaction needs
/// for its last statement before COMMIT: that transaction waits there, with all its work done and
/// nothing committed, until the gate is released.
pub struct CommitGate {
    client: Client,
    pid: i32,
}

impl CommitGate {
    /// An uncommitted dirty mark for (`source`, `day`): an ingest of that day waits when it marks
    /// the day dirty, right before its commit.
    pub async fn before_ingest_commit(schema: &str, source: Uuid, day: NaiveDate) -> CommitGate {
        CommitGate::open(
            schema,
            "INSERT INTO ocp_dirty_day (source_uuid, usage_start, generation) VALUES ($1, $2, 0)",
            &[&source, &day],
        )
        .await
    }

    /// Locks the pod partials against writes: an ingest's COPY into them waits, running.
    pub async fn before_partial_copy(schema: &str) -> CommitGate {
        CommitGate::open(
            schema,
            "LOCK TABLE ocp_pod_usage_partial IN SHARE MODE",
            &[],
        )
        .await
    }

    /// Locks every dirty mark: a roll-up waits when it clears the marks it read, right before its
    /// commit.
    pub async fn before_rollup_commit(schema: &str) -> CommitGate {
        CommitGate::open(schema, "SELECT 1 FROM ocp_dirty_day FOR UPDATE", &[]).await
    }

    async fn open(
        schema: &str,
        statement: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> CommitGate {
        let client = sql(schema).await;
        client.batch_execute("BEGIN").await.unwrap();
        client.execute(statement, params).await.unwrap();
        let pid = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        CommitGate { client, pid }
    }

    /// Waits until some backend is blocked by the gate; returns its pid.
    pub async fn wait_for_blocked(&self, admin: &Client) -> i32 {
        wait_until(
            "a transaction to reach the commit gate",
            Duration::from_secs(15),
            || async {
                admin
                    .query_opt(
                        "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                        &[&self.pid],
                    )
                    .await
                    .unwrap()
                    .map(|r| r.get(0))
            },
        )
        .await
    }

    /// Rolls the gate's transaction back; the blocked transaction goes on (or, if its client is
    /// gone, rolls back).
    pub async fn release(self) {
        self.client.batch_execute("ROLLBACK").await.unwrap();
    }
}
