//! Compression of customers with covariates ([`CovariateData::compress`]):
//! customers with the same history and the same covariates become one
//! weighted row, in an order sorted on the history.
//!
//! The rows are found by one parallel sort of small inline keys, then
//! [`Runs`] marks where each group of equal neighbours begins and fills the
//! compressed columns chunk by chunk in parallel, each chunk writing its own
//! part of the output.

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;

use super::{CovariateData, CovariateDesign};

/// History numbers kept inline in the sort key of [`CovariateData::compress`]
/// (the most any history has: x, t_x, T).
pub(crate) const KEY_HISTORY: usize = 3;
// The sort packs the inline key (history and hash) into two u128s.
const _: () = assert!(KEY_HISTORY + 1 == 4);

/// The bits that order and compare a number: `+ 0.0` maps −0.0 to 0.0, so
/// that equal numbers have equal keys.
pub(crate) fn key(v: f64) -> u64 {
    (v + 0.0).to_bits()
}

impl<D> CovariateData<D> {
    /// Groups validated customers (`history` the columns of their histories,
    /// at most [`KEY_HISTORY`]) with equal history and covariates into one
    /// row with their summed weight, leaving out customers of weight 0 and
    /// customers without information. Rows are sorted on their history.
    pub(crate) fn compress(
        history: &[&[f64]],
        weights: Option<&[f64]>,
        covariates: &[f64],
        design: CovariateDesign,
        plain: D,
        informative: impl Fn(&[f64]) -> bool + Sync,
    ) -> Self {
        let width = history.len();
        assert!(
            (1..=KEY_HISTORY).contains(&width),
            "a history of {width} numbers"
        );
        let k = design.columns.len();
        let n = history[0].len();
        let weight_of = |i: usize| weights.map_or(1.0, |w| w[i]);
        let row_of = |i: usize| &covariates[i * k..(i + 1) * k];
        // Customers sort on their history and a hash of their covariates,
        // kept inline with the customer's index in 32 bytes (the index in
        // the low bits, the hash above), so that the sort moves small
        // elements and compares without indirection. Customers with equal
        // covariates have equal hashes, so they are neighbours, in the order
        // of their index; neighbours are merged only when their covariates
        // are equal. (Two rows of one history whose different covariates
        // share the hash's 64 − log₂ n bits could interleave and leave a
        // row of equal customers in two pieces: the log-likelihood is the
        // same, the rows one more.) Customers left out get the largest key
        // (no finite number's bits), so that they sort last and are cut off:
        // an indexed collect writes the keys in place, where a filtered one
        // gathers pieces and copies them.
        const LEFT_OUT: [u64; KEY_HISTORY + 1] = [u64::MAX; KEY_HISTORY + 1];
        let index_bits = (u64::BITS - (n as u64).leading_zeros()).max(1);
        assert!(index_bits <= 48, "{n} customers");
        let index_mask = (1u64 << index_bits) - 1;
        let index = |e: &[u64; KEY_HISTORY + 1]| (e[KEY_HISTORY] & index_mask) as usize;
        let mut keyed: Vec<[u64; KEY_HISTORY + 1]> = Vec::with_capacity(n);
        (0..n)
            .into_par_iter()
            .map(|i| {
                let mut h = [0.0; KEY_HISTORY];
                for (slot, column) in h.iter_mut().zip(history) {
                    *slot = column[i];
                }
                if !(weight_of(i) > 0.0 && informative(&h[..width])) {
                    return LEFT_OUT;
                }
                let mut inline = [0u64; KEY_HISTORY + 1];
                for (slot, &v) in inline.iter_mut().zip(&h[..width]) {
                    *slot = key(v);
                }
                let hash = hash_row(row_of(i).iter().map(|&v| key(v)));
                inline[KEY_HISTORY] = (hash & !index_mask) | i as u64;
                inline
            })
            .collect_into_vec(&mut keyed);
        // The keys compared as two 128-bit numbers: the same order as the
        // arrays' lexicographic one, without a loop per comparison.
        let packed = |a: &[u64; KEY_HISTORY + 1]| {
            (
                (u128::from(a[0]) << 64) | u128::from(a[1]),
                (u128::from(a[2]) << 64) | u128::from(a[3]),
            )
        };
        keyed.par_sort_unstable_by(|a, b| packed(a).cmp(&packed(b)));
        let kept = keyed.partition_point(|inline| *inline != LEFT_OUT);
        keyed.truncate(kept);
        // A history fits inline, so equal keys above the index mean equal
        // histories; the covariates are compared only where the hashes tie
        // too.
        let runs = Runs::new(keyed.len(), |s| {
            s == 0 || {
                let (a, b) = (&keyed[s - 1], &keyed[s]);
                let same_hash = (a[KEY_HISTORY] ^ b[KEY_HISTORY]) & !index_mask == 0;
                !(a[..KEY_HISTORY] == b[..KEY_HISTORY]
                    && same_hash
                    && row_of(index(a))
                        .iter()
                        .map(|&v| key(v))
                        .eq(row_of(index(b)).iter().map(|&v| key(v))))
            }
        });
        let rows = runs.count();
        let mut data = Self {
            history: vec![0.0; rows * width],
            width,
            weight: vec![0.0; rows],
            covariates: vec![0.0; rows * k],
            design: Arc::new(design),
            total_weight: 0.0,
            plain,
        };
        // The history from the keys (their bits are the numbers'), read in
        // order; the customers' weights summed in sorted order, as one pass
        // would; the covariates of each row's first customer, read at random
        // places.
        runs.fill(&mut data.history, width, |h, group| {
            for (slot, &bits) in h.iter_mut().zip(&keyed[group.start]) {
                *slot = f64::from_bits(bits);
            }
        });
        runs.fill(&mut data.weight, 1, |w, group| {
            w[0] = match weights {
                Some(_) => keyed[group].iter().map(|e| weight_of(index(e))).sum(),
                None => group.len() as f64,
            };
        });
        runs.fill(&mut data.covariates, k, |z, group| {
            z.copy_from_slice(row_of(index(&keyed[group.start])));
        });
        data.total_weight = match weights {
            // Customer by customer in sorted order (rounding as before).
            Some(_) => keyed.iter().map(|e| weight_of(index(e))).sum(),
            None => keyed.len() as f64,
        };
        data
    }
}

