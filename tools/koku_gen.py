#!/usr/bin/env python3
"""koku_gen.py: deterministic generator of koku-layout *raw hourly* OCP Parquet.

It writes the files koku's ingest leaves on S3 for an OpenShift source (spec
shared/spec/koku-ocp-daily-summary.md §2), for the four report types pod_usage,
storage_usage, node_labels and namespace_labels. It follows these koku conventions:

* The operator payload is split by day (`divide_csv_daily`), so there is one file per
  report type per day, named `{report_type}.{YYYY-MM-DD}.{manifest_id}.{counter}_{chunk}.parquet`.
* Keys: `data/parquet/{org}/OCP/{report_type}/source={uuid}/year={YYYY}/month={MM}/<file>`
  (month zero-padded, no `day=` partition).
* Types as pandas `to_parquet(coerce_timestamps="ms")` writes them: report_period_start/end
  and interval_start/end are timestamp[ms] without a timezone; every numeric column is
  float64, never null (blank values become 0.0); every other column is a string, '' rather
  than null.
* Labels are Python `json.dumps` text of a dict of string -> string with the operator's
  `label_` prefix already removed, e.g. `{"app": "koku", "env": "prod"}`, `{}` when empty.
  Keys are in sorted order and a label set is always serialised the same way.
* Hourly rows: interval_start = the hour, interval_end = hour + 59m59s.
  report_period_start = first of the month 00:00, report_period_end = first of the next month.
* pod_usage: node_capacity_cpu_core_seconds = cores * 3600 and
  node_capacity_memory_byte_seconds = bytes * 3600, repeated on every pod row of that node and
  hour; pod_effective_usage_* = per-row max(usage, request) (koku adds these to the hourly rows).
* storage_usage: one row per (PVC, mounting pod, hour); the `node` column is the pod's node.

The cluster it invents: node 0 is a master running `openshift-kube-apiserver` (node_role
'master'), node 1 an infra node labelled `node_role_kubernetes_io: infra` (node_role
'infra'), the rest workers of differing sizes. Platform namespaces (`openshift-*`, `kube-*`)
run static, daemonset and operator pods; user namespaces run deployments (replicas spread
over the workers), statefulsets, a KubeVirt VM (label `vm_kubevirt_io_name`) and cron jobs
(pods that live a few hours a day, with partial first/last hours). Usage is realistic:
requests fill 45-85 % of a node, usage follows a per-pod diurnal curve with noise, may exceed
the request (so effective usage differs from it) but never the limit, and a node's total
usage never exceeds its capacity.

Everything is deterministic for a given `--seed` and flags: static topology comes from
`random.Random(seed)`, each hour's values from `numpy.random.RandomState([seed, kind, day,
hour])`, so the output does not depend on `--rows-per-row-group`. Files are streamed with
`pyarrow.parquet.ParquetWriter` one row group at a time, so memory stays bounded.

`--pod-rows N` writes a single pod_usage file with exactly N rows for benchmarking.

Only pyarrow and numpy are needed (pandas is not).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import math
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_SOURCE = "5235154c-2132-56b5-8b3d-2a3a00f342f5"
GIB = 1 << 30
MIB = 1 << 20
HOUR_MS = 3_600_000
INTERVAL_END_OFFSET_MS = HOUR_MS - 1000  # hour + 59m59s

TS = pa.timestamp("ms")
STR = pa.string()
F64 = pa.float64()

POD_SCHEMA = pa.schema(
    [
        ("report_period_start", TS),
        ("report_period_end", TS),
        ("pod", STR),
        ("namespace", STR),
        ("node", STR),
        ("resource_id", STR),
        ("interval_start", TS),
        ("interval_end", TS),
        ("pod_usage_cpu_core_seconds", F64),
        ("pod_request_cpu_core_seconds", F64),
        ("pod_limit_cpu_core_seconds", F64),
        ("pod_usage_memory_byte_seconds", F64),
        ("pod_request_memory_byte_seconds", F64),
        ("pod_limit_memory_byte_seconds", F64),
        ("node_capacity_cpu_cores", F64),
        ("node_capacity_cpu_core_seconds", F64),
        ("node_capacity_memory_bytes", F64),
        ("node_capacity_memory_byte_seconds", F64),
        ("pod_labels", STR),
        ("node_role", STR),
        ("pod_effective_usage_cpu_core_seconds", F64),
        ("pod_effective_usage_memory_byte_seconds", F64),
    ]
)

STORAGE_SCHEMA = pa.schema(
    [
        ("report_period_start", TS),
        ("report_period_end", TS),
        ("interval_start", TS),
        ("interval_end", TS),
        ("namespace", STR),
        ("pod", STR),
        ("persistentvolumeclaim", STR),
        ("persistentvolume", STR),
        ("storageclass", STR),
        ("persistentvolumeclaim_capacity_bytes", F64),
        ("persistentvolumeclaim_capacity_byte_seconds", F64),
        ("volume_request_storage_byte_seconds", F64),
        ("persistentvolumeclaim_usage_byte_seconds", F64),
        ("persistentvolume_labels", STR),
        ("persistentvolumeclaim_labels", STR),
        ("node", STR),
        ("csi_driver", STR),
        ("csi_volume_handle", STR),
    ]
)

NODE_LABELS_SCHEMA = pa.schema(
    [
        ("report_period_start", TS),
        ("report_period_end", TS),
        ("interval_start", TS),
        ("interval_end", TS),
        ("node", STR),
        ("node_labels", STR),
    ]
)

NAMESPACE_LABELS_SCHEMA = pa.schema(
    [
        ("report_period_start", TS),
        ("report_period_end", TS),
        ("interval_start", TS),
        ("interval_end", TS),
        ("namespace", STR),
        ("namespace_labels", STR),
    ]
)

# Platform namespaces, in the order they are picked (openshift-kube-apiserver always first).
PLATFORM_NAMESPACES = [
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
]
USER_NAMESPACES = [
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
]
ENVS = ["prod", "staging", "dev", "qa"]
TEAMS = ["platform", "payments", "web", "data", "ml", "sre", "billing", "search", "identity"]
APPS = [
    "api", "web", "worker", "frontend", "backend", "scheduler", "ingest", "billing", "cache",
    "gateway", "notifier", "exporter", "indexer", "auth", "reports", "queue-consumer",
]
COMPONENTS = ["server", "worker", "database", "cache", "proxy", "controller"]
TIERS = ["frontend", "backend", "data", "batch"]
# Daemonsets run one pod on every node (namespace, daemonset name).
DAEMONSETS = [
    ("openshift-monitoring", "node-exporter"),
    ("openshift-dns", "dns-default"),
    ("openshift-multus", "multus"),
    ("openshift-dns", "node-resolver"),
    ("openshift-machine-config-operator", "machine-config-daemon"),
    ("kube-system", "konnectivity-agent"),
]
# Pod label keys, in the order --label-keys takes them.
LABEL_KEY_POOL = [
    "app", "environment", "team", "app_kubernetes_io_component", "version", "tier",
    "app_kubernetes_io_managed_by", "cost_center", "release", "app_kubernetes_io_part_of",
]
UNIQUE_LABEL_KEY = "pod_template_hash"  # with --unique-pod-labels: a value unique to each pod
WORKER_SIZES = [  # (cores, GiB, instance type)
    (4, 16, "m5.xlarge"),
    (8, 32, "m5.2xlarge"),
    (16, 64, "m5.4xlarge"),
    (8, 64, "r5.2xlarge"),
    (32, 128, "m5.8xlarge"),
]
STORAGE_CLASSES = {  # name -> (csi_driver, access)
    "gp3-csi": ("ebs.csi.aws.com", "RWO"),
    "gp2": ("", "RWO"),  # in-tree: no CSI driver or volume handle
    "ocs-storagecluster-cephfs": ("openshift-storage.cephfs.csi.ceph.com", "RWX"),
}
K8S_ALNUM = "bcdfghjklmnpqrstvwxz2456789"  # alphabet of generated k8s name suffixes
ZONES = ["a", "b", "c"]
REGION = "us-east-1"


def labels_json(labels: dict[str, str]) -> str:
    """koku's label text: json.dumps of a str->str dict, keys sorted so equal sets match."""
    return json.dumps({k: str(labels[k]) for k in sorted(labels)})


