//! The cluster the generator invents: nodes, namespaces, pods with their requests, and PVCs.
//! Built once from the seed; each hour's usage is drawn separately (see [`crate::usage`]).

pub mod labels;
mod names;
pub mod namespaces;
pub mod nodes;
pub mod pods;
pub mod pvcs;

use labels::{LabelStyle, Labeler};
use namespaces::Namespace;
use nodes::Node;
use pods::{Placement, Pod};
use pvcs::Pvc;

use crate::rng::Rng;

#[derive(Debug, Clone, Copy)]
pub struct WorldSpec {
    pub seed: u64,
    pub nodes: usize,
    pub namespaces: usize,
    pub placement: Placement,
    pub labels: LabelStyle,
    pub pvcs: usize,
}

#[derive(Debug)]
pub struct World {
    pub nodes: Vec<Node>,
    pub namespaces: Vec<Namespace>,
    /// By node, then in placement order.
    pub pods: Vec<Pod>,
    pub pvcs: Vec<Pvc>,
}

pub fn build_world(spec: &WorldSpec) -> World {
    let mut rng = Rng::new(&[spec.seed]);
    let nodes = nodes::build_nodes(&mut rng, spec.nodes.max(1));
    let namespaces = namespaces::build_namespaces(&mut rng, spec.namespaces);
    let mut pods = pods::place_pods(
        &mut rng,
        &nodes,
        &namespaces,
        spec.placement,
        Labeler::new(spec.labels),
    );
    pods::size_requests(&mut rng, &nodes, &mut pods);
    let mut world = World {
        nodes,
        namespaces,
        pods,
        pvcs: Vec::new(),
    };
    world.pvcs = pvcs::build_pvcs(&mut rng, &world, spec.pvcs);
    world
}
