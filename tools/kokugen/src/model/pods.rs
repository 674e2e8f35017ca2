//! Pods and where they run: control-plane static pods on the master, router and monitoring on the
//! infra node, daemonsets on every node, user workloads (deployments, statefulsets, one KubeVirt
//! VM, cron jobs) round-robin over the workers, operators filling the master and infra nodes.
//! Requests then fill 45-85 % (cpu) and 40-80 % (memory) of each node, split by pod weight.

use std::sync::Arc;

use super::labels::{Labeler, Pairs, pod_json};
use super::names::NameBook;
use super::namespaces::Namespace;
use super::nodes::{Node, Role};
use crate::rng::Rng;

pub const MIB: f64 = 1_048_576.0;

const APPS: [&str; 16] = [
    "api",
    "web",
    "worker",
    "frontend",
    "backend",
    "scheduler",
    "ingest",
    "billing",
    "cache",
    "gateway",
    "notifier",
    "exporter",
    "indexer",
    "auth",
    "reports",
    "queue-consumer",
];
/// Daemonsets run one pod on every node: (namespace, daemonset).
const DAEMONSETS: [(&str, &str); 6] = [
    ("openshift-monitoring", "node-exporter"),
    ("openshift-dns", "dns-default"),
    ("openshift-multus", "multus"),
    ("openshift-dns", "node-resolver"),
    ("openshift-machine-config-operator", "machine-config-daemon"),
    ("kube-system", "konnectivity-agent"),
];
const STATICS: [(&str, &str); 4] = [
    ("openshift-kube-apiserver", "kube-apiserver"),
    ("openshift-etcd", "etcd"),
    ("openshift-kube-scheduler", "openshift-kube-scheduler"),
    (
        "openshift-kube-controller-manager",
        "kube-controller-manager",
    ),
];
const INFRA: [(&str, &str, Kind); 4] = [
    ("openshift-ingress", "router-default", Kind::Deployment),
    ("openshift-monitoring", "prometheus-k8s", Kind::Statefulset),
    (
        "openshift-image-registry",
        "image-registry",
        Kind::Deployment,
    ),
    (
        "openshift-monitoring",
        "alertmanager-main",
        Kind::Statefulset,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Static,
    Daemonset,
    Operator,
    Deployment,
    Statefulset,
    Vm,
    /// Runs a few hours a day under a new name each day.
    Cronjob,
}

#[derive(Debug, Clone)]
pub struct Pod {
    pub name: String,
    pub ns: usize,
    pub node: usize,
    pub kind: Kind,
    pub workload: String,
    /// The labels its workload's replicas share.
    pub workload_labels: Arc<Pairs>,
    /// JSON text of all its labels, its own unique one included.
    pub labels: String,
    /// Shares of the node's requests, and limit / request.
    pub weight_cpu: f64,
    pub weight_mem: f64,
    pub cpu_lim_mult: f64,
    pub mem_lim_mult: f64,
    pub cpu_util: f64,
    pub mem_util: f64,
    /// Diurnal amplitude and the hour of the peak.
    pub amp: f64,
    pub peak: f64,
    /// Cores and bytes, set by [`size_requests`].
    pub cpu_req: f64,
    pub mem_req: f64,
    pub cpu_lim: f64,
    pub mem_lim: f64,
}

/// How many pods, how densely packed.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub per_node: usize,
    pub budget: usize,
    pub with_jobs: bool,
}

struct Placer<'a> {
    rng: &'a mut Rng,
    namespaces: &'a [Namespace],
    labeler: Labeler,
    book: NameBook,
    pods: Vec<Pod>,
    counts: Vec<usize>,
    placement: Placement,
}

