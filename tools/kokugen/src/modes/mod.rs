//! What the generator writes, by mode (see [`crate::config::Mode`]).

mod cluster;
mod daily;
mod pod_rows;

use crate::config::{Config, Mode};
use crate::error::Result;
use crate::model::WorldSpec;
use crate::model::labels::LabelStyle;
use crate::model::pods::Placement;
use crate::options::WriteOptions;
use crate::output::{FileReport, Layout};

/// Where files go and who hears about each.
pub struct Sink<'a> {
    pub layout: Layout,
    pub options: WriteOptions,
    pub on_file: &'a mut dyn FnMut(&FileReport),
}

impl Sink<'_> {
    fn report(&mut self, file: FileReport) {
        (self.on_file)(&file);
    }
}

/// The cluster behind a benchmark file, printed to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub pods: usize,
    pub nodes: usize,
    pub namespaces: usize,
    pub hours: u64,
    pub distinct_pod_labels: usize,
}

impl Shape {
    pub fn to_json(&self) -> String {
        format!(
            "{{\"pods\": {}, \"nodes\": {}, \"namespaces\": {}, \"hours\": {}, \"distinct_pod_labels\": {}}}",
            self.pods, self.nodes, self.namespaces, self.hours, self.distinct_pod_labels
        )
    }
}

fn world_spec(
    config: &Config,
    nodes: usize,
    namespaces: usize,
    placement: Placement,
    labels: LabelStyle,
    pvcs: usize,
) -> WorldSpec {
    WorldSpec {
        seed: config.seed,
        nodes,
        namespaces,
        placement,
        labels,
        pvcs,
    }
}

/// Writes what `config` asks for, calling `on_file` after each file; the cluster's shape for the
/// benchmark modes.
pub fn run(config: &Config, on_file: &mut dyn FnMut(&FileReport)) -> Result<Option<Shape>> {
    let mut options = WriteOptions {
        row_group_rows: config.rows_per_row_group,
        codec: config.codec,
        ..WriteOptions::default()
    };
    // Row groups larger than pyarrow's default keep their pages on disk until they are complete.
    if config.rows_per_row_group > crate::options::PYARROW_ROW_GROUP_ROWS {
        options.spill_dir = Some(config.out.clone());
    }
    let mut sink = Sink {
        layout: Layout {
            out: config.out.clone(),
            org: config.org.clone(),
            source: config.source.clone(),
            manifest_id: config.manifest_id,
            counter: config.counter,
        },
        options,
        on_file,
    };
    if let Some(dir) = &sink.options.spill_dir {
        std::fs::create_dir_all(dir).map_err(crate::error::io_at(dir))?;
    }
    match config.mode {
        Mode::Daily => daily::run(config, &mut sink).map(|()| None),
        Mode::PodRows(rows) => pod_rows::run(config, &mut sink, rows).map(Some),
        Mode::Cluster { pods, churn } => cluster::run(config, &mut sink, pods, churn).map(Some),
    }
}
