//! `--cluster-pods N`: pod_usage of a large cluster, the benchmark's hardest case. Every pod runs
//! all 24 hours of each day; about one node per 100 pods and one namespace per 20; every pod has
//! 3-8 labels (200-500 bytes of JSON text) with one value of its own, so past the first MiB of
//! dictionary the label column is plain-encoded; the pods of an hour come in a fixed shuffled order,
//! not grouped by node or namespace.
//!
//! With `--churn`, each pod is replaced after a lifetime of 0.5-1.5 x `--churn-days` days at a
//! random minute: the successor keeps the place (node, namespace, workload, requests) but gets a new
//! name (statefulset and static pods keep theirs, as in Kubernetes) and a new unique label value. In
//! the hour of a replacement both pods have a row, for the minutes each ran.

use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use chrono::{NaiveDate, TimeDelta};

use super::{Shape, Sink, world_spec};
use crate::config::Config;
use crate::error::Result;
use crate::model::labels::{LabelStyle, RICH_UNIQUE_KEY, pod_json};
use crate::model::pods::{Kind, Placement, Pod};
use crate::model::{World, build_world};
use crate::output::OutFile;
use crate::rng::Rng;
use crate::schema::{self, ReportType};
use crate::time::{hours, month_start};
use crate::usage::{Row, STREAM_CHURN, STREAM_ORDER, pod_hour};

/// Pods per node and per namespace of a large cluster.
pub const PODS_PER_NODE: f64 = 100.0;
pub const PODS_PER_NAMESPACE: f64 = 20.0;

pub fn run(config: &Config, sink: &mut Sink<'_>, pods: usize, churn: bool) -> Result<Shape> {
    let nodes = config
        .nodes
        .unwrap_or(((pods as f64 / PODS_PER_NODE).round() as usize).max(1));
    let namespaces = config
        .namespaces
        .unwrap_or(((pods as f64 / PODS_PER_NAMESPACE).round() as usize).max(1));
    let placement = Placement {
        per_node: pods.div_ceil(nodes),
        budget: pods,
        with_jobs: false,
    };
    let world = build_world(&world_spec(
        config,
        nodes,
        namespaces,
        placement,
        LabelStyle::Rich,
        0,
    ));
    let mut order: Vec<u32> = (0..world.pods.len() as u32).collect();
    Rng::new(&[config.seed, STREAM_ORDER]).shuffle(&mut order);
    let mut distinct = HashSet::new();
    let hasher = BuildHasherDefault::<DefaultHasher>::default();
    for d in 0..config.days {
        let day = config.first_day + TimeDelta::days(i64::from(d));
        let lives = if churn {
            day_lives(&world, config, day)
        } else {
            world
                .pods
                .iter()
                .map(|p| vec![Life::whole_day(&p.name, &p.labels)])
                .collect()
        };
        let mut file = OutFile::create(
            &sink.layout,
            ReportType::PodUsage,
            day,
            schema::pod_usage(true),
            &sink.options,
        )?;
        // Every life of the day gets an ident: its index in this flat list.
        let flat: Vec<(u32, &Life)> = lives
            .iter()
            .enumerate()
            .flat_map(|(pod, ls)| ls.iter().map(move |l| (pod as u32, l)))
            .collect();
        let names: Vec<&str> = flat.iter().map(|(_, l)| l.name.as_ref()).collect();
        let labels: Vec<&str> = flat.iter().map(|(_, l)| l.labels.as_ref()).collect();
        // 64-bit hashes rather than the texts: a 10M-row day's labels would cost another 150 MB.
        distinct.extend(labels.iter().map(|l| hasher.hash_one(l)));
        let mut first_ident = vec![0u32; lives.len()];
        let mut next = 0u32;
        for (pod, ls) in lives.iter().enumerate() {
            first_ident[pod] = next;
            next += ls.len() as u32;
        }
        for (h, at) in hours(day).enumerate() {
            let (from, to) = (h as u32 * 60, h as u32 * 60 + 60);
            let mut rows = Vec::with_capacity(order.len());
            for &pod in &order {
                for (k, life) in lives[pod as usize].iter().enumerate() {
                    let minutes = life.end.min(to).saturating_sub(life.start.max(from));
                    if minutes > 0 {
                        rows.push(Row {
                            pod,
                            ident: first_ident[pod as usize] + k as u32,
                            secs: minutes * 60,
                        });
                    }
                }
            }
            pod_hour(&world, config.seed, at, &rows, &names, &labels, &mut |b| {
                file.writer.write(b)
            })?;
        }
        sink.report(file.finish(24)?);
    }
    Ok(Shape {
        pods: world.pods.len(),
        nodes: world.nodes.len(),
        namespaces: world.namespaces.len(),
        hours: u64::from(config.days) * 24,
        distinct_pod_labels: distinct.len(),
    })
}

