//! Namespaces: about 40 % platform (`openshift-*`, `kube-*`), the rest user namespaces, with the
//! labels OpenShift puts on each kind.

use crate::json::labels_json;
use crate::rng::Rng;

/// Platform namespaces, in the order they are picked (`openshift-kube-apiserver` always first).
pub const PLATFORM: [&str; 22] = [
    "openshift-kube-apiserver",
    "kube-system",
    "openshift-monitoring",
    "openshift-ingress",
    "openshift-dns",
    "openshift-etcd",
    "openshift-multus",
    "openshift-image-registry",
    "openshift-kube-scheduler",
    "openshift-kube-controller-manager",
    "openshift-marketplace",
    "openshift-console",
    "openshift-operator-lifecycle-manager",
    "openshift-cluster-version",
    "openshift-authentication",
    "openshift-apiserver",
    "openshift-machine-config-operator",
    "openshift-network-diagnostics",
    "kube-public",
    "kube-node-lease",
    "openshift-machine-api",
    "openshift-storage",
];
const USER: [&str; 16] = [
    "koku",
    "payments-prod",
    "vm-workloads",
    "frontend",
    "analytics",
    "data-pipeline",
    "payments-staging",
    "ml-training",
    "my-kube-app",
    "batch-jobs",
    "search",
    "checkout",
    "inventory",
    "auth",
    "reporting",
    "observability",
];
pub const ENVS: [&str; 4] = ["prod", "staging", "dev", "qa"];
const TEAMS: [&str; 8] = [
    "payments", "web", "data", "ml", "sre", "billing", "search", "identity",
];

#[derive(Debug, Clone)]
pub struct Namespace {
    pub name: String,
    pub platform: bool,
    pub labels: String,
    pub team: &'static str,
    pub env: &'static str,
}

pub fn build_namespaces(rng: &mut Rng, n: usize) -> Vec<Namespace> {
    let n = n.max(1);
    let mut platform = if n == 1 {
        1
    } else {
        ((n as f64 * 0.4).round() as usize).clamp(1, PLATFORM.len())
    };
    if n >= 2 {
        platform = platform.min(n - 1);
    }
    let names = PLATFORM[..platform]
        .iter()
        .map(|p| (p.to_string(), true))
        .chain((0..n - platform).map(|i| match USER.get(i) {
            Some(name) => (name.to_string(), false),
            None => (format!("team-{i:04}-{}", ENVS[i % ENVS.len()]), false),
        }));
    names
        .map(|(name, platform)| {
            let mut labels = vec![("kubernetes_io_metadata_name", name.clone())];
            let (team, env) = if platform {
                if name.starts_with("openshift-") {
                    labels.push(("openshift_io_cluster_monitoring", "true".into()));
                    labels.push((
                        "openshift_io_run_level",
                        rng.choice(&["0", "1", ""]).to_string(),
                    ));
                }
                labels.push(("pod_security_kubernetes_io_enforce", "privileged".into()));
                ("platform", "prod")
            } else {
                let team = *rng.choice(&TEAMS);
                let env = match ENVS.iter().find(|e| name.ends_with(*e)) {
                    Some(e) => *e,
                    None => *rng.choice(&ENVS),
                };
                labels.push(("environment", env.into()));
                labels.push(("team", team.into()));
                labels.push(("pod_security_kubernetes_io_audit", "restricted".into()));
                (team, env)
            };
            let labels = labels_json(labels.iter().map(|(k, v)| (*k, v.as_str())));
            Namespace {
                name,
                platform,
                labels,
                team,
                env,
            }
        })
        .collect()
}
