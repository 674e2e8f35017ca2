//! Unique names per scope (Kubernetes names are unique per namespace).

use std::collections::HashSet;

use crate::rng::Rng;

#[derive(Debug, Default)]
pub struct NameBook {
    used: HashSet<(String, String)>,
}

impl NameBook {
    /// A name from `make` not yet taken in `scope`; on a collision, a fresh one with a random
    /// suffix. Membership only: the set is never iterated, so output does not depend on hashing.
    pub fn take(
        &mut self,
        rng: &mut Rng,
        scope: &str,
        make: impl Fn(&mut Rng) -> String,
    ) -> String {
        let mut name = make(rng);
        while self.used.contains(&(scope.to_owned(), name.clone())) {
            name = format!("{}-{}", make(rng), rng.k8s(3));
        }
        self.used.insert((scope.to_owned(), name.clone()));
        name
    }
}
