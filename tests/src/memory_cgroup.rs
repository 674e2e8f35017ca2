//! A memory cgroup for one child process: the way Lambda enforces MemorySize. Over the limit the
//! kernel reclaims what it can (page cache, such as the ingest's spill files) and then kills the
//! process, so a run that exits successfully inside it never held more than the limit.
//!
//! cgroup v2 (`memory.max`, when the unified hierarchy has the memory controller) or v1
//! (`memory.limit_in_bytes`, plus `memory.memsw.limit_in_bytes` so swap cannot stand in).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct MemoryCgroup {
    dir: PathBuf,
    version: Version,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Version {
    V1,
    V2,
}

const V2_ROOT: &str = "/sys/fs/cgroup";
const V1_ROOT: &str = "/sys/fs/cgroup/memory";

impl MemoryCgroup {
    /// A new cgroup named after `name` limited to `limit_bytes`. Panics with what is needed when
    /// the machine offers no writable memory cgroup (the tests run as root on Linux).
    pub fn new(name: &str, limit_bytes: u64) -> MemoryCgroup {
        let v2_has_memory = std::fs::read_to_string(Path::new(V2_ROOT).join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"));
        let (root, version) = if v2_has_memory {
            (V2_ROOT, Version::V2)
        } else if Path::new(V1_ROOT).join("memory.limit_in_bytes").exists() {
            (V1_ROOT, Version::V1)
        } else {
            panic!(
                "no memory cgroup: neither {V2_ROOT}/cgroup.controllers lists memory nor {V1_ROOT} exists"
            );
        };
        let dir = Path::new(root).join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "cannot create the memory cgroup {} (run as root): {e}",
                dir.display()
            )
        });
        let group = MemoryCgroup { dir, version };
        match version {
            Version::V2 => {
                group.write("memory.max", limit_bytes);
                if group.dir.join("memory.swap.max").exists() {
                    group.write("memory.swap.max", 0);
                }
            }
            Version::V1 => {
                group.write("memory.limit_in_bytes", limit_bytes);
                if group.dir.join("memory.memsw.limit_in_bytes").exists() {
                    group.write("memory.memsw.limit_in_bytes", limit_bytes);
                }
            }
        }
        group
    }

    fn write(&self, file: &str, value: u64) {
        let path = self.dir.join(file);
        std::fs::write(&path, value.to_string())
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// `command`, started inside the cgroup: a shell joins it, then execs the program with the
    /// command's arguments and environment.
    pub fn wrap(&self, command: &Command) -> Command {
        let mut wrapped = Command::new("sh");
        wrapped
            .arg("-c")
            .arg(r#"echo $$ > "$0" && exec "$@""#)
            .arg(self.dir.join("cgroup.procs"))
            .arg(command.get_program())
            .args(command.get_args());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
    }

    /// Processes the kernel killed for running out of memory in this cgroup.
    pub fn oom_kills(&self) -> u64 {
        let file = match self.version {
            Version::V2 => "memory.events",
            Version::V1 => "memory.oom_control",
        };
        std::fs::read_to_string(self.dir.join(file))
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("oom_kill ").map(str::to_owned))
            })
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        // The child has exited; an empty cgroup can be removed.
        let _ = std::fs::remove_dir(&self.dir);
    }
}
