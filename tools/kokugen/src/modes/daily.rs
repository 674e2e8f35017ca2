//! The default mode: each day of a small cluster, all four report types, in koku's daily split.

use arrow_array::RecordBatch;
use chrono::{Datelike, NaiveDate, TimeDelta};

use super::{Sink, world_spec};
use crate::columns::{number, same_time, text};
use crate::config::Config;
use crate::error::Result;
use crate::model::labels::LabelStyle;
use crate::model::pods::{Kind, Placement};
use crate::model::{World, build_world};
use crate::output::OutFile;
use crate::rng::{Rng, hash_str};
use crate::schema::{self, Entity, ReportType};
use crate::time::{HOUR_MS, INTERVAL_END_MS, hours, midnight, millis, period};
use crate::usage::{Row, STREAM_CRONJOB, STREAM_STORAGE_HOUR, pod_hour};

/// Each pod's day: present in hours [start, end), seconds present in the first and last hour, and
/// its name that day.
struct Window {
    start: u32,
    end: u32,
    first: u32,
    last: u32,
    name: String,
}

/// Long-running pods are present all 24 hours; a cron-job pod runs 1-4 hours from a random minute,
/// under a new name each day (`{job}-{scheduled minute since epoch}-{suffix}`, as CronJobs name
/// their Jobs).
fn windows(world: &World, seed: u64, day: NaiveDate) -> Vec<Window> {
    world
        .pods
        .iter()
        .map(|p| {
            if p.kind != Kind::Cronjob {
                return Window {
                    start: 0,
                    end: 24,
                    first: 3600,
                    last: 3600,
                    name: p.name.clone(),
                };
            }
            let mut r = Rng::new(&[
                seed,
                STREAM_CRONJOB,
                hash_str(&p.name),
                hash_str(&day.to_string()),
            ]);
            let start = r.int(0, 22) as u32;
            let end = (start + r.int(1, 4) as u32).min(24);
            let minute = r.int(0, 59) as u32;
            let sched = (millis(midnight(day)) / 60_000) + i64::from(start * 60 + minute);
            Window {
                start,
                end,
                first: (60 - minute) * 60,
                last: r.int(5, 60) as u32 * 60,
                name: format!("{}-{sched}-{}", p.workload, r.k8s(5)),
            }
        })
        .collect()
}

pub fn run(config: &Config, sink: &mut Sink<'_>) -> Result<()> {
    let nodes = config.nodes.unwrap_or(4);
    let per_node = config.pods_per_node.unwrap_or(20);
    let placement = Placement {
        per_node,
        budget: nodes * per_node,
        with_jobs: true,
    };
    let labels = LabelStyle::Simple {
        keys: config.label_keys,
        unique: config.unique_pod_labels,
    };
    let world = build_world(&world_spec(
        config,
        nodes,
        config.namespaces.unwrap_or(10),
        placement,
        labels,
        config.pvcs,
    ));
    for d in 0..config.days {
        let day = config.first_day + TimeDelta::days(i64::from(d));
        let windows = windows(&world, config.seed, day);
        pod_usage_day(config, sink, &world, &windows, day)?;
        storage_usage_day(config, sink, &world, &windows, day)?;
        let nodes: Vec<(&str, &str)> = world
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.labels.as_str()))
            .collect();
        labels_day(sink, Entity::Node, &nodes, day)?;
        let namespaces: Vec<(&str, &str)> = world
            .namespaces
            .iter()
            .map(|n| (n.name.as_str(), n.labels.as_str()))
            .collect();
        labels_day(sink, Entity::Namespace, &namespaces, day)?;
    }
    Ok(())
}

fn pod_usage_day(
    config: &Config,
    sink: &mut Sink<'_>,
    world: &World,
    windows: &[Window],
    day: NaiveDate,
) -> Result<()> {
    let mut file = OutFile::create(
        &sink.layout,
        ReportType::PodUsage,
        day,
        schema::pod_usage(true),
        &sink.options,
    )?;
    let names: Vec<&str> = windows.iter().map(|w| w.name.as_str()).collect();
    let labels: Vec<&str> = world.pods.iter().map(|p| p.labels.as_str()).collect();
    for (h, at) in hours(day).enumerate() {
        let h = h as u32;
        let rows: Vec<Row> = windows
            .iter()
            .enumerate()
            .filter(|(_, w)| w.start <= h && h < w.end)
            .map(|(i, w)| {
                // partial first and last hours of short-lived pods
                let secs = if w.start == h {
                    w.first
                } else if w.end - 1 == h && w.end - w.start > 1 {
                    w.last
                } else {
                    3600
                };
                Row {
                    pod: i as u32,
                    ident: i as u32,
                    secs,
                }
            })
            .collect();
        pod_hour(world, config.seed, at, &rows, &names, &labels, &mut |b| {
            file.writer.write(b)
        })?;
    }
    sink.report(file.finish(24)?);
    Ok(())
}

