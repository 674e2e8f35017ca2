//! Pod label sets. Replicas of a workload share its labels; optionally each pod adds a key whose
//! value is its own (label cardinality = pod count, the hard case for a GROUP BY on labels).
//!
//! Two styles: `Simple` (the first N keys of a fixed pool, short values, as the daily cluster has)
//! and `Rich` (3-8 keys of Kubernetes/Helm/Istio style and 200-500 bytes of JSON text per pod, one
//! key unique per pod, as a large production cluster has).

use std::collections::HashSet;

use super::namespaces::Namespace;
use crate::json::labels_json;
use crate::rng::Rng;

/// Pod label keys of the simple style, in the order `--label-keys` takes them.
const KEY_POOL: [&str; 10] = [
    "app",
    "environment",
    "team",
    "app_kubernetes_io_component",
    "version",
    "tier",
    "app_kubernetes_io_managed_by",
    "cost_center",
    "release",
    "app_kubernetes_io_part_of",
];
const COMPONENTS: [&str; 6] = [
    "server",
    "worker",
    "database",
    "cache",
    "proxy",
    "controller",
];
const TIERS: [&str; 4] = ["frontend", "backend", "data", "batch"];
const MANAGERS: [&str; 4] = ["helm", "argocd", "olm", "kustomize"];
/// With `--unique-pod-labels`: a 10-character value unique to each pod.
pub const UNIQUE_KEY: &str = "pod_template_hash";
/// The rich style's per-pod key: a UUID unique to each pod.
pub const RICH_UNIQUE_KEY: &str = "controller_uid";
/// Size of the rich style's JSON text, in bytes.
pub const RICH_BYTES: (usize, usize) = (200, 500);
/// Keys per pod in the rich style, the unique key included.
pub const RICH_KEYS: (usize, usize) = (3, 8);
/// Kubernetes caps a label value at 63 characters.
const MAX_VALUE: usize = 63;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelStyle {
    Simple { keys: usize, unique: bool },
    Rich,
}

pub type Pairs = Vec<(String, String)>;

/// Hands out per-pod unique values, never the same twice.
#[derive(Debug)]
pub struct Labeler {
    pub style: LabelStyle,
    used: HashSet<String>,
}

impl Labeler {
    pub fn new(style: LabelStyle) -> Self {
        Labeler {
            style,
            used: HashSet::new(),
        }
    }

    /// The labels replicas of workload `app` in `ns` share, with `extra` added.
    pub fn workload(
        &self,
        rng: &mut Rng,
        ns: &Namespace,
        app: &str,
        extra: &[(&str, &str)],
    ) -> Pairs {
        let mut pairs = match self.style {
            LabelStyle::Simple { keys, .. } => simple(rng, ns, app, keys),
            LabelStyle::Rich => rich(rng, ns, app, extra.len()),
        };
        let own = pairs.len();
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        if self.style == LabelStyle::Rich {
            fit_rich(rng, &mut pairs, own);
        }
        pairs
    }

    /// The per-pod (key, value), if the style has one.
    pub fn unique(&mut self, rng: &mut Rng) -> Option<(&'static str, String)> {
        let (key, make): (&str, fn(&mut Rng) -> String) = match self.style {
            LabelStyle::Simple { unique: false, .. } => return None,
            LabelStyle::Simple { unique: true, .. } => (UNIQUE_KEY, |r| r.k8s(10)),
            LabelStyle::Rich => (RICH_UNIQUE_KEY, Rng::uuid4),
        };
        let mut value = make(rng);
        while !self.used.insert(value.clone()) {
            value = make(rng);
        }
        Some((key, value))
    }
}

