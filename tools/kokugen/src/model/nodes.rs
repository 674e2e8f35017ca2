//! Nodes: node 0 a master, node 1 an infra node, the rest workers of several sizes, each with the
//! node labels an OpenShift 4 node on AWS carries.

use super::names::NameBook;
use crate::json::labels_json;
use crate::rng::Rng;

pub const GIB: f64 = 1_073_741_824.0;
pub const REGION: &str = "us-east-1";
const ZONES: [&str; 3] = ["a", "b", "c"];
/// (cores, GiB, instance type) of workers, in turn.
const WORKER_SIZES: [(u32, u32, &str); 5] = [
    (4, 16, "m5.xlarge"),
    (8, 32, "m5.2xlarge"),
    (16, 64, "m5.4xlarge"),
    (8, 64, "r5.2xlarge"),
    (32, 128, "m5.8xlarge"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Master,
    Infra,
    Worker,
}

impl Role {
    /// The `node_role` column's value.
    pub fn name(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Infra => "infra",
            Role::Worker => "worker",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub resource_id: String,
    pub role: Role,
    pub cores: f64,
    pub mem_bytes: f64,
    /// e.g. `us-east-1a`
    pub zone: String,
    pub labels: String,
}

pub fn build_nodes(rng: &mut Rng, n: usize) -> Vec<Node> {
    let infra_id = format!("ocp-{}", rng.k8s(5));
    let mut book = NameBook::default();
    (0..n)
        .map(|i| {
            let zone = ZONES[i % ZONES.len()];
            let (role, (cores, gib, itype)) = match i {
                0 => (Role::Master, (8, 32, "m5.2xlarge")),
                1 => (Role::Infra, (16, 64, "m5.4xlarge")),
                _ => (Role::Worker, WORKER_SIZES[(i - 2) % WORKER_SIZES.len()]),
            };
            let name = book.take(rng, "", |r| match role {
                Role::Master => format!("{infra_id}-master-0"),
                Role::Infra => format!("{infra_id}-infra-{zone}-{}", r.k8s(5)),
                Role::Worker => format!("{infra_id}-worker-{REGION}{zone}-{}", r.k8s(5)),
            });
            // kubelet reports a bit less than the instance's nominal memory, in whole KiB
            let mem = (f64::from(gib) * GIB * rng.uniform(0.955, 0.975) / 1024.0).floor() * 1024.0;
            let resource_id = format!("i-0{}", rng.hex(16));
            let zone = format!("{REGION}{zone}");
            let mut labels = vec![
                ("beta_kubernetes_io_arch", "amd64"),
                ("beta_kubernetes_io_instance_type", itype),
                ("beta_kubernetes_io_os", "linux"),
                ("failure_domain_beta_kubernetes_io_region", REGION),
                ("failure_domain_beta_kubernetes_io_zone", zone.as_str()),
                ("kubernetes_io_arch", "amd64"),
                ("kubernetes_io_hostname", name.as_str()),
                ("kubernetes_io_os", "linux"),
                ("node_kubernetes_io_instance_type", itype),
                ("node_openshift_io_os_id", "rhcos"),
                ("topology_kubernetes_io_region", REGION),
                ("topology_kubernetes_io_zone", zone.as_str()),
            ];
            match role {
                Role::Master => labels.extend([
                    ("node_role_kubernetes_io_master", ""),
                    ("node_role_kubernetes_io_control_plane", ""),
                ]),
                Role::Infra => labels.extend([
                    ("node_role_kubernetes_io", "infra"),
                    ("node_role_kubernetes_io_infra", ""),
                ]),
                Role::Worker => labels.push(("node_role_kubernetes_io_worker", "")),
            }
            let labels = labels_json(labels);
            Node {
                name,
                resource_id,
                role,
                cores: f64::from(cores),
                mem_bytes: mem,
                zone,
                labels,
            }
        })
        .collect()
}
