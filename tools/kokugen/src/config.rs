//! The generator's flags (those of the Python generator it replaced, plus the large-cluster ones),
//! parsed and checked into a [`Config`].

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::options::{Codec, PYARROW_ROW_GROUP_ROWS};
use crate::time::month_days;

pub const DEFAULT_SOURCE: &str = "5235154c-2132-56b5-8b3d-2a3a00f342f5";

pub const USAGE: &str = "\
kokugen: deterministic generator of koku-layout raw hourly OCP Parquet (see tools/README.md)

Files go to OUT/<S3 key>; one JSON line per file on stdout.

  --out DIR                 output root (default ./koku-gen-out)
  --org ORG                 account segment of the key (default org1234567)
  --source UUID             provider UUID (default 5235154c-2132-56b5-8b3d-2a3a00f342f5)
  --year Y --month M        month to generate (default 2025, 11)
  --start-day D --days N    days to write (default 1, 2; 1 day with --cluster-pods)
  --manifest-id N           manifest id in the file name (default 1)
  --counter N               payload file counter in the file name (default 0)
  --seed N                  random seed (default 42)
  --nodes N                 nodes: master, infra, then workers (default 4)
  --namespaces N            namespaces, ~40 % platform (default 10)
  --pods-per-node N         pods per node (default 20; 100 with --pod-rows)
  --pvcs N                  persistent volume claims (default 6)
  --unique-pod-labels       every pod gets pod_template_hash=<unique value>
  --label-keys N            label keys per pod (default 4)
  --rows-per-row-group N    Parquet row group size (default 1048576, pyarrow's)
  --compression C           snappy | zstd | none (default snappy)
  --pod-rows N              ONE pod_usage file of exactly N rows (benchmark input)
  --max-pods N              with --pod-rows: cap on pods (default 20000)
  --cluster-pods N          large cluster: pod_usage only, N pods every hour of each day,
                            N/100 nodes, N/20 namespaces, 3-8 labels of 200-500 bytes per pod,
                            one unique per pod, rows of an hour in a fixed shuffled pod order
  --churn                   with --cluster-pods: pods are replaced every few days (new names,
                            new unique label values); --days defaults to the rest of the month
  --churn-days N            mean pod lifetime with --churn, in days (default 3)
  -h, --help                this text
";

/// Flags followed by a value (`--flag VALUE` or `--flag=VALUE`).
const VALUE_FLAGS: [&str; 21] = [
    "--out",
    "--org",
    "--source",
    "--year",
    "--month",
    "--start-day",
    "--days",
    "--manifest-id",
    "--counter",
    "--seed",
    "--nodes",
    "--namespaces",
    "--pods-per-node",
    "--pvcs",
    "--label-keys",
    "--rows-per-row-group",
    "--compression",
    "--pod-rows",
    "--max-pods",
    "--cluster-pods",
    "--churn-days",
];

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// All four report types for each day of a small cluster.
    Daily,
    /// One pod_usage file of exactly this many rows.
    PodRows(u64),
    /// pod_usage of a large cluster of this many pods, one file per day.
    Cluster { pods: usize, churn: bool },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub out: PathBuf,
    pub org: String,
    pub source: String,
    pub first_day: NaiveDate,
    pub days: u32,
    pub manifest_id: u64,
    pub counter: u64,
    pub seed: u64,
    pub nodes: Option<usize>,
    pub namespaces: Option<usize>,
    pub pods_per_node: Option<usize>,
    pub pvcs: usize,
    pub unique_pod_labels: bool,
    pub label_keys: usize,
    pub rows_per_row_group: usize,
    pub codec: Codec,
    pub mode: Mode,
    pub max_pods: usize,
    pub churn_days: f64,
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| usage(format!("{flag}: not a valid number: {value:?}")))
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

