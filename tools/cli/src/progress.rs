//! Roll-up progress: a bar (chunks done of all, days, rows, ETA) on a terminal, one plain line per
//! chunk otherwise (logs, CI, pipes).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use ocp_summary::rollup::ChunkProgress;

pub struct Progress {
    bar: Option<ProgressBar>,
    terminal: bool,
    days: usize,
    rows: u64,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            bar: None,
            terminal: std::io::stderr().is_terminal(),
            days: 0,
            rows: 0,
        }
    }

    pub fn chunk_done(&mut self, p: &ChunkProgress<'_>) {
        self.days += p.chunk.days.len();
        self.rows += p.rows_written;
        let (first, last) = p.chunk.span().unwrap_or_default();
        if !self.terminal {
            eprintln!(
                "chunk {}/{}: source {} {first}..{last}, {} rows in {} ms ({} days, {} rows so far)",
                p.index + 1,
                p.total,
                p.chunk.source,
                p.rows_written,
                p.elapsed_ms,
                self.days,
                self.rows
            );
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(p.total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} chunks, {msg}, ETA {eta}")
            {
                bar.set_style(style);
            }
            bar
        });
        bar.set_message(format!("{} days, {} rows", self.days, self.rows));
        bar.inc(1);
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