/// One row per (PVC, mounting pod, hour); a shared claim has one row per pod, with the same
/// capacity and usage, and `node` the pod's node.
fn storage_usage_day<'w>(
    config: &Config,
    sink: &mut Sink<'_>,
    world: &'w World,
    windows: &'w [Window],
    day: NaiveDate,
) -> Result<()> {
    let mut file = OutFile::create(
        &sink.layout,
        ReportType::StorageUsage,
        day,
        schema::storage_usage(true),
        &sink.options,
    )?;
    let mounts: Vec<(usize, usize)> = world
        .pvcs
        .iter()
        .enumerate()
        .flat_map(|(v, pvc)| pvc.pods.iter().map(move |&p| (v, p)))
        .collect();
    let (period_start, _) = period(midnight(day));
    for (h, at) in hours(day).enumerate() {
        let h = h as u32;
        let rows: Vec<(usize, usize)> = mounts
            .iter()
            .copied()
            .filter(|&(_, p)| windows[p].start <= h && h < windows[p].end)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let hours_into_month = ((millis(at) - millis(period_start)) / HOUR_MS) as f64;
        let mut r = Rng::new(&[
            config.seed,
            STREAM_STORAGE_HOUR,
            day.num_days_from_ce() as u64,
            u64::from(h),
        ]);
        // the same value on every row of a claim
        let used: Vec<f64> = world
            .pvcs
            .iter()
            .map(|c| {
                (c.cap_bytes
                    * (c.used0 + c.growth * hours_into_month + 0.002 * r.normal())
                        .clamp(0.001, 0.98))
                .floor()
            })
            .collect();
        let pvc = |&(v, _): &(usize, usize)| &world.pvcs[v];
        let (start, end) = period(at);
        let n = rows.len();
        let columns = vec![
            same_time(millis(start), n),
            same_time(millis(end), n),
            same_time(millis(at), n),
            same_time(millis(at) + INTERVAL_END_MS, n),
            text(&rows, |r| world.namespaces[pvc(r).ns].name.as_str()),
            text(&rows, |&(_, p)| windows[p].name.as_str()),
            text(&rows, |r| pvc(r).name.as_str()),
            text(&rows, |r| pvc(r).pv.as_str()),
            text(&rows, |r| pvc(r).storageclass),
            number(&rows, |r| pvc(r).cap_bytes),
            number(&rows, |r| pvc(r).cap_bytes * 3600.0),
            number(&rows, |r| pvc(r).req_bytes * 3600.0),
            number(&rows, |&(v, _)| used[v] * 3600.0),
            text(&rows, |r| pvc(r).pv_labels.as_str()),
            text(&rows, |r| pvc(r).pvc_labels.as_str()),
            text(&rows, |&(_, p)| {
                world.nodes[world.pods[p].node].name.as_str()
            }),
            text(&rows, |r| pvc(r).csi_driver),
            text(&rows, |r| pvc(r).csi_handle.as_str()),
        ];
        file.writer
            .write(&RecordBatch::try_new(schema::storage_usage(true), columns)?)?;
    }
    sink.report(file.finish(24)?);
    Ok(())
}

/// One row per node (or namespace) per hour.
fn labels_day<'e>(
    sink: &mut Sink<'_>,
    entity: Entity,
    entities: &[(&'e str, &'e str)],
    day: NaiveDate,
) -> Result<()> {
    let mut file = OutFile::create(
        &sink.layout,
        entity.report_type(),
        day,
        schema::labels(entity),
        &sink.options,
    )?;
    let n = entities.len();
    for at in hours(day) {
        let (start, end) = period(at);
        let columns = vec![
            same_time(millis(start), n),
            same_time(millis(end), n),
            same_time(millis(at), n),
            same_time(millis(at) + INTERVAL_END_MS, n),
            text(entities, |e| e.0),
            text(entities, |e| e.1),
        ];
        file.writer
            .write(&RecordBatch::try_new(schema::labels(entity), columns)?)?;
    }
    sink.report(file.finish(24)?);
    Ok(())
}
