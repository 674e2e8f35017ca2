//! Persistent volume claims mounted by long-running pods: the first an RWX cephfs claim shared by
//! two pods of one deployment on two nodes (when such a pair exists), then EBS gp3-csi claims with
//! an in-tree gp2 claim (no CSI driver or volume handle) every fourth.

use std::collections::{HashMap, HashSet};

use super::World;
use super::nodes::{GIB, REGION};
use super::pods::{Kind, MIB, Pod};
use crate::json::labels_json;
use crate::rng::Rng;

#[derive(Debug, Clone)]
pub struct Pvc {
    pub name: String,
    pub pv: String,
    pub ns: usize,
    pub storageclass: &'static str,
    pub csi_driver: &'static str,
    pub csi_handle: String,
    pub cap_bytes: f64,
    pub req_bytes: f64,
    pub pv_labels: String,
    pub pvc_labels: String,
    /// Mounting pods, by index, ascending.
    pub pods: Vec<usize>,
    /// Fraction of capacity used at the start of the month, and added per hour.
    pub used0: f64,
    pub growth: f64,
}

const CEPHFS: &str = "ocs-storagecluster-cephfs";

fn driver(storageclass: &str) -> &'static str {
    match storageclass {
        "gp3-csi" => "ebs.csi.aws.com",
        CEPHFS => "openshift-storage.cephfs.csi.ceph.com",
        _ => "",
    }
}

/// The claim's labels: the mounting pod's `app` and `environment`.
fn pvc_labels(pod: &Pod) -> String {
    labels_json(
        pod.workload_labels
            .iter()
            .filter(|(k, _)| k == "app" || k == "environment")
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
}

struct Maker<'a> {
    rng: &'a mut Rng,
    world: &'a World,
    names: HashSet<(usize, String)>,
    out: Vec<Pvc>,
}

impl Maker<'_> {
    fn make(
        &mut self,
        name: String,
        ns: usize,
        storageclass: &'static str,
        mut mounts: Vec<usize>,
    ) {
        let (mut unique, mut k) = (name.clone(), 2);
        while self.names.contains(&(ns, unique.clone())) {
            unique = format!("{name}-{k}");
            k += 1;
        }
        self.names.insert((ns, unique.clone()));
        let r = &mut *self.rng;
        let cap_gib = *r.choice(&[1.0, 5.0, 10.0, 20.0, 20.0, 50.0, 100.0, 200.0]);
        let cap = cap_gib * GIB;
        let req = if r.f64() < 0.75 {
            cap
        } else {
            (cap_gib * 1024.0 * r.uniform(0.6, 0.95)).floor().max(1.0) * MIB
        };
        let pv = format!("pvc-{}", r.uuid4());
        let csi_driver = driver(storageclass);
        let csi_handle = match csi_driver {
            "ebs.csi.aws.com" => format!("vol-0{}", r.hex(16)),
            "" => String::new(),
            _ => format!("0001-0011-openshift-storage-0000000000000001-{}", r.uuid4()),
        };
        let first = &self.world.pods[mounts[0]];
        let zone = &self.world.nodes[first.node].zone;
        let pv_labels = if storageclass == "gp2" {
            labels_json([
                ("failure_domain_beta_kubernetes_io_region", REGION),
                ("failure_domain_beta_kubernetes_io_zone", zone.as_str()),
            ])
        } else {
            "{}".into()
        };
        let pvc_labels = pvc_labels(first);
        mounts.sort_unstable();
        let (used0, growth) = (r.uniform(0.05, 0.6), r.uniform(0.0, 0.3) / 720.0);
        self.out.push(Pvc {
            name: unique,
            pv,
            ns,
            storageclass,
            csi_driver,
            csi_handle,
            cap_bytes: cap,
            req_bytes: req,
            pv_labels,
            pvc_labels,
            pods: mounts,
            used0,
            growth,
        });
    }
}

pub fn build_pvcs(rng: &mut Rng, world: &World, n: usize) -> Vec<Pvc> {
    let pods = &world.pods;
    let long: Vec<usize> = (0..pods.len())
        .filter(|&i| {
            matches!(
                pods[i].kind,
                Kind::Deployment | Kind::Statefulset | Kind::Vm | Kind::Operator
            )
        })
        .collect();
    let mut m = Maker {
        rng,
        world,
        names: HashSet::new(),
        out: Vec::new(),
    };
    if n == 0 {
        return m.out;
    }
    // The shared RWX claim: two pods of one deployment in one namespace, on different nodes.
    let mut order: Vec<(usize, &str)> = Vec::new();
    let mut members: HashMap<(usize, &str), Vec<usize>> = HashMap::new();
    for &i in &long {
        let key = (pods[i].ns, pods[i].workload.as_str());
        let group = members.entry(key).or_default();
        if group.is_empty() {
            order.push(key);
        }
        group.push(i);
    }
    for key in &order {
        let group = &members[key];
        let first = group[0];
        let other = group.iter().find(|&&j| pods[j].node != pods[first].node);
        if let (Some(&other), Kind::Deployment) = (other, pods[first].kind) {
            m.make(
                format!("{}-shared", key.1),
                key.0,
                CEPHFS,
                vec![first, other],
            );
            break;
        }
    }
    let mut candidates = long;
    candidates.sort_by_key(|&i| {
        (
            pods[i].kind != Kind::Statefulset,
            world.namespaces[pods[i].ns].platform,
            i,
        )
    });
    let mut rounds = 0;
    while m.out.len() < n && !candidates.is_empty() {
        for &i in &candidates {
            if m.out.len() >= n {
                break;
            }
            let p = &pods[i];
            let storageclass = if m.out.len() % 4 == 3 {
                "gp2"
            } else {
                "gp3-csi"
            };
            let mut name = match p.kind {
                Kind::Statefulset => format!("data-{}", p.name),
                _ => format!("{}-data", p.workload),
            };
            if rounds > 0 {
                name = format!("{name}-{rounds}");
            }
            m.make(name, p.ns, storageclass, vec![i]);
        }
        rounds += 1;
    }
    m.out
}
