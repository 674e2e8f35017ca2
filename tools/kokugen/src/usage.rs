//! One hour of pod_usage rows: usage drawn per pod from a stream of its own hour, so any hour can
//! be made on its own and a pod's values do not depend on which other pods run.
//!
//! Usage follows a per-pod diurnal curve with lognormal noise, may exceed the request (so effective
//! usage = max(usage, request) differs from it) but never the limit, and the pods of a node never
//! use more than 95 % of its capacity together.

use arrow_array::RecordBatch;
use chrono::{Datelike, NaiveDateTime, Timelike};

use crate::columns::{number, same_time, text};
use crate::error::Result;
use crate::model::World;
use crate::model::pods::MIB;
use crate::rng::Rng;
use crate::schema;
use crate::time::{INTERVAL_END_MS, millis, period};

/// Random streams: the first number after the seed in every [`Rng::new`] tuple.
pub const STREAM_POD_HOUR: u64 = 1;
pub const STREAM_STORAGE_HOUR: u64 = 2;
pub const STREAM_CRONJOB: u64 = 3;
pub const STREAM_CHURN: u64 = 4;
pub const STREAM_ORDER: u64 = 5;

/// A row of the hour: which pod (its place in the cluster: node, sizing), under which name and
/// labels (`ident`, an index into the hour's names and labels: a replaced pod and its successor
/// share a place but not a name), present for how many seconds of the hour.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub pod: u32,
    pub ident: u32,
    pub secs: u32,
}

/// Each pod's (cpu cores, memory bytes) used at hour `at` if it ran the whole hour, before the
/// node cap.
fn draw(world: &World, seed: u64, at: NaiveDateTime) -> Vec<(f64, f64)> {
    let hour = at.hour();
    let mut rng = Rng::new(&[
        seed,
        STREAM_POD_HOUR,
        at.date().num_days_from_ce() as u64,
        u64::from(hour),
    ]);
    world
        .pods
        .iter()
        .map(|p| {
            let phase = (std::f64::consts::TAU * (f64::from(hour) - p.peak) / 24.0).sin();
            let cpu = p.cpu_req * p.cpu_util * (1.0 + p.amp * phase) * rng.lognormal(0.0, 0.2);
            let mem =
                p.mem_req * p.mem_util * (1.0 + 0.2 * p.amp * phase) * rng.lognormal(0.0, 0.04);
            (
                cpu.clamp(0.0001, p.cpu_lim),
                mem.clamp(4.0 * MIB, p.mem_lim),
            )
        })
        .collect()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Rows per record batch handed to the writer: an hour of a 400K-pod cluster is built in slices.
const BATCH_ROWS: usize = 1 << 16;

/// Writes the pod_usage rows of hour `at` for `rows` through `write`, a slice at a time, naming and
/// labelling a row as `names[row.ident]` and `labels[row.ident]`.
pub fn pod_hour<'a>(
    world: &'a World,
    seed: u64,
    at: NaiveDateTime,
    rows: &[Row],
    names: &[&'a str],
    labels: &[&'a str],
    write: &mut dyn FnMut(&RecordBatch) -> Result<()>,
) -> Result<()> {
    let mut used = draw(world, seed, at);
    // The node cap: scale the pods of a node down to 95 % of its capacity, counting each row for
    // the part of the hour it ran.
    let mut totals = vec![(0.0, 0.0); world.nodes.len()];
    for r in rows {
        let (cpu, mem) = used[r.pod as usize];
        let share = f64::from(r.secs) / 3600.0;
        let t = &mut totals[world.pods[r.pod as usize].node];
        t.0 += cpu * share;
        t.1 += mem * share;
    }
    for (u, pod) in used.iter_mut().zip(&world.pods) {
        let (cpu, mem) = totals[pod.node];
        let node = &world.nodes[pod.node];
        let cs = (0.95 * node.cores / cpu.max(1e-9)).min(1.0);
        let ms = (0.95 * node.mem_bytes / mem.max(1e-9)).min(1.0);
        *u = (u.0 * cs, (u.1 * ms).floor());
    }
    let (start, end) = period(at);
    let pod = |r: &Row| &world.pods[r.pod as usize];
    let node = |r: &Row| &world.nodes[world.pods[r.pod as usize].node];
    let secs = |r: &Row| f64::from(r.secs);
    let usage_cpu = |r: &Row| round6(used[r.pod as usize].0 * secs(r));
    let req_cpu = |r: &Row| round6(pod(r).cpu_req * secs(r));
    let usage_mem = |r: &Row| used[r.pod as usize].1 * secs(r);
    let req_mem = |r: &Row| pod(r).mem_req * secs(r);
    for rows in rows.chunks(BATCH_ROWS) {
        let n = rows.len();
        let columns = vec![
            same_time(millis(start), n),
            same_time(millis(end), n),
            text(rows, |r| names[r.ident as usize]),
            text(rows, |r| world.namespaces[pod(r).ns].name.as_str()),
            text(rows, |r| node(r).name.as_str()),
            text(rows, |r| node(r).resource_id.as_str()),
            same_time(millis(at), n),
            same_time(millis(at) + INTERVAL_END_MS, n),
            number(rows, usage_cpu),
            number(rows, req_cpu),
            number(rows, |r| round6(pod(r).cpu_lim * secs(r))),
            number(rows, usage_mem),
            number(rows, req_mem),
            number(rows, |r| pod(r).mem_lim * secs(r)),
            number(rows, |r| node(r).cores),
            number(rows, |r| node(r).cores * 3600.0),
            number(rows, |r| node(r).mem_bytes),
            number(rows, |r| node(r).mem_bytes * 3600.0),
            text(rows, |r| labels[r.ident as usize]),
            text(rows, |r| node(r).role.name()),
            number(rows, |r| usage_cpu(r).max(req_cpu(r))),
            number(rows, |r| usage_mem(r).max(req_mem(r))),
        ];
        write(&RecordBatch::try_new(schema::pod_usage(true), columns)?)?;
    }
    Ok(())
}