impl Placer<'_> {
    fn room(&self, node: usize) -> bool {
        self.pods.len() < self.placement.budget && self.counts[node] < self.placement.per_node
    }

    fn name(&mut self, ns: usize, make: impl Fn(&mut Rng) -> String) -> String {
        self.book.take(self.rng, &self.namespaces[ns].name, make)
    }

    fn labels(&mut self, ns: usize, app: &str, extra: &[(&str, &str)]) -> Arc<Pairs> {
        Arc::new(
            self.labeler
                .workload(self.rng, &self.namespaces[ns], app, extra),
        )
    }

    /// Adds a pod if `node` has room; the name is made only then, so a full node costs no draws.
    fn add(
        &mut self,
        node: usize,
        ns: usize,
        kind: Kind,
        workload: &str,
        labels: &Arc<Pairs>,
        make_name: impl Fn(&mut Rng) -> String,
    ) -> bool {
        if !self.room(node) {
            return false;
        }
        let name = self.name(ns, make_name);
        let unique = self.labeler.unique(self.rng);
        let r = &mut *self.rng;
        let heavy = matches!(kind, Kind::Static | Kind::Statefulset | Kind::Vm);
        let pod = Pod {
            name,
            ns,
            node,
            kind,
            workload: workload.to_owned(),
            labels: pod_json(labels, unique.as_ref()),
            workload_labels: labels.clone(),
            weight_cpu: r.lognormal(if heavy { 0.6 } else { 0.0 }, 0.8),
            weight_mem: r.lognormal(if heavy { 0.8 } else { 0.0 }, 0.7),
            cpu_lim_mult: *r.choice(&[1.0, 1.5, 2.0, 2.0, 4.0]),
            mem_lim_mult: *r.choice(&[1.0, 1.25, 1.5, 2.0]),
            cpu_util: r.lognormal(0.45f64.ln(), 0.6).min(3.0),
            mem_util: r.lognormal(0.7f64.ln(), 0.25).min(1.2),
            amp: r.uniform(0.0, 0.5),
            peak: r.uniform(8.0, 20.0),
            cpu_req: 0.0,
            mem_req: 0.0,
            cpu_lim: 0.0,
            mem_lim: 0.0,
        };
        self.counts[node] += 1;
        self.pods.push(pod);
        true
    }
}

/// Places up to `placement.budget` pods, at most `per_node` on each node, in hour-row order: by
/// node, then in placement order.
pub fn place_pods(
    rng: &mut Rng,
    nodes: &[Node],
    namespaces: &[Namespace],
    placement: Placement,
    labeler: Labeler,
) -> Vec<Pod> {
    let ns_index = |name: &str| namespaces.iter().position(|ns| ns.name == name);
    let mut p = Placer {
        rng,
        namespaces,
        labeler,
        book: NameBook::default(),
        pods: Vec::new(),
        counts: vec![0; nodes.len()],
        placement,
    };
    for (ns_name, app) in STATICS {
        if let Some(ns) = ns_index(ns_name) {
            let extra: &[(&str, &str)] = if app == "kube-apiserver" {
                &[("apiserver", "true")]
            } else {
                &[]
            };
            let labels = p.labels(ns, app, extra);
            let master = nodes[0].name.clone();
            p.add(0, ns, Kind::Static, app, &labels, |_| {
                format!("{app}-{master}")
            });
        }
    }
    if nodes.len() > 1 {
        for (ns_name, app, kind) in INFRA {
            if let Some(ns) = ns_index(ns_name) {
                let labels = p.labels(ns, app, &[]);
                p.add(1, ns, kind, app, &labels, |r| match kind {
                    Kind::Statefulset => format!("{app}-0"),
                    _ => format!("{app}-{}-{}", r.k8s(10), r.k8s(5)),
                });
            }
        }
    }
    let daemonsets: Vec<(usize, &str)> = DAEMONSETS
        .iter()
        .filter_map(|(ns, ds)| ns_index(ns).map(|i| (i, *ds)))
        .take((placement.per_node / 4).max(1))
        .collect();
    for (ns, ds) in daemonsets {
        let labels = p.labels(ns, ds, &[]);
        for node in 0..nodes.len() {
            p.add(node, ns, Kind::Daemonset, ds, &labels, |r| {
                format!("{ds}-{}", r.k8s(5))
            });
        }
    }
    place_user_workloads(&mut p, nodes);
    place_operators(&mut p, nodes);
    let mut pods = p.pods;
    pods.sort_by_key(|pod| pod.node); // stable: placement order within a node
    pods
}