/// One pod in a place during a day: minutes [start, end) of the day (0-1440). Borrowed from the
/// world for the pods it holds, owned for their successors.
#[derive(Debug, Clone)]
struct Life<'w> {
    start: u32,
    end: u32,
    name: Cow<'w, str>,
    labels: Cow<'w, str>,
}

impl<'w> Life<'w> {
    fn whole_day(name: &'w str, labels: &'w str) -> Self {
        Life {
            start: 0,
            end: 1440,
            name: Cow::Borrowed(name),
            labels: Cow::Borrowed(labels),
        }
    }
}

/// The pods that hold each place during `day`. Lifetimes are drawn from the start of the month on,
/// per place, so a day's file does not depend on which other days are written.
fn day_lives<'w>(world: &'w World, config: &Config, day: NaiveDate) -> Vec<Vec<Life<'w>>> {
    let day_from = i64::from((day - month_start(day)).num_days() as i32) * 1440;
    let day_to = day_from + 1440;
    let mean = config.churn_days * 1440.0;
    world
        .pods
        .iter()
        .enumerate()
        .map(|(place, pod)| {
            let mut rng = Rng::new(&[config.seed, STREAM_CHURN, place as u64]);
            let life = |rng: &mut Rng| (mean * rng.uniform(0.5, 1.5)).round().max(1.0) as i64;
            // generation 0 started before the month
            let first = life(&mut rng);
            let mut start = -(rng.uniform(0.0, first as f64) as i64);
            let mut end = start + first;
            let mut generation = 0u64;
            let mut out = Vec::new();
            while start < day_to {
                if end > day_from {
                    let (name, labels) = successor(config.seed, place, pod, generation);
                    out.push(Life {
                        start: (start.max(day_from) - day_from) as u32,
                        end: (end.min(day_to) - day_from) as u32,
                        name,
                        labels,
                    });
                }
                generation += 1;
                start = end;
                end = start + life(&mut rng);
            }
            out
        })
        .collect()
}

/// Name and labels of generation `generation` of the pod in `place` (generation 0: the pod itself).
fn successor(seed: u64, place: usize, pod: &Pod, generation: u64) -> (Cow<'_, str>, Cow<'_, str>) {
    if generation == 0 {
        return (Cow::Borrowed(&pod.name), Cow::Borrowed(&pod.labels));
    }
    let mut rng = Rng::new(&[seed, STREAM_CHURN, place as u64, generation]);
    let segments: Vec<&str> = pod.name.split('-').collect();
    let keep = |drop: usize| segments[..segments.len().saturating_sub(drop)].join("-");
    let name = match pod.kind {
        Kind::Statefulset | Kind::Static => pod.name.clone(),
        Kind::Daemonset | Kind::Vm | Kind::Cronjob => format!("{}-{}", keep(1), rng.k8s(5)),
        Kind::Deployment | Kind::Operator => {
            format!("{}-{}-{}", keep(2), rng.k8s(10), rng.k8s(5))
        }
    };
    let unique = (RICH_UNIQUE_KEY, rng.uuid4());
    (
        Cow::Owned(name),
        Cow::Owned(pod_json(&pod.workload_labels, Some(&unique))),
    )
}
