//! A small deterministic PRNG (xoshiro256**, seeded through SplitMix64), so output depends only on
//! the seed and flags, never on a crate's version or on the platform.

/// Alphabet of the random suffixes Kubernetes gives generated names (no vowels, no 0/1/3).
pub const K8S_ALNUM: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const HEX: &[u8] = b"0123456789abcdef";

#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a of `text`, to seed a generator from a name (a pod, a day).
pub fn hash_str(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Rng {
    /// A generator for a tuple of numbers, e.g. (seed, stream, day, hour): each distinct tuple gets
    /// an independent stream, so any hour can be generated on its own.
    pub fn new(parts: &[u64]) -> Self {
        let mut state = 0x6b6f_6b75_6765_6e00; // "kokugen\0"
        for &p in parts {
            state ^= p;
            state = splitmix(&mut state);
        }
        let mut s = [0; 4];
        for x in &mut s {
            *x = splitmix(&mut state);
        }
        Rng { s }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform in [0, n); n > 0.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in [lo, hi], both inclusive.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    pub fn choice<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Standard normal (Box-Muller; one draw per call keeps streams simple to reason about).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64(); // (0, 1]
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    pub fn lognormal(&mut self, mu: f64, sigma: f64) -> f64 {
        (mu + sigma * self.normal()).exp()
    }

    /// `n` characters of `alphabet`.
    pub fn string(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n).map(|_| char::from(*self.choice(alphabet))).collect()
    }

    /// A Kubernetes-style random suffix of `n` characters.
    pub fn k8s(&mut self, n: usize) -> String {
        self.string(n, K8S_ALNUM)
    }

    pub fn hex(&mut self, n: usize) -> String {
        self.string(n, HEX)
    }

    /// A random (version 4) UUID in its canonical text form.
    pub fn uuid4(&mut self) -> String {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_tuple_same_stream_other_tuple_other_stream() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(&[42, 1, 3]).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::new(&[42, 1, 3]).next_u64(),
            Rng::new(&[42, 1, 4]).next_u64()
        );
    }

    #[test]
    fn tuples_differing_anywhere_get_different_streams() {
        let mut seen = std::collections::HashSet::new();
        for a in 0..50u64 {
            for b in 0..50u64 {
                assert!(seen.insert(Rng::new(&[42, 4, a, b]).next_u64()));
                assert!(seen.insert(Rng::new(&[42, 4, a * 50 + b]).next_u64()));
            }
        }
    }

    #[test]
    fn ranges_hold() {
        let mut r = Rng::new(&[7]);
        for _ in 0..10_000 {
            let x = r.int(3, 8);
            assert!((3..=8).contains(&x));
            let f = r.uniform(0.45, 0.85);
            assert!((0.45..0.85).contains(&f));
        }
        let id = r.uuid4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