/// A 64-bit hash of a row's covariate keys (splitmix64's finaliser over a
/// multiply-rotate chain): rows with equal covariates have equal hashes.
pub(crate) fn hash_row(keys: impl Iterator<Item = u64>) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for k in keys {
        h = (h ^ k).wrapping_mul(0xBF58_476D_1CE4_E5B9).rotate_left(29);
    }
    h ^= h >> 31;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 29)
}

/// Positions per chunk of [`Runs`] (a multiple of 64).
const RUN_CHUNK: usize = 1 << 14;

/// The runs of a sorted sequence of `len` positions: maximal ranges that
/// begin where `is_start` holds and continue over the positions after it
/// where it does not. Found in parallel chunks, as a bit per position, with
/// the number of runs beginning before each chunk, so that the runs' outputs
/// are written in parallel too ([`Runs::fill`]).
pub(crate) struct Runs {
    len: usize,
    /// Bit s % 64 of word s / 64: whether a run begins at s.
    starts: Vec<u64>,
    /// `before[c]`: the runs beginning before chunk c (and the total last).
    before: Vec<usize>,
}

impl Runs {
    /// The runs of positions 0..len; `is_start(0)` should hold when `len` > 0.
    pub(crate) fn new(len: usize, is_start: impl Fn(usize) -> bool + Sync) -> Self {
        let mut starts = vec![0u64; len.div_ceil(64)];
        let counts: Vec<usize> = starts
            .par_chunks_mut(RUN_CHUNK / 64)
            .enumerate()
            .map(|(c, words)| {
                let mut count = 0;
                for (w, word) in words.iter_mut().enumerate() {
                    let first = c * RUN_CHUNK + 64 * w;
                    for bit in 0..(len - first).min(64) {
                        if is_start(first + bit) {
                            *word |= 1 << bit;
                        }
                    }
                    count += word.count_ones() as usize;
                }
                count
            })
            .collect();
        let mut before = Vec::with_capacity(counts.len() + 1);
        let mut total = 0;
        before.push(0);
        for c in counts {
            total += c;
            before.push(total);
        }
        Runs {
            len,
            starts,
            before,
        }
    }