impl Config {
    /// Parses the arguments after the program name; `Ok(None)` for `--help`.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Config>> {
        let mut c = Config {
            out: PathBuf::from("./koku-gen-out"),
            org: "org1234567".into(),
            source: DEFAULT_SOURCE.into(),
            first_day: NaiveDate::MIN,
            days: 2,
            manifest_id: 1,
            counter: 0,
            seed: 42,
            nodes: None,
            namespaces: None,
            pods_per_node: None,
            pvcs: 6,
            unique_pod_labels: false,
            label_keys: 4,
            rows_per_row_group: PYARROW_ROW_GROUP_ROWS,
            codec: Codec::Snappy,
            mode: Mode::Daily,
            max_pods: 20_000,
            churn_days: 3.0,
        };
        let (mut year, mut month, mut start_day) = (2025, 11, 1);
        let mut days = None;
        let (mut pod_rows, mut cluster_pods, mut churn) = (None, None, false);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--unique-pod-labels" => c.unique_pod_labels = true,
                "--churn" => churn = true,
                f if !VALUE_FLAGS.contains(&f) => {
                    return Err(usage(format!("unknown flag {flag} (see --help)")));
                }
                _ => {
                    let value = match inline.or_else(|| args.next()) {
                        Some(v) => v,
                        None => return Err(usage(format!("{flag} needs a value"))),
                    };
                    let v = value.as_str();
                    match flag.as_str() {
                        "--out" => c.out = PathBuf::from(v),
                        "--org" => c.org = v.to_owned(),
                        "--source" => c.source = v.to_owned(),
                        "--year" => year = number(&flag, v)?,
                        "--month" => month = number(&flag, v)?,
                        "--start-day" => start_day = number(&flag, v)?,
                        "--days" => days = Some(number(&flag, v)?),
                        "--manifest-id" => c.manifest_id = number(&flag, v)?,
                        "--counter" => c.counter = number(&flag, v)?,
                        "--seed" => c.seed = number(&flag, v)?,
                        "--nodes" => c.nodes = Some(number(&flag, v)?),
                        "--namespaces" => c.namespaces = Some(number(&flag, v)?),
                        "--pods-per-node" => c.pods_per_node = Some(number(&flag, v)?),
                        "--pvcs" => c.pvcs = number(&flag, v)?,
                        "--label-keys" => c.label_keys = number(&flag, v)?,
                        "--rows-per-row-group" => c.rows_per_row_group = number(&flag, v)?,
                        "--compression" => {
                            c.codec = Codec::parse(v).ok_or_else(|| {
                                usage("--compression must be snappy, zstd or none")
                            })?
                        }
                        "--pod-rows" => pod_rows = Some(number(&flag, v)?),
                        "--max-pods" => c.max_pods = number(&flag, v)?,
                        "--cluster-pods" => cluster_pods = Some(number(&flag, v)?),
                        "--churn-days" => c.churn_days = number(&flag, v)?,
                        _ => return Err(usage(format!("unknown flag {flag} (see --help)"))),
                    }
                }
            }
        }
        let month_start = NaiveDate::from_ymd_opt(year, month, 1)
            .ok_or_else(|| usage(format!("no such month: {year}-{month}")))?;
        let in_month = month_days(month_start);
        if !(1..=in_month).contains(&start_day) {
            return Err(usage(format!("--start-day must be within 1..{in_month}")));
        }
        c.first_day = NaiveDate::from_ymd_opt(year, month, start_day)
            .ok_or_else(|| usage(format!("no such day: {year}-{month}-{start_day}")))?;
        c.mode = match (pod_rows, cluster_pods) {
            (Some(_), Some(_)) => {
                return Err(usage("--pod-rows and --cluster-pods exclude each other"));
            }
            (Some(0), _) => return Err(usage("--pod-rows must be >= 1")),
            (Some(n), None) => Mode::PodRows(n),
            (None, Some(0)) => return Err(usage("--cluster-pods must be >= 1")),
            (None, Some(pods)) => Mode::Cluster { pods, churn },
            (None, None) => Mode::Daily,
        };
        if churn && cluster_pods.is_none() {
            return Err(usage("--churn needs --cluster-pods"));
        }
        c.days = match (days, c.mode) {
            (Some(d), _) => d,
            (None, Mode::Cluster { churn: true, .. }) => in_month - start_day + 1,
            (None, Mode::Cluster { churn: false, .. }) => 1,
            (None, _) => 2,
        };
        if c.days < 1 {
            return Err(usage("--days must be >= 1"));
        }
        if !matches!(c.mode, Mode::PodRows(_)) && start_day + c.days - 1 > in_month {
            return Err(usage(
                "--start-day + --days must stay inside the month (koku summarises one month at a time)",
            ));
        }
        if c.rows_per_row_group < 1 {
            return Err(usage("--rows-per-row-group must be >= 1"));
        }
        if c.nodes == Some(0) {
            return Err(usage("--nodes must be >= 1"));
        }
        if c.churn_days.is_nan() || c.churn_days <= 0.0 {
            return Err(usage("--churn-days must be > 0"));
        }
        if !is_uuid(&c.source) {
            return Err(usage("--source must be a UUID"));
        }
        Ok(Some(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Config>> {
        Config::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn days_default_by_mode() {
        assert_eq!(parse(&[]).unwrap().unwrap().days, 2);
        assert_eq!(parse(&["--cluster-pods", "10"]).unwrap().unwrap().days, 1);
        // November has 30 days: from the 3rd, 28 are left
        let c = parse(&["--cluster-pods=10", "--churn", "--start-day", "3"])
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.days, c.mode),
            (
                28,
                Mode::Cluster {
                    pods: 10,
                    churn: true
                }
            )
        );
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        for args in [
            &["--bogus"][..],
            &["--seed"],
            &["--seed", "x"],
            &["--churn"],
            &["--pod-rows", "5", "--cluster-pods", "5"],
            &["--days", "31"],
            &["--source", "not-a-uuid"],
            &["--compression", "lz4"],
        ] {
            assert!(matches!(parse(args), Err(Error::Usage(_))), "{args:?}");
        }
        assert!(parse(&["-h"]).unwrap().is_none());
    }
}