/// User workloads round-robin over the workers (all nodes if there are none).
fn place_user_workloads(p: &mut Placer<'_>, nodes: &[Node]) {
    let namespaces = p.namespaces;
    let mut workers: Vec<usize> = (0..nodes.len())
        .filter(|&i| nodes[i].role == Role::Worker)
        .collect();
    if workers.is_empty() {
        workers = (0..nodes.len()).collect();
    }
    let mut user: Vec<usize> = (0..namespaces.len())
        .filter(|&i| !namespaces[i].platform)
        .collect();
    if user.is_empty() {
        user = (0..namespaces.len()).collect();
    }
    let mut open = workers
        .iter()
        .filter(|&&n| p.counts[n] < p.placement.per_node)
        .count();
    let (mut cursor, mut w, mut made_vm) = (0, 0, false);
    while p.pods.len() < p.placement.budget && open > 0 {
        let ns = user[w % user.len()];
        let round = w / user.len();
        let mut app = APPS[round % APPS.len()].to_string();
        if round >= APPS.len() {
            app = format!("{app}-{}", round / APPS.len());
        }
        w += 1;
        let roll = p.rng.f64();
        let (kind, replicas) = if !made_vm
            && !namespaces[ns].platform
            && (namespaces[ns].name == "vm-workloads" || w > user.len())
        {
            made_vm = true;
            (Kind::Vm, 1)
        } else if p.placement.with_jobs && roll < 0.08 {
            (Kind::Cronjob, 1)
        } else if roll < 0.2 {
            (Kind::Statefulset, *p.rng.choice(&[1, 2, 3]))
        } else {
            (Kind::Deployment, *p.rng.choice(&[1, 1, 2, 2, 3, 3, 4, 6]))
        };
        let vm = format!("rhel9-{}", p.rng.k8s(4));
        let labels = if kind == Kind::Vm {
            let extra = [
                ("vm_kubevirt_io_name", vm.as_str()),
                ("kubevirt_io", "virt-launcher"),
            ];
            p.labels(ns, "virt-launcher", &extra)
        } else {
            p.labels(ns, &app, &[])
        };
        let rs_hash = p.rng.k8s(10);
        for rep in 0..replicas {
            let Some(node) = (0..workers.len()).find_map(|_| {
                let node = workers[cursor % workers.len()];
                cursor += 1;
                p.room(node).then_some(node)
            }) else {
                break;
            };
            let (app, vm, rs_hash) = (app.as_str(), vm.as_str(), rs_hash.as_str());
            p.add(node, ns, kind, app, &labels, |r| match kind {
                Kind::Statefulset => format!("{app}-{rep}"),
                Kind::Vm => format!("virt-launcher-{vm}-{}", r.k8s(5)),
                Kind::Cronjob => format!("{app}-cron"), // named per day when written
                _ => format!("{app}-{rs_hash}-{}", r.k8s(5)),
            });
            if p.counts[node] == p.placement.per_node {
                open -= 1;
            }
        }
    }
}

/// Platform operators filling the master and infra nodes.
fn place_operators(p: &mut Placer<'_>, nodes: &[Node]) {
    let namespaces = p.namespaces;
    let mut ops: Vec<usize> = (0..namespaces.len())
        .filter(|&i| namespaces[i].platform)
        .collect();
    if ops.is_empty() {
        ops = vec![0];
    }
    for node in (0..nodes.len()).filter(|&i| nodes[i].role != Role::Worker) {
        let mut k = 0;
        while p.room(node) {
            let ns = ops[k % ops.len()];
            let base = namespaces[ns]
                .name
                .replace("openshift-", "")
                .replace("kube-", "");
            let app = if k < ops.len() {
                format!("{base}-operator")
            } else {
                format!("{base}-{}", k / ops.len())
            };
            k += 1;
            let labels = p.labels(ns, &app, &[]);
            p.add(node, ns, Kind::Operator, &app, &labels, |r| {
                format!("{app}-{}-{}", r.k8s(10), r.k8s(5))
            });
        }
    }
}

/// Requests fill 45-85 % (cpu, in millicores) and 40-80 % (memory, in MiB) of each node, split by
/// pod weight; limits are a multiple of the request.
pub fn size_requests(rng: &mut Rng, nodes: &[Node], pods: &mut [Pod]) {
    let mut weights = vec![(0.0, 0.0); nodes.len()];
    for pod in pods.iter() {
        weights[pod.node].0 += pod.weight_cpu;
        weights[pod.node].1 += pod.weight_mem;
    }
    let fills: Vec<(f64, f64)> = weights
        .iter()
        .map(|&(wc, _)| {
            if wc > 0.0 {
                (rng.uniform(0.45, 0.85), rng.uniform(0.40, 0.80))
            } else {
                (0.0, 0.0)
            }
        })
        .collect();
    for pod in pods.iter_mut() {
        let node = &nodes[pod.node];
        let (cpu_fill, mem_fill) = fills[pod.node];
        let (wc, wm) = weights[pod.node];
        pod.cpu_req = round3(node.cores * cpu_fill * pod.weight_cpu / wc).max(0.001);
        pod.mem_req = (node.mem_bytes * mem_fill * pod.weight_mem / wm / MIB)
            .floor()
            .max(8.0)
            * MIB;
        pod.cpu_lim = round3(pod.cpu_req * pod.cpu_lim_mult);
        pod.mem_lim = (pod.mem_req * pod.mem_lim_mult / MIB).floor() * MIB;
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
