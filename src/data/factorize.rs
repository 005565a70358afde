//! Dense codes for integer customer ids, in sorted id order: what
//! `pandas.factorize(ids, sort=True)` returns, without its cost on large logs.
//!
//! The summaries of [`crate::summary`] group transactions by a dense customer
//! code `0..n_customers`. Transaction logs usually carry integer ids; for them
//! [`factorize_sorted`] takes one of two routes:
//!
//! * **dense ids** (the range `max − min + 1` is at most a few times the
//!   number of transactions, as with ids numbered from 0 or 1): a table with one
//!   slot per possible id marks the ids present (in parallel), a prefix sum over
//!   the table gives each present id its rank, and a parallel pass reads each
//!   transaction's code from the table. Linear in the rows and the range, and no
//!   hashing.
//! * **sparse ids** (anything else, e.g. 64-bit hashes): one pass with a hash
//!   map gives codes in order of first appearance; the distinct ids are then
//!   sorted and the codes renumbered by rank, in parallel.
//!
//! Either way `uniques[codes[i]] == ids[i]` and `uniques` is strictly
//! increasing.
//!
//! ```
//! use retentionkit::data::factorize_sorted;
//!
//! let (codes, uniques) = factorize_sorted(&[30i64, 10, 30, 20, 10]);
//! assert_eq!(uniques, [10, 20, 30]);
//! assert_eq!(codes, [2, 0, 2, 1, 0]);
//! ```

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

/// Above this many table slots per transaction the ids count as sparse.
const DENSE_SLOTS_PER_ROW: u128 = 4;
/// Ranges up to this size always use the table (it is small whatever the log).
const DENSE_MIN_SLOTS: u128 = 1 << 16;

/// Codes (`0..uniques.len()`) and the distinct ids in increasing order; see the
/// [module docs](self).
pub fn factorize_sorted(ids: &[i64]) -> (Vec<u32>, Vec<i64>) {
    let Some((min, max)) = min_max(ids) else {
        return (Vec::new(), Vec::new());
    };
    let range = (i128::from(max) - i128::from(min) + 1) as u128;
    let limit = DENSE_MIN_SLOTS.max(DENSE_SLOTS_PER_ROW * ids.len() as u128);
    if range <= limit && range <= u32::MAX as u128 {
        dense(ids, min, range as usize)
    } else {
        sparse(ids)
    }
}

fn min_max(ids: &[i64]) -> Option<(i64, i64)> {
    ids.par_chunks(1 << 16)
        .map(|chunk| {
            chunk
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)))
        })
        .reduce_with(|a, b| (a.0.min(b.0), a.1.max(b.1)))
}

fn dense(ids: &[i64], min: i64, range: usize) -> (Vec<u32>, Vec<i64>) {
    let offset = |v: i64| (i128::from(v) - i128::from(min)) as usize;
    let present: Vec<AtomicBool> = (0..range).map(|_| AtomicBool::new(false)).collect();
    ids.par_chunks(1 << 14).for_each(|chunk| {
        for &v in chunk {
            present[offset(v)].store(true, Ordering::Relaxed);
        }
    });
    let mut rank = vec![0u32; range];
    let mut uniques = Vec::new();
    for (slot, seen) in present.into_iter().enumerate() {
        if seen.into_inner() {
            rank[slot] = uniques.len() as u32;
            uniques.push((i128::from(min) + slot as i128) as i64);
        }
    }
    let codes = ids.par_iter().map(|&v| rank[offset(v)]).collect();
    (codes, uniques)
}

fn sparse(ids: &[i64]) -> (Vec<u32>, Vec<i64>) {
    let mut first_seen: HashMap<i64, u32, BuildHasherDefault<MixHasher>> = HashMap::default();
    let mut uniques: Vec<i64> = Vec::new();
    let mut codes: Vec<u32> = ids
        .iter()
        .map(|&v| {
            *first_seen.entry(v).or_insert_with(|| {
                uniques.push(v);
                (uniques.len() - 1) as u32
            })
        })
        .collect();
    // Renumber: order[k] is the appearance code of the k-th smallest id.
    let mut order: Vec<u32> = (0..uniques.len() as u32).collect();
    order.par_sort_unstable_by_key(|&c| uniques[c as usize]);
    let mut rank = vec![0u32; uniques.len()];
    for (k, &c) in order.iter().enumerate() {
        rank[c as usize] = k as u32;
    }
    codes.par_iter_mut().for_each(|c| *c = rank[*c as usize]);
    let sorted = order.iter().map(|&c| uniques[c as usize]).collect();
    (codes, sorted)
}

/// A fast hasher for one `i64` key (SplitMix64's finaliser); not for
/// untrusted keys where hash flooding matters, which ids in a log are not.
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8)) ^ u64::from(b);
        }
    }

    fn write_i64(&mut self, v: i64) {
        self.0 = v as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ids: &[i64]) {
        let (codes, uniques) = factorize_sorted(ids);
        assert!(
            uniques.windows(2).all(|w| w[0] < w[1]),
            "uniques not increasing"
        );
        assert_eq!(codes.len(), ids.len());
        for (&c, &v) in codes.iter().zip(ids) {
            assert_eq!(uniques[c as usize], v);
        }
        let mut expected = ids.to_vec();
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(uniques, expected);
    }

    #[test]
    fn dense_and_sparse_agree_with_sorting() {
        check(&[]);
        check(&[5]);
        check(&[3, -2, 3, 7, -2, 0]);
        check(&[i64::MIN, i64::MAX, 0, i64::MAX, -1]); // sparse: range overflows u32
        let sparse: Vec<i64> = (0..10_000i64)
            .map(|i| (i % 997).wrapping_mul(0x5851_f42d_4c95_7f2d))
            .collect();
        check(&sparse);
        let dense: Vec<i64> = (0..100_000i64)
            .map(|i| (i * 7919) % 3_001 + 1_000)
            .collect();
        check(&dense);
    }

    #[test]
    fn both_routes_give_the_same_codes() {
        let ids: Vec<i64> = (0..50_000i64).map(|i| (i * 31) % 4_999 - 2_000).collect();
        let min = *ids.iter().min().unwrap();
        let max = *ids.iter().max().unwrap();
        let a = dense(&ids, min, (max - min + 1) as usize);
        let b = sparse(&ids);
        assert_eq!(a, b);
    }
}