def rand_str(rng: random.Random, n: int, alphabet: str = K8S_ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


# ----------------------------------------------------------------------------- topology


@dataclass
class Node:
    name: str
    resource_id: str
    role: str
    cores: float
    mem_bytes: float
    labels: str


@dataclass
class Namespace:
    name: str
    platform: bool
    labels: str
    team: str
    env: str


@dataclass
class Pod:
    name: str
    ns: int
    node: int
    kind: str  # static | daemonset | operator | deployment | statefulset | vm | cronjob
    workload: str
    labels: str
    weight_cpu: float
    weight_mem: float
    cpu_lim_mult: float
    mem_lim_mult: float
    cpu_util: float
    mem_util: float
    amp: float
    peak: float
    cpu_req: float = 0.0  # cores, set by size_requests
    mem_req: float = 0.0  # bytes


@dataclass
class PVC:
    name: str
    pv: str
    ns: int
    storageclass: str
    csi_driver: str
    csi_handle: str
    cap_bytes: float
    req_bytes: float
    pv_labels: str
    pvc_labels: str
    pods: list[int]
    used0: float  # fraction of capacity used at the start of the month
    growth: float  # fraction of capacity added per hour


@dataclass
class World:
    nodes: list[Node]
    namespaces: list[Namespace]
    pods: list[Pod]
    pvcs: list[PVC] = field(default_factory=list)


class NameBook:
    """Unique names per scope (a namespace) from a deterministic rng.

    The set is used for membership only, never iterated, so output does not depend on hashing.
    """

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[tuple[str, str]] = set()

    def take(self, make, scope: str = "") -> str:
        name = make(self.rng)
        while (scope, name) in self.used:  # deterministic makers collide: add a suffix
            name = f"{make(self.rng)}-{rand_str(self.rng, 3)}"
        self.used.add((scope, name))
        return name


def build_nodes(rng: random.Random, n: int) -> list[Node]:
    infra_id = "ocp-" + rand_str(rng, 5)
    book = NameBook(rng)
    nodes = []
    for i in range(n):
        zone = ZONES[i % len(ZONES)]
        if i == 0:
            role, (cores, gib, itype) = "master", (8, 32, "m5.2xlarge")
            name = book.take(lambda r: f"{infra_id}-master-0")
        elif i == 1:
            role, (cores, gib, itype) = "infra", (16, 64, "m5.4xlarge")
            name = book.take(lambda r, z=zone: f"{infra_id}-infra-{z}-{rand_str(r, 5)}")
        else:
            role, (cores, gib, itype) = "worker", WORKER_SIZES[(i - 2) % len(WORKER_SIZES)]
            name = book.take(lambda r, z=zone: f"{infra_id}-worker-{REGION}{z}-{rand_str(r, 5)}")
        # kubelet reports a bit less than the instance's nominal memory, in whole KiB
        mem = (int(gib * GIB * rng.uniform(0.955, 0.975)) // 1024) * 1024
        resource_id = "i-0" + "".join(rng.choice("0123456789abcdef") for _ in range(16))
        labels = {
            "beta_kubernetes_io_arch": "amd64",
            "beta_kubernetes_io_instance_type": itype,
            "beta_kubernetes_io_os": "linux",
            "failure_domain_beta_kubernetes_io_region": REGION,
            "failure_domain_beta_kubernetes_io_zone": REGION + zone,
            "kubernetes_io_arch": "amd64",
            "kubernetes_io_hostname": name,
            "kubernetes_io_os": "linux",
            "node_kubernetes_io_instance_type": itype,
            "node_openshift_io_os_id": "rhcos",
            "topology_kubernetes_io_region": REGION,
            "topology_kubernetes_io_zone": REGION + zone,
        }
        if role == "master":
            labels["node_role_kubernetes_io_master"] = ""
            labels["node_role_kubernetes_io_control_plane"] = ""
        elif role == "infra":
            labels["node_role_kubernetes_io"] = "infra"
            labels["node_role_kubernetes_io_infra"] = ""
        else:
            labels["node_role_kubernetes_io_worker"] = ""
        nodes.append(Node(name, resource_id, role, float(cores), float(mem), labels_json(labels)))
    return nodes


def build_namespaces(rng: random.Random, n: int) -> list[Namespace]:
    n = max(1, n)
    n_platform = 1 if n == 1 else min(len(PLATFORM_NAMESPACES), max(1, round(n * 0.4)))
    if n >= 2:
        n_platform = min(n_platform, n - 1)
    names = [(p, True) for p in PLATFORM_NAMESPACES[:n_platform]]
    for i in range(n - n_platform):
        if i < len(USER_NAMESPACES):
            names.append((USER_NAMESPACES[i], False))
        else:
            names.append((f"team-{i:04d}-{ENVS[i % len(ENVS)]}", False))
    out = []
    for name, platform in names:
        labels = {"kubernetes_io_metadata_name": name}
        if platform:
            team, env = "platform", "prod"
            if name.startswith("openshift-"):
                labels["openshift_io_cluster_monitoring"] = "true"
                labels["openshift_io_run_level"] = rng.choice(["0", "1", ""])
            labels["pod_security_kubernetes_io_enforce"] = "privileged"
        else:
            team = rng.choice(TEAMS[1:])
            env = next((e for e in ENVS if name.endswith(e)), rng.choice(ENVS))
            labels["environment"] = env
            labels["team"] = team
            labels["pod_security_kubernetes_io_audit"] = "restricted"
        out.append(Namespace(name, platform, labels_json(labels), team, env))
    return out


class PodFactory:
    """Creates pods with workload-shaped labels and random (seeded) sizing parameters."""

    def __init__(self, rng: random.Random, namespaces: list[Namespace], label_keys: int, unique: bool):
        self.rng = rng
        self.namespaces = namespaces
        self.label_keys = label_keys
        self.unique = unique
        self.book = NameBook(rng)
        self.pods: list[Pod] = []

    def workload_labels(self, ns: Namespace, app: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        r = self.rng
        values = {
            "app": app,
            "environment": ns.env,
            "team": ns.team,
            "app_kubernetes_io_component": r.choice(COMPONENTS),
            "version": f"v{r.randint(1, 3)}.{r.randint(0, 12)}.{r.randint(0, 9)}",
            "tier": r.choice(TIERS),
            "app_kubernetes_io_managed_by": r.choice(["helm", "argocd", "olm", "kustomize"]),
            "cost_center": f"cc-{r.randint(1000, 1099)}",
            "release": f"{app}-{r.choice(['stable', 'canary'])}",
            "app_kubernetes_io_part_of": ns.name,
        }
        keys = LABEL_KEY_POOL + [f"custom_key_{i}" for i in range(max(0, self.label_keys - len(LABEL_KEY_POOL)))]
        labels = {}
        for k in keys[: self.label_keys]:
            labels[k] = values.get(k) or f"{k.replace('_', '-')}-{r.randint(0, 9)}"
        if extra:
            labels.update(extra)
        return labels

    def add(self, name: str, ns: int, node: int, kind: str, workload: str, labels: dict[str, str]) -> int:
        r = self.rng
        if self.unique:
            unique = self.book.take(lambda r: rand_str(r, 10), scope="\0unique-label")
            labels = dict(labels, **{UNIQUE_LABEL_KEY: unique})
        heavy = kind in ("static", "statefulset", "vm")
        pod = Pod(
            name=name,
            ns=ns,
            node=node,
            kind=kind,
            workload=workload,
            labels=labels_json(labels),
            weight_cpu=r.lognormvariate(0.6 if heavy else 0.0, 0.8),
            weight_mem=r.lognormvariate(0.8 if heavy else 0.0, 0.7),
            cpu_lim_mult=r.choice([1.0, 1.5, 2.0, 2.0, 4.0]),
            mem_lim_mult=r.choice([1.0, 1.25, 1.5, 2.0]),
            cpu_util=min(3.0, r.lognormvariate(math.log(0.45), 0.6)),
            mem_util=min(1.2, r.lognormvariate(math.log(0.7), 0.25)),
            amp=r.uniform(0.0, 0.5),
            peak=r.uniform(8.0, 20.0),
        )
        self.pods.append(pod)
        return len(self.pods) - 1

    def pod_name(self, fmt, namespace: str) -> str:
        return self.book.take(fmt, namespace)


def place_pods(
    rng: random.Random,
    nodes: list[Node],
    namespaces: list[Namespace],
    per_node: int,
    budget: int,
    label_keys: int,
    unique: bool,
    with_jobs: bool,
) -> list[Pod]:
    """Places up to `budget` pods, at most `per_node` on each node.

    Order: the kube-apiserver static pod on the master, infra's router/prometheus, daemonsets on
    every node, user workloads round-robin over the workers, then platform operator pods filling
    the master and infra nodes.
    """
    f = PodFactory(rng, namespaces, label_keys, unique)
    ns_index = {ns.name: i for i, ns in enumerate(namespaces)}
    platform_ns = [i for i, ns in enumerate(namespaces) if ns.platform]
    user_ns = [i for i, ns in enumerate(namespaces) if not ns.platform] or list(range(len(namespaces)))
    counts = [0] * len(nodes)
    total = 0

    def room(node: int) -> bool:
        return total < budget and counts[node] < per_node

    def add(name, ns, node, kind, workload, labels) -> int | None:
        nonlocal total
        if not room(node):
            return None
        counts[node] += 1
        total += 1
        return f.add(name, ns, node, kind, workload, labels)

    # 1. control-plane static pods on the master (node 0)
    statics = [("openshift-kube-apiserver", "kube-apiserver"), ("openshift-etcd", "etcd"),
               ("openshift-kube-scheduler", "openshift-kube-scheduler"),
               ("openshift-kube-controller-manager", "kube-controller-manager")]
    for ns_name, app in statics:
        if ns_name in ns_index:
            ns = namespaces[ns_index[ns_name]]
            add(f.pod_name(lambda r: f"{app}-{nodes[0].name}", ns_name), ns_index[ns_name], 0, "static", app,
                f.workload_labels(ns, app, {"apiserver": "true"} if app == "kube-apiserver" else None))
    # 2. infra workloads on the infra node (node 1)
    if len(nodes) > 1:
        infra = [("openshift-ingress", "router-default", "deployment"),
                 ("openshift-monitoring", "prometheus-k8s", "statefulset"),
                 ("openshift-image-registry", "image-registry", "deployment"),
                 ("openshift-monitoring", "alertmanager-main", "statefulset")]
        for ns_name, app, kind in infra:
            if ns_name in ns_index:
                ns = namespaces[ns_index[ns_name]]
                fmt = (lambda r: f"{app}-0") if kind == "statefulset" else \
                      (lambda r: f"{app}-{rand_str(r, 10)}-{rand_str(r, 5)}")
                add(f.pod_name(fmt, ns_name), ns_index[ns_name], 1, kind, app, f.workload_labels(ns, app))
    # 3. daemonsets: one pod on every node
    daemonsets = [(ns, ds) for ns, ds in DAEMONSETS if ns in ns_index][: max(1, per_node // 4)]
    for ns_name, ds in daemonsets:
        ns = namespaces[ns_index[ns_name]]
        labels = f.workload_labels(ns, ds)
        for node in range(len(nodes)):
            add(f.pod_name(lambda r: f"{ds}-{rand_str(r, 5)}", ns_name), ns_index[ns_name], node, "daemonset", ds, labels)
    # 4. user workloads round-robin over the workers (all nodes if there are none)
    workers = [i for i, n in enumerate(nodes) if n.role == "worker"] or list(range(len(nodes)))
    cursor = 0
    made_vm = False
    w = 0
    while total < budget and any(room(n) for n in workers):
        ns_i = user_ns[w % len(user_ns)]
        ns = namespaces[ns_i]
        app = APPS[(w // len(user_ns)) % len(APPS)]
        if w >= len(user_ns) * len(APPS):
            app = f"{app}-{w // (len(user_ns) * len(APPS))}"
        w += 1
        roll = rng.random()
        if not made_vm and not ns.platform and (ns.name == "vm-workloads" or w > len(user_ns)):
            kind, replicas, made_vm = "vm", 1, True
        elif with_jobs and roll < 0.08:
            kind, replicas = "cronjob", 1
        elif roll < 0.2:
            kind, replicas = "statefulset", rng.choice([1, 2, 3])
        else:
            kind, replicas = "deployment", rng.choice([1, 1, 2, 2, 3, 3, 4, 6])
        if kind == "vm":
            vm = f"rhel9-{rand_str(rng, 4)}"
            labels = f.workload_labels(ns, "virt-launcher", {"vm_kubevirt_io_name": vm, "kubevirt_io": "virt-launcher"})
        else:
            labels = f.workload_labels(ns, app)
        rs_hash = rand_str(rng, 10)
        for rep in range(replicas):
            for _ in range(len(workers)):
                node = workers[cursor % len(workers)]
                cursor += 1
                if room(node):
                    break
            else:
                break
            if kind == "statefulset":
                fmt = lambda r, a=app, i=rep: f"{a}-{i}"
            elif kind == "vm":
                fmt = lambda r, v=vm: f"virt-launcher-{v}-{rand_str(r, 5)}"
            elif kind == "cronjob":
                fmt = lambda r, a=app: f"{a}-cron"  # per-day name is made by job_windows
            else:
                fmt = lambda r, a=app, h=rs_hash: f"{a}-{h}-{rand_str(r, 5)}"
            # pod names are unique per namespace, as in Kubernetes
            add(f.pod_name(fmt, ns.name), ns_i, node, kind, app, labels)
    # 5. platform operators filling the master and infra nodes
    ops = platform_ns or [0]
    for node in [i for i, n in enumerate(nodes) if n.role != "worker"]:
        k = 0
        while room(node):
            ns_i = ops[k % len(ops)]
            ns = namespaces[ns_i]
            app = ns.name.replace("openshift-", "").replace("kube-", "") + ("-operator" if k < len(ops) else f"-{k // len(ops)}")
            k += 1
            add(f.pod_name(lambda r, a=app: f"{a}-{rand_str(r, 10)}-{rand_str(r, 5)}", ns.name), ns_i, node, "operator", app,
                f.workload_labels(ns, app))
    # stable order: by node, then in placement order (rows are written hour-major, node, pod)
    order = sorted(range(len(f.pods)), key=lambda i: (f.pods[i].node, i))
    return [f.pods[i] for i in order]


def size_requests(rng: random.Random, nodes: list[Node], pods: list[Pod]) -> None:
    """Requests fill 45-85 % (cpu) / 40-80 % (memory) of each node, split by pod weight."""
    by_node: dict[int, list[Pod]] = {}
    for p in pods:
        by_node.setdefault(p.node, []).append(p)
    for ni, node in enumerate(nodes):
        group = by_node.get(ni, [])
        if not group:
            continue
        cpu_fill, mem_fill = rng.uniform(0.45, 0.85), rng.uniform(0.40, 0.80)
        wc = sum(p.weight_cpu for p in group)
        wm = sum(p.weight_mem for p in group)
        for p in group:
            p.cpu_req = max(0.001, round(node.cores * cpu_fill * p.weight_cpu / wc, 3))  # millicores
            p.mem_req = float(max(8, int(node.mem_bytes * mem_fill * p.weight_mem / wm) // MIB) * MIB)  # MiB


def build_pvcs(rng: random.Random, world: World, n: int, label_keys: int) -> list[PVC]:
    """PVCs mounted by long-running pods; the first is shared by two pods on two nodes."""
    if n <= 0:
        return []
    pods, namespaces, nodes = world.pods, world.namespaces, world.nodes
    long_pods = [i for i, p in enumerate(pods) if p.kind in ("deployment", "statefulset", "vm", "operator")]
    names: set[str] = set()
    out: list[PVC] = []

    def pvc_labels(pod: Pod) -> str:
        if label_keys <= 0:
            return "{}"
        full = json.loads(pod.labels)
        keep = {k: full[k] for k in ("app", "environment") if k in full}
        return labels_json(keep)

    def make(name: str, ns: int, sc: str, mounts: list[int]) -> None:
        base, k = name, 2
        while f"{namespaces[ns].name}/{name}" in names:
            name, k = f"{base}-{k}", k + 1
        names.add(f"{namespaces[ns].name}/{name}")
        driver, _ = STORAGE_CLASSES[sc]
        cap_gib = rng.choice([1, 5, 10, 20, 20, 50, 100, 200])
        cap = float(cap_gib * GIB)
        req = cap if rng.random() < 0.75 else float(max(1, int(cap_gib * 1024 * rng.uniform(0.6, 0.95))) * MIB)
        pv = "pvc-" + str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if driver == "ebs.csi.aws.com":
            handle = "vol-0" + "".join(rng.choice("0123456789abcdef") for _ in range(16))
        elif driver:
            handle = "0001-0011-openshift-storage-0000000000000001-" + str(uuid.UUID(int=rng.getrandbits(128), version=4))
        else:
            handle = ""
        zone = json.loads(nodes[pods[mounts[0]].node].labels).get("topology_kubernetes_io_zone", REGION + "a")
        pv_labels = labels_json({"failure_domain_beta_kubernetes_io_region": REGION,
                                 "failure_domain_beta_kubernetes_io_zone": zone}) if sc == "gp2" else "{}"
        out.append(PVC(name, pv, ns, sc, driver, handle, cap, req, pv_labels, pvc_labels(pods[mounts[0]]),
                       sorted(mounts), used0=rng.uniform(0.05, 0.6), growth=rng.uniform(0.0, 0.3) / 720))

    # shared RWX claim: two pods of one workload, same namespace, different nodes
    by_workload: dict[tuple[int, str], list[int]] = {}
    for i in long_pods:
        by_workload.setdefault((pods[i].ns, pods[i].workload), []).append(i)
    for (ns, app), members in by_workload.items():
        other = [j for j in members if pods[j].node != pods[members[0]].node]
        if other and pods[members[0]].kind == "deployment":
            make(f"{app}-shared", ns, "ocs-storagecluster-cephfs", [members[0], other[0]])
            break
    candidates = sorted(long_pods, key=lambda i: (pods[i].kind != "statefulset", namespaces[pods[i].ns].platform, i))
    rounds = 0
    while len(out) < n and candidates:
        for i in candidates:
            if len(out) >= n:
                break
            p = pods[i]
            sc = "gp2" if (len(out) % 4 == 3) else "gp3-csi"
            name = f"data-{p.name}" if p.kind == "statefulset" else f"{p.workload}-data"
            if rounds:
                name = f"{name}-{rounds}"
            make(name, p.ns, sc, [i])
        rounds += 1
    return out[:n]


def build_world(args, pod_budget: int | None, nodes_n: int, namespaces_n: int, per_node: int) -> World:
    rng = random.Random(args.seed)
    nodes = build_nodes(rng, nodes_n)
    namespaces = build_namespaces(rng, namespaces_n)
    budget = pod_budget if pod_budget is not None else nodes_n * per_node
    pods = place_pods(rng, nodes, namespaces, per_node, budget, args.label_keys, args.unique_pod_labels,
                      with_jobs=pod_budget is None)
    size_requests(rng, nodes, pods)
    world = World(nodes, namespaces, pods)
    if pod_budget is None:
        world.pvcs = build_pvcs(rng, world, args.pvcs, args.label_keys)
    return world


# ----------------------------------------------------------------------------- writing


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(year, month, 1)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1)
    return start, end


def ms(t: dt.datetime) -> int:
    return int((t - dt.datetime(1970, 1, 1)).total_seconds()) * 1000


def ts_col(value_ms: int, n: int) -> pa.Array:
    return pa.array(np.full(n, value_ms, dtype="datetime64[ms]"), type=TS)


class ChunkedWriter:
    """Buffers per-hour tables and writes row groups of exactly `rows_per_group` rows."""

    def __init__(self, path: str, schema: pa.Schema, rows_per_group: int, compression: str):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.path = path
        self.schema = schema
        self.rows_per_group = rows_per_group
        self.writer = pq.ParquetWriter(path, schema, compression=compression, use_dictionary=True,
                                       write_statistics=True, version="2.6")
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.rows = 0
        self.row_groups = 0

    def add(self, columns: dict[str, pa.Array]) -> None:
        table = pa.Table.from_arrays([columns[f.name] for f in self.schema], schema=self.schema)
        if table.num_rows == 0:
            return
        self.buffer.append(table)
        self.buffered += table.num_rows
        if self.buffered >= self.rows_per_group:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)
        offset = 0
        while table.num_rows - offset >= self.rows_per_group or (final and offset < table.num_rows):
            part = table.slice(offset, self.rows_per_group)
            self.writer.write_table(part, row_group_size=self.rows_per_group)
            offset += part.num_rows
            self.rows += part.num_rows
            self.row_groups += 1
        rest = table.slice(offset)
        self.buffer = [rest] if rest.num_rows else []
        self.buffered = rest.num_rows

    def close(self) -> None:
        self._flush(final=True)
        self.writer.close()


@dataclass
class Ctx:
    args: argparse.Namespace
    period_start_ms: int
    period_end_ms: int
    compression: str


def object_key(args, report_type: str, day: dt.date) -> str:
    return (
        f"data/parquet/{args.org}/OCP/{report_type}/source={args.source}/year={day.year:04d}/month={day.month:02d}/"
        f"{report_type}.{day.isoformat()}.{args.manifest_id}.{args.counter}_0.parquet"
    )


def open_writer(ctx: Ctx, report_type: str, day: dt.date, schema: pa.Schema) -> tuple[str, ChunkedWriter]:
    key = object_key(ctx.args, report_type, day)
    path = os.path.join(ctx.args.out, key)
    return key, ChunkedWriter(path, schema, ctx.args.rows_per_row_group, ctx.compression)


def report(key: str, w: ChunkedWriter, report_type: str, day: dt.date, hours: int, started: float) -> None:
    print(json.dumps({
        "report_type": report_type,
        "key": key,
        "path": w.path,
        "rows": w.rows,
        "row_groups": w.row_groups,
        "bytes": os.path.getsize(w.path),
        "reportdatestart": day.isoformat(),
        "reportnumhours": hours,
        "seconds": round(time.perf_counter() - started, 3),
    }), flush=True)


class PodArrays:
    """Per-pod attributes as numpy arrays / Arrow string arrays, indexed by pod number."""

    def __init__(self, world: World):
        pods, nodes = world.pods, world.nodes
        self.n = len(pods)
        self.node = np.array([p.node for p in pods], dtype=np.int64)
        self.cpu_req = np.array([p.cpu_req for p in pods])
        self.mem_req = np.array([p.mem_req for p in pods])
        self.cpu_lim = np.round(self.cpu_req * np.array([p.cpu_lim_mult for p in pods]), 3)
        self.mem_lim = np.floor(self.mem_req * np.array([p.mem_lim_mult for p in pods]) / MIB) * MIB
        self.cpu_util = np.array([p.cpu_util for p in pods])
        self.mem_util = np.array([p.mem_util for p in pods])
        self.amp = np.array([p.amp for p in pods])
        self.peak = np.array([p.peak for p in pods])
        self.node_cores = np.array([n.cores for n in nodes])
        self.node_mem = np.array([n.mem_bytes for n in nodes])
        self.names = pa.array([p.name for p in pods], type=STR)
        self.ns = pa.array([world.namespaces[p.ns].name for p in pods], type=STR)
        self.node_name = pa.array([nodes[p.node].name for p in pods], type=STR)
        self.resource_id = pa.array([nodes[p.node].resource_id for p in pods], type=STR)
        self.labels = pa.array([p.labels for p in pods], type=STR)
        self.role = pa.array([nodes[p.node].role for p in pods], type=STR)


def pod_hour_columns(ctx: Ctx, pa_: PodArrays, names: pa.Array, hour_ms: int, day_index: int,
                     hour_of_day: int, idx: np.ndarray, secs: np.ndarray) -> dict[str, pa.Array]:
    """Rows of one hour for pods `idx` (sorted), each present for `secs` seconds of the hour.

    Random draws are made for every pod (not just `idx`) so a pod's values do not depend on which
    other pods are running.
    """
    rs = np.random.RandomState([ctx.args.seed, 1, day_index, hour_of_day])
    cpu_noise = rs.lognormal(0.0, 0.2, pa_.n)
    mem_noise = rs.lognormal(0.0, 0.04, pa_.n)
    phase = np.sin(2 * np.pi * (hour_of_day - pa_.peak) / 24.0)
    cpu_cores = pa_.cpu_req * pa_.cpu_util * (1 + pa_.amp * phase) * cpu_noise
    mem_bytes = pa_.mem_req * pa_.mem_util * (1 + 0.2 * pa_.amp * phase) * mem_noise
    cpu_cores = np.clip(cpu_cores, 0.0001, pa_.cpu_lim)
    mem_bytes = np.clip(mem_bytes, 4 * MIB, pa_.mem_lim)
    cpu_cores, mem_bytes = cpu_cores[idx], mem_bytes[idx]
    node = pa_.node[idx]
    # a node cannot use more than 95 % of its capacity
    nn = len(pa_.node_cores)
    for used, cap in ((cpu_cores, pa_.node_cores), (mem_bytes, pa_.node_mem)):
        total = np.bincount(node, weights=used, minlength=nn)
        scale = np.minimum(1.0, 0.95 * cap / np.maximum(total, 1e-9))
        used *= scale[node]
    mem_bytes = np.floor(mem_bytes)
    s = secs.astype(np.float64)
    usage_cpu = np.round(cpu_cores * s, 6)
    req_cpu = np.round(pa_.cpu_req[idx] * s, 6)
    lim_cpu = np.round(pa_.cpu_lim[idx] * s, 6)
    usage_mem = mem_bytes * s
    req_mem = pa_.mem_req[idx] * s
    lim_mem = pa_.mem_lim[idx] * s
    cores = pa_.node_cores[node]
    mem_cap = pa_.node_mem[node]
    n = len(idx)
    take = pa.array(idx)
    return {
        "report_period_start": ts_col(ctx.period_start_ms, n),
        "report_period_end": ts_col(ctx.period_end_ms, n),
        "pod": names.take(take),
        "namespace": pa_.ns.take(take),
        "node": pa_.node_name.take(take),
        "resource_id": pa_.resource_id.take(take),
        "interval_start": ts_col(hour_ms, n),
        "interval_end": ts_col(hour_ms + INTERVAL_END_OFFSET_MS, n),
        "pod_usage_cpu_core_seconds": pa.array(usage_cpu),
        "pod_request_cpu_core_seconds": pa.array(req_cpu),
        "pod_limit_cpu_core_seconds": pa.array(lim_cpu),
        "pod_usage_memory_byte_seconds": pa.array(usage_mem),
        "pod_request_memory_byte_seconds": pa.array(req_mem),
        "pod_limit_memory_byte_seconds": pa.array(lim_mem),
        "node_capacity_cpu_cores": pa.array(cores),
        "node_capacity_cpu_core_seconds": pa.array(cores * 3600.0),
        "node_capacity_memory_bytes": pa.array(mem_cap),
        "node_capacity_memory_byte_seconds": pa.array(mem_cap * 3600.0),
        "pod_labels": pa_.labels.take(take),
        "node_role": pa_.role.take(take),
        "pod_effective_usage_cpu_core_seconds": pa.array(np.maximum(usage_cpu, req_cpu)),
        "pod_effective_usage_memory_byte_seconds": pa.array(np.maximum(usage_mem, req_mem)),
    }


def job_windows(world: World, seed: int, day: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Per-pod [start, end) hours for the day, seconds present in the first/last hour, and names.

    Long-running pods are present all 24 hours; a cron-job pod runs a few hours from a random
    minute, with a new pod name each day.
    """
    n = len(world.pods)
    start = np.zeros(n, dtype=np.int64)
    end = np.full(n, 24, dtype=np.int64)
    first = np.full(n, 3600, dtype=np.int64)
    last = np.full(n, 3600, dtype=np.int64)
    names = []
    for i, p in enumerate(world.pods):
        if p.kind != "cronjob":
            names.append(p.name)
            continue
        r = random.Random(f"{seed}/{p.name}/{day.isoformat()}")
        s = r.randint(0, 22)
        dur = r.randint(1, 4)
        start[i], end[i] = s, min(24, s + dur)
        minute = r.randint(0, 59)
        first[i] = (60 - minute) * 60
        last[i] = r.randint(5, 60) * 60
        sched = int((dt.datetime.combine(day, dt.time(s, minute)) - dt.datetime(1970, 1, 1)).total_seconds() // 60)
        names.append(f"{p.workload}-{sched}-{rand_str(r, 5)}")
    return start, end, first, last, names


def write_pod_usage_day(ctx: Ctx, world: World, pa_: PodArrays, day: dt.date) -> None:
    started = time.perf_counter()
    key, w = open_writer(ctx, "pod_usage", day, POD_SCHEMA)
    start, end, first, last, names = job_windows(world, ctx.args.seed, day)
    names_arr = pa.array(names, type=STR)
    day_ms = ms(dt.datetime.combine(day, dt.time()))
    for h in range(24):
        active = (start <= h) & (h < end)
        idx = np.nonzero(active)[0]
        secs = np.full(len(idx), 3600, dtype=np.int64)
        # partial first/last hour of short-lived pods
        secs = np.where(start[idx] == h, first[idx], secs)
        secs = np.where((end[idx] - 1 == h) & (end[idx] - start[idx] > 1), last[idx], secs)
        w.add(pod_hour_columns(ctx, pa_, names_arr, day_ms + h * HOUR_MS, day.toordinal(), h, idx, secs))
    w.close()
    report(key, w, "pod_usage", day, 24, started)


def write_storage_usage_day(ctx: Ctx, world: World, day: dt.date) -> None:
    started = time.perf_counter()
    key, w = open_writer(ctx, "storage_usage", day, STORAGE_SCHEMA)
    start, end, _, _, names = job_windows(world, ctx.args.seed, day)
    # one row per (pvc, mounting pod); mounting pods are long-running
    rows = [(v, p) for v, pvc in enumerate(world.pvcs) for p in pvc.pods]
    if rows:
        vi = np.array([r[0] for r in rows])
        pi = np.array([r[1] for r in rows])
        pvcs, pods, nodes, nss = world.pvcs, world.pods, world.nodes, world.namespaces

        def col(values):
            return pa.array(values, type=STR)

        static = {
            "namespace": col([nss[pvcs[v].ns].name for v in vi]),
            "pod": col([names[p] for p in pi]),
            "persistentvolumeclaim": col([pvcs[v].name for v in vi]),
            "persistentvolume": col([pvcs[v].pv for v in vi]),
            "storageclass": col([pvcs[v].storageclass for v in vi]),
            "persistentvolume_labels": col([pvcs[v].pv_labels for v in vi]),
            "persistentvolumeclaim_labels": col([pvcs[v].pvc_labels for v in vi]),
            "node": col([nodes[pods[p].node].name for p in pi]),
            "csi_driver": col([pvcs[v].csi_driver for v in vi]),
            "csi_volume_handle": col([pvcs[v].csi_handle for v in vi]),
        }
        cap = np.array([p.cap_bytes for p in pvcs])[vi]
        req = np.array([p.req_bytes for p in pvcs])[vi]
        used0 = np.array([p.used0 for p in pvcs])
        growth = np.array([p.growth for p in pvcs])
        caps = np.array([p.cap_bytes for p in pvcs])
        day_ms = ms(dt.datetime.combine(day, dt.time()))
        for h in range(24):
            active = (start[pi] <= h) & (h < end[pi])
            sel = np.nonzero(active)[0]
            if len(sel) == 0:
                continue
            hour_ms = day_ms + h * HOUR_MS
            hours_into_month = (hour_ms - ctx.period_start_ms) // HOUR_MS
            rs = np.random.RandomState([ctx.args.seed, 2, day.toordinal(), h])
            noise = rs.normal(0.0, 0.002, len(pvcs))
            frac = np.clip(used0 + growth * hours_into_month + noise, 0.001, 0.98)
            used = np.floor(caps * frac)[vi[sel]]  # same value on every row of a claim
            n = len(sel)
            take = pa.array(sel)
            cols = {k: v.take(take) for k, v in static.items()}
            cols.update({
                "report_period_start": ts_col(ctx.period_start_ms, n),
                "report_period_end": ts_col(ctx.period_end_ms, n),
                "interval_start": ts_col(hour_ms, n),
                "interval_end": ts_col(hour_ms + INTERVAL_END_OFFSET_MS, n),
                "persistentvolumeclaim_capacity_bytes": pa.array(cap[sel]),
                "persistentvolumeclaim_capacity_byte_seconds": pa.array(cap[sel] * 3600.0),
                "volume_request_storage_byte_seconds": pa.array(req[sel] * 3600.0),
                "persistentvolumeclaim_usage_byte_seconds": pa.array(used * 3600.0),
            })
            w.add(cols)
    w.close()
    report(key, w, "storage_usage", day, 24, started)


def write_labels_day(ctx: Ctx, day: dt.date, report_type: str, schema: pa.Schema,
                     entity_col: str, labels_col: str, entities: list[tuple[str, str]]) -> None:
    started = time.perf_counter()
    key, w = open_writer(ctx, report_type, day, schema)
    names = pa.array([e[0] for e in entities], type=STR)
    labels = pa.array([e[1] for e in entities], type=STR)
    day_ms = ms(dt.datetime.combine(day, dt.time()))
    n = len(entities)
    for h in range(24):
        hour_ms = day_ms + h * HOUR_MS
        w.add({
            "report_period_start": ts_col(ctx.period_start_ms, n),
            "report_period_end": ts_col(ctx.period_end_ms, n),
            "interval_start": ts_col(hour_ms, n),
            "interval_end": ts_col(hour_ms + INTERVAL_END_OFFSET_MS, n),
            entity_col: names,
            labels_col: labels,
        })
    w.close()
    report(key, w, report_type, day, 24, started)


def write_node_labels_day(ctx: Ctx, world: World, day: dt.date) -> None:
    write_labels_day(ctx, day, "node_labels", NODE_LABELS_SCHEMA, "node", "node_labels",
                     [(n.name, n.labels) for n in world.nodes])


def write_namespace_labels_day(ctx: Ctx, world: World, day: dt.date) -> None:
    write_labels_day(ctx, day, "namespace_labels", NAMESPACE_LABELS_SCHEMA, "namespace", "namespace_labels",
                     [(ns.name, ns.labels) for ns in world.namespaces])


def write_pod_rows_bench(ctx: Ctx, args) -> None:
    """A single pod_usage file with exactly args.pod_rows rows (all pods run every hour)."""
    started = time.perf_counter()
    n_rows = args.pod_rows
    month_days = calendar.monthrange(args.year, args.month)[1]
    hours_avail = (month_days - args.start_day + 1) * 24
    pods_n = max(1, min(math.ceil(n_rows / 24), args.max_pods))
    pods_n = max(pods_n, math.ceil(n_rows / hours_avail))  # stay inside the month
    hours = math.ceil(n_rows / pods_n)
    per_node = args.pods_per_node or 100
    nodes_n = max(args.nodes or 4, math.ceil(pods_n / per_node))
    namespaces_n = args.namespaces or max(10, pods_n // 40)
    world = build_world(args, pods_n, nodes_n, namespaces_n, per_node)
    arrays = PodArrays(world)
    first_day = dt.date(args.year, args.month, args.start_day)
    key, w = open_writer(ctx, "pod_usage", first_day, POD_SCHEMA)
    base_ms = ms(dt.datetime.combine(first_day, dt.time()))
    all_idx = np.arange(arrays.n)
    written = 0
    for g in range(hours):
        idx = all_idx[: min(arrays.n, n_rows - written)]
        day = first_day + dt.timedelta(days=g // 24)
        secs = np.full(len(idx), 3600, dtype=np.int64)
        w.add(pod_hour_columns(ctx, arrays, arrays.names, base_ms + g * HOUR_MS, day.toordinal(), g % 24, idx, secs))
        written += len(idx)
    w.close()
    print(json.dumps({"pods": arrays.n, "nodes": len(world.nodes), "namespaces": len(world.namespaces),
                      "hours": hours, "distinct_pod_labels": len({p.labels for p in world.pods})}),
          file=sys.stderr)
    report(key, w, "pod_usage", first_day, hours, started)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Deterministic generator of koku-layout raw hourly OCP Parquet (see module docstring).")
    ap.add_argument("--out", default="./koku-gen-out", help="output directory; files go to OUT/<S3 key>")
    ap.add_argument("--org", default="org1234567", help="account segment of the key (default %(default)s)")
    ap.add_argument("--source", default=DEFAULT_SOURCE, help="provider UUID (default %(default)s)")
    ap.add_argument("--year", type=int, default=2025, help="default %(default)s")
    ap.add_argument("--month", type=int, default=11, help="default %(default)s")
    ap.add_argument("--start-day", type=int, default=1, help="first day of the month to write (default %(default)s)")
    ap.add_argument("--days", type=int, default=2, help="days to write, one file per report type per day (default %(default)s)")
    ap.add_argument("--manifest-id", type=int, default=1, help="manifest id in the file name (default %(default)s)")
    ap.add_argument("--counter", type=int, default=0, help="payload file counter in the file name (default %(default)s)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")
    ap.add_argument("--nodes", type=int, default=None,
                    help="nodes: master, infra, then workers (default 4; with --pod-rows at least pods/pods-per-node)")
    ap.add_argument("--namespaces", type=int, default=None,
                    help="namespaces, ~40%% openshift-*/kube-* (default 10; with --pod-rows max(10, pods/40))")
    ap.add_argument("--pods-per-node", type=int, default=None, help="pods per node (default 20; 100 with --pod-rows)")
    ap.add_argument("--pvcs", type=int, default=6, help="persistent volume claims (default %(default)s)")
    ap.add_argument("--unique-pod-labels", action="store_true",
                    help=f"give every pod a label value of its own ({UNIQUE_LABEL_KEY}=<random, unique per pod>)")
    ap.add_argument("--label-keys", type=int, default=4, help="label keys per pod (default %(default)s)")
    ap.add_argument("--rows-per-row-group", type=int, default=1024 * 1024,
                    help="Parquet row group size (default %(default)s, pyarrow's default)")
    ap.add_argument("--compression", choices=["snappy", "zstd", "none"], default="snappy",
                    help="Parquet codec (default %(default)s, as pandas)")
    ap.add_argument("--pod-rows", type=int, default=None,
                    help="write ONE pod_usage file with exactly N rows (benchmark input); skips other types")
    ap.add_argument("--max-pods", type=int, default=20000,
                    help="with --pod-rows: cap on pods (N/24 pods otherwise), more hours/days are used instead")
    args = ap.parse_args(argv)
    month_days = calendar.monthrange(args.year, args.month)[1]
    if not 1 <= args.start_day <= month_days:
        ap.error(f"--start-day must be within 1..{month_days}")
    if args.pod_rows is None and args.start_day + args.days - 1 > month_days:
        ap.error("--start-day + --days must stay inside the month (koku summarises one month at a time)")
    if args.pod_rows is not None and args.pod_rows < 1:
        ap.error("--pod-rows must be >= 1")
    if args.rows_per_row_group < 1:
        ap.error("--rows-per-row-group must be >= 1")
    try:
        uuid.UUID(args.source)
    except ValueError:
        ap.error("--source must be a UUID")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    period_start, period_end = month_bounds(args.year, args.month)
    ctx = Ctx(args, ms(period_start), ms(period_end), "NONE" if args.compression == "none" else args.compression)
    if args.pod_rows is not None:
        write_pod_rows_bench(ctx, args)
        return 0
    nodes_n = args.nodes if args.nodes is not None else 4
    if nodes_n < 1:
        raise SystemExit("--nodes must be >= 1")
    per_node = args.pods_per_node or 20
    world = build_world(args, None, nodes_n, args.namespaces if args.namespaces is not None else 10, per_node)
    arrays = PodArrays(world)
    for d in range(args.days):
        day = dt.date(args.year, args.month, args.start_day + d)
        write_pod_usage_day(ctx, world, arrays, day)
        write_storage_usage_day(ctx, world, day)
        write_node_labels_day(ctx, world, day)
        write_namespace_labels_day(ctx, world, day)
    return 0


if __name__ == "__main__":
    sys.exit(main())
