//! Small, fast, non-cryptographic randomness: `select!`'s fair start branch
//! and `retry`'s jitter. A xorshift64* generator, seeded from std's
//! per-process random hash keys; no `rand` dependency.
//!
//! Owns only number generation; it must not decide what the numbers mean.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// xorshift64* (Vigna, 2016): 64 bits of state, passes BigCrush on the high
/// bits, which are the ones used here.
#[derive(Debug, Clone)]
pub(crate) struct XorShift64Star(u64);

impl XorShift64Star {
    /// A generator with a fixed seed (any value; zero is remapped).
    pub(crate) fn new(seed: u64) -> XorShift64Star {
        // Spread the seed so that nearby seeds give unrelated streams, and
        // keep the state non-zero (zero is xorshift's fixed point).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift64Star(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    /// A generator seeded from the process's random hash keys.
    pub(crate) fn from_entropy() -> XorShift64Star {
        XorShift64Star::new(RandomState::new().hash_one(0x5EED_u64))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A uniform float in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

thread_local! {
    static THREAD_RNG: Cell<Option<XorShift64Star>> = const { Cell::new(None) };
}

/// A uniform index in `0..n` from this thread's generator (`n > 0`).
pub(crate) fn index(n: usize) -> usize {
    debug_assert!(n > 0 && n <= u32::MAX as usize);
    THREAD_RNG.with(|cell| {
        let mut rng = cell.take().unwrap_or_else(XorShift64Star::from_entropy);
        // Multiply-shift maps 32 random bits onto 0..n without a division.
        let r = ((rng.next_u64() >> 32) * n as u64) >> 32;
        cell.set(Some(rng));
        r as usize
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_streams_repeat_and_differ() {
        let a: Vec<u64> = (0..4)
            .scan(XorShift64Star::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .scan(XorShift64Star::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..4)
            .scan(XorShift64Star::new(8), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut zero = XorShift64Star::new(0);
        assert_ne!(zero.next_u64(), 0);
    }

    #[test]
    fn floats_are_in_range_and_indices_cover_the_range() {
        let mut r = XorShift64Star::new(1);
        for _ in 0..10_000 {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
        let mut hits = [0usize; 5];
        for _ in 0..5_000 {
            hits[index(5)] += 1;
        }
        // Each bucket expects 1000; 700 is more than 9 standard deviations off.
        assert!(hits.iter().all(|&h| h > 700), "{hits:?}");
    }
}
