//! `--pod-rows N`: one pod_usage file of exactly N rows for benchmarks. min(ceil(N/24),
//! --max-pods) pods (more if the month's hours cannot hold N rows otherwise) run every hour from
//! the first day; hours spill into the next days until N rows are written, the last hour cut short.

use chrono::{Datelike, TimeDelta, Timelike};

use super::{Shape, Sink, world_spec};
use crate::config::Config;
use crate::error::Result;
use crate::model::build_world;
use crate::model::labels::LabelStyle;
use crate::model::pods::Placement;
use crate::output::OutFile;
use crate::schema::{self, ReportType};
use crate::time::{midnight, month_days};
use crate::usage::{Row, pod_hour};

pub fn run(config: &Config, sink: &mut Sink<'_>, n_rows: u64) -> Result<Shape> {
    let hours_left = u64::from(month_days(config.first_day) - config.first_day.day0()) * 24;
    let pods = n_rows.div_ceil(24).min(config.max_pods as u64).max(1);
    let pods = pods.max(n_rows.div_ceil(hours_left)) as usize;
    let hours = n_rows.div_ceil(pods as u64);
    let per_node = config.pods_per_node.unwrap_or(100);
    let nodes = config.nodes.unwrap_or(4).max(pods.div_ceil(per_node));
    let namespaces = config.namespaces.unwrap_or((pods / 40).max(10));
    let placement = Placement {
        per_node,
        budget: pods,
        with_jobs: false,
    };
    let labels = LabelStyle::Simple {
        keys: config.label_keys,
        unique: config.unique_pod_labels,
    };
    let world = build_world(&world_spec(config, nodes, namespaces, placement, labels, 0));
    let names: Vec<&str> = world.pods.iter().map(|p| p.name.as_str()).collect();
    let pod_labels: Vec<&str> = world.pods.iter().map(|p| p.labels.as_str()).collect();
    let mut file = OutFile::create(
        &sink.layout,
        ReportType::PodUsage,
        config.first_day,
        schema::pod_usage(true),
        &sink.options,
    )?;
    let start = midnight(config.first_day);
    let mut written = 0u64;
    for g in 0..hours {
        let at = start + TimeDelta::hours(g as i64);
        debug_assert_eq!(u64::from(at.hour()), g % 24);
        let take = (world.pods.len() as u64).min(n_rows - written) as u32;
        let rows: Vec<Row> = (0..take)
            .map(|i| Row {
                pod: i,
                ident: i,
                secs: 3600,
            })
            .collect();
        pod_hour(
            &world,
            config.seed,
            at,
            &rows,
            &names,
            &pod_labels,
            &mut |b| file.writer.write(b),
        )?;
        written += u64::from(take);
    }
    sink.report(file.finish(hours as u32)?);
    let distinct: std::collections::HashSet<&str> = pod_labels.iter().copied().collect();
    Ok(Shape {
        pods: world.pods.len(),
        nodes: world.nodes.len(),
        namespaces: world.namespaces.len(),
        hours,
        distinct_pod_labels: distinct.len(),
    })
}