    /// The number of runs.
    pub(crate) fn count(&self) -> usize {
        *self.before.last().expect("never empty")
    }

    /// The first run start at or after `from` (`len` if none).
    fn next_start(&self, from: usize) -> usize {
        let mut word = from / 64;
        if word >= self.starts.len() {
            return self.len;
        }
        let mut bits = self.starts[word] & (u64::MAX << (from % 64));
        loop {
            if bits != 0 {
                return (64 * word + bits.trailing_zeros() as usize).min(self.len);
            }
            word += 1;
            match self.starts.get(word) {
                Some(&b) => bits = b,
                None => return self.len,
            }
        }
    }

    /// Calls `fill(slot, run)` for each run, in parallel: `slot` is the run's
    /// `per_run` entries of `out` (run r at r·per_run, which holds
    /// [`Self::count`] runs of them) and `run` its positions.
    pub(crate) fn fill<T: Send>(
        &self,
        out: &mut [T],
        per_run: usize,
        fill: impl Fn(&mut [T], Range<usize>) + Sync,
    ) {
        if per_run == 0 {
            return;
        }
        assert_eq!(out.len(), self.count() * per_run, "one slot per run");
        let mut pieces = Vec::with_capacity(self.before.len() - 1);
        let mut rest = out;
        for pair in self.before.windows(2) {
            let (piece, tail) = rest.split_at_mut((pair[1] - pair[0]) * per_run);
            pieces.push(piece);
            rest = tail;
        }
        pieces.into_par_iter().enumerate().for_each(|(c, piece)| {
            let end = ((c + 1) * RUN_CHUNK).min(self.len);
            let mut start = self.next_start(c * RUN_CHUNK);
            for slot in piece.chunks_exact_mut(per_run) {
                let next = self.next_start(start + 1);
                fill(slot, start..next);
                start = next;
            }
            debug_assert!(start >= end);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs of equal neighbours against a sequential scan, for lengths
    /// around the chunk and word boundaries and runs crossing them.
    #[test]
    fn runs_are_those_of_a_sequential_scan() {
        for len in [
            0,
            1,
            63,
            64,
            65,
            RUN_CHUNK - 1,
            RUN_CHUNK,
            3 * RUN_CHUNK + 7,
        ] {
            for run in [1, 3, 64, 1000, RUN_CHUNK + 5] {
                let values: Vec<usize> = (0..len).map(|i| (i / run) * 7 % 5 + i / run).collect();
                let runs = Runs::new(len, |s| s == 0 || values[s] != values[s - 1]);
                let mut expected = Vec::new();
                for s in 0..len {
                    if s == 0 || values[s] != values[s - 1] {
                        expected.push((s, s + 1));
                    } else {
                        expected.last_mut().unwrap().1 = s + 1;
                    }
                }
                assert_eq!(runs.count(), expected.len(), "len {len}, run {run}");
                let mut got = vec![(usize::MAX, 0); 2 * runs.count()];
                runs.fill(&mut got, 2, |slot, range| {
                    slot[0] = (range.start, range.end);
                    slot[1] = (values[range.start], range.len());
                });
                for (r, &(s, e)) in expected.iter().enumerate() {
                    assert_eq!(got[2 * r], (s, e), "len {len}, run {run}, row {r}");
                    assert_eq!(got[2 * r + 1], (values[s], e - s));
                }
            }
        }
    }
}