/// The JSON text of a pod's labels: its workload's plus its own unique pair.
pub fn pod_json(workload: &Pairs, unique: Option<&(&'static str, String)>) -> String {
    labels_json(
        workload
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(unique.map(|(k, v)| (*k, v.as_str()))),
    )
}

fn version(rng: &mut Rng) -> String {
    format!("{}.{}.{}", rng.int(1, 3), rng.int(0, 12), rng.int(0, 9))
}

fn simple(rng: &mut Rng, ns: &Namespace, app: &str, keys: usize) -> Pairs {
    let value = |rng: &mut Rng, key: &str| -> String {
        match key {
            "app" => app.into(),
            "environment" => ns.env.into(),
            "team" => ns.team.into(),
            "app_kubernetes_io_component" => rng.choice(&COMPONENTS).to_string(),
            "version" => format!("v{}", version(rng)),
            "tier" => rng.choice(&TIERS).to_string(),
            "app_kubernetes_io_managed_by" => rng.choice(&MANAGERS).to_string(),
            "cost_center" => format!("cc-{}", rng.int(1000, 1099)),
            "release" => format!("{app}-{}", rng.choice(&["stable", "canary"])),
            "app_kubernetes_io_part_of" => ns.name.clone(),
            other => format!("{}-{}", other.replace('_', "-"), rng.int(0, 9)),
        }
    };
    (0..keys)
        .map(|i| {
            let key = match KEY_POOL.get(i) {
                Some(k) => k.to_string(),
                None => format!("custom_key_{}", i - KEY_POOL.len()),
            };
            let v = value(rng, &key);
            (key, v)
        })
        .collect()
}

/// 3-8 keys (counting the unique one and `extra_keys` the caller adds) of realistic names.
fn rich(rng: &mut Rng, ns: &Namespace, app: &str, extra_keys: usize) -> Pairs {
    let v = version(rng);
    let mut pool: Vec<(&str, String)> = vec![
        ("app_kubernetes_io_instance", format!("{app}-{}", ns.name)),
        (
            "app_kubernetes_io_component",
            rng.choice(&COMPONENTS).to_string(),
        ),
        ("app_kubernetes_io_part_of", ns.name.clone()),
        (
            "app_kubernetes_io_managed_by",
            rng.choice(&MANAGERS).to_string(),
        ),
        ("app_kubernetes_io_version", v.clone()),
        ("helm_sh_chart", format!("{app}-{v}")),
        ("environment", ns.env.into()),
        ("team", ns.team.into()),
        ("cost_center", format!("cc-{}", rng.int(1000, 1099))),
        ("tier", rng.choice(&TIERS).to_string()),
        (
            "release",
            format!("{app}-{}", rng.choice(&["stable", "canary"])),
        ),
        ("security_istio_io_tls_mode", "istio".into()),
        ("service_istio_io_canonical_name", app.into()),
        (
            "service_istio_io_canonical_revision",
            format!("v{}", rng.int(1, 9)),
        ),
    ];
    rng.shuffle(&mut pool);
    let keys = rng.int(RICH_KEYS.0 as i64, RICH_KEYS.1 as i64) as usize;
    // `app` always; the unique key and the extra ones come on top of the workload's own.
    let own = keys.saturating_sub(2 + extra_keys);
    std::iter::once(("app".to_string(), app.to_string()))
        .chain(pool.into_iter().take(own).map(|(k, v)| (k.to_string(), v)))
        .collect()
}

/// Bytes of `pod_json(pairs, unique)` for a rich unique pair (`"controller_uid": "<uuid>"`).
fn rich_json_len(pairs: &Pairs) -> usize {
    let unique = RICH_UNIQUE_KEY.len() + 36 + 6;
    2 + unique
        + pairs
            .iter()
            .map(|(k, v)| k.len() + v.len() + 8)
            .sum::<usize>()
}

/// Brings a rich set's JSON text to a size drawn from 200-500 bytes: values of the first `own`
/// pairs grow by hash-like suffixes (up to 63 characters), or the longest values are cut (down to
/// 8 characters) when the names alone are too long.
fn fit_rich(rng: &mut Rng, pairs: &mut Pairs, own: usize) {
    let target = rng.int(RICH_BYTES.0 as i64, RICH_BYTES.1 as i64) as usize;
    let mut i = 0;
    while rich_json_len(pairs) < target && i < own * 16 {
        // `app` (the first pair) comes last in each round: cost models read its value.
        let value = &mut pairs[(i + 1) % own].1;
        let room = MAX_VALUE.saturating_sub(value.len());
        if room >= 2 {
            value.push('-');
            value.push_str(&rng.k8s((room - 1).min(5)));
        }
        i += 1;
    }
    while rich_json_len(pairs) > RICH_BYTES.1 {
        let Some(longest) = pairs[..own].iter_mut().max_by_key(|(_, v)| v.len()) else {
            return;
        };
        if longest.1.len() <= 8 {
            return;
        }
        longest.1.pop();
    }
}
