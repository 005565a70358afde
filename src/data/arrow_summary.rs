//! The transaction summary of an Arrow log (a record-batch stream from polars
//! or pyarrow, read by [`super::arrow_c`]): the customer ids factorised, the
//! datetimes turned into pandas period ordinals, then [`summarize`] as for the
//! pandas route. Every step mirrors what `retentionkit.utils` does with pandas,
//! so both routes give the same summary to the last bit:
//!
//! * **ids**: integers (any width, signed or not) in increasing order; strings
//!   (utf8, large utf8, utf8 view, binary) in increasing byte order, which for
//!   UTF-8 is the code-point order Python sorts `str` by; dictionary-encoded
//!   strings (pandas `Categorical`, polars `Categorical`/`Enum`) in the order of
//!   their dictionary, batch after batch, as pandas orders categories (it
//!   factorises categoricals by category code). Only ids with a transaction get
//!   a code. Each customer also gets the row of its first transaction, from
//!   which the caller takes the id in its own type.
//! * **times**: timestamps (s, ms, µs, ns) and dates (date32, date64), naive, in
//!   UTC or at a fixed offset (`+05:30`), as wall-clock times of their zone, are
//!   floored to pandas' periods: seconds, minutes, hours, days since 1970-01-01;
//!   weeks ending on Sunday (ordinal 1 is the week ending Sunday 1970-01-04);
//!   calendar months, quarters and years since 1970 (`Period.ordinal`). Named
//!   time zones (whose offsets need the tz database) are
//!   [`ArrowError::Unsupported`]: the caller takes the pandas route for them.
//! * **amounts**: floats and integers as float64.
//!
//! A null id, time or amount is an [`Error::InvalidData`] naming the first such
//! row (ids first, then times, then amounts, as the pandas route checks them).

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::arrow_c::{column_chunks, Array, ArrowError, Chunk};
use super::factorize_sorted;
use super::transaction_summary::{
    summarize, summarize_with_litt, SummaryOptions, TransactionSummary,
};
use crate::error::Error;

/// A pandas period frequency the Arrow route computes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodUnit {
    /// `"s"`
    Second,
    /// `"min"`
    Minute,
    /// `"h"`
    Hour,
    /// `"D"`
    Day,
    /// `"W"` (`W-SUN`: weeks ending on Sunday)
    Week,
    /// `"M"`
    Month,
    /// `"Q"` (`Q-DEC`)
    Quarter,
    /// `"Y"` (`Y-DEC`)
    Year,
}

impl PeriodUnit {
    /// The unit of a pandas period dtype name (`"period[W-SUN]"` or `"W-SUN"`),
    /// `None` for one the Arrow route does not compute.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name
            .strip_prefix("period[")
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        Some(match name {
            "s" => PeriodUnit::Second,
            "min" => PeriodUnit::Minute,
            "h" => PeriodUnit::Hour,
            "D" => PeriodUnit::Day,
            "W-SUN" => PeriodUnit::Week,
            "M" => PeriodUnit::Month,
            "Q-DEC" => PeriodUnit::Quarter,
            "Y-DEC" => PeriodUnit::Year,
            _ => return None,
        })
    }

    /// The period ordinal of a wall-clock time, `value` in units of
    /// 1/`per_second` second since 1970-01-01 00:00.
    #[inline]
    pub fn ordinal(self, value: i64, per_second: i64) -> i64 {
        let day = || value.div_euclid(86_400 * per_second);
        match self {
            PeriodUnit::Second => value.div_euclid(per_second),
            PeriodUnit::Minute => value.div_euclid(60 * per_second),
            PeriodUnit::Hour => value.div_euclid(3600 * per_second),
            PeriodUnit::Day => day(),
            PeriodUnit::Week => (day() + 3).div_euclid(7) + 1,
            PeriodUnit::Month => {
                let (y, m) = year_month(day());
                (y - 1970) * 12 + (m - 1)
            }
            PeriodUnit::Quarter => {
                let (y, m) = year_month(day());
                (y - 1970) * 4 + (m - 1) / 3
            }
            PeriodUnit::Year => year_month(day()).0 - 1970,
        }
    }
}

/// The (proleptic Gregorian) year and month (1–12) of a day counted from
/// 1970-01-01 (H. Hinnant's `civil_from_days`).
fn year_month(days: i64) -> (i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m)
}

/// Options of [`summarize_batches`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArrowSummaryOptions {
    /// The period of the datetimes.
    pub period: PeriodUnit,
    /// The period ordinal of the observation end; `None`: the latest
    /// transaction's period.
    pub observation_end: Option<i64>,
    /// Recency and T are divided by this.
    pub freq_multiplier: f64,
    /// Count the first purchase in frequency and monetary value.
    pub include_first_transaction: bool,
    /// Also compute `litt` ([`summarize_with_litt`]).
    pub litt: bool,
}

/// The summary, and for each of its rows the (zero-based, counted over the
/// whole stream) row of the customer's first transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrowSummary {
    /// The first row of each summary row's customer.
    pub first_row: Vec<u64>,
    /// As [`summarize`] returns it (customers in id order).
    pub summary: TransactionSummary,
}

/// What [`summarize_batches`] can fail with.
#[derive(Debug)]
pub enum ArrowSummaryError {
    /// A column type it does not read, or broken Arrow data.
    Arrow(ArrowError),
    /// Bad rows (null id, time or amount; a transaction after the end; a
    /// negative amount) and the other errors of [`summarize`].
    Data(Error),
}

impl From<ArrowError> for ArrowSummaryError {
    fn from(e: ArrowError) -> Self {
        ArrowSummaryError::Arrow(e)
    }
}

impl From<Error> for ArrowSummaryError {
    fn from(e: Error) -> Self {
        ArrowSummaryError::Data(e)
    }
}

type Result<T> = std::result::Result<T, ArrowSummaryError>;

/// Summarises a log given as record batches (struct arrays), reading columns
/// `ids`, `times` and `amounts` (by position).
pub fn summarize_batches(
    batches: &[Array<'_>],
    ids: usize,
    times: usize,
    amounts: Option<usize>,
    options: &ArrowSummaryOptions,
) -> Result<ArrowSummary> {
    let id_chunks = column_chunks(batches, ids)?;
    let time_chunks = column_chunks(batches, times)?;
    let amount_chunks = amounts.map(|a| column_chunks(batches, a)).transpose()?;
    // Types first: an unsupported column sends the caller to the pandas route
    // before any row is judged.
    let id_kind = IdKind::of(&id_chunks)?;
    let time_kind = TimeKind::of(&time_chunks)?;
    if let Some(chunks) = &amount_chunks {
        for c in chunks {
            amount_format(c.array.format())?;
        }
    }
    let n: usize = id_chunks.iter().map(|c| c.len).sum();
    if n == 0 {
        return Err(Error::Empty.into());
    }
    first_null(&id_chunks, "the customer id is missing", "customers")?;
    first_null(&time_chunks, "the datetime is missing", "times")?;
    if let Some(chunks) = &amount_chunks {
        first_null(chunks, "the value is missing", "amounts")?;
    }
    crate::interrupt::check()?;
    let (codes, first) = match id_kind {
        IdKind::Integer => factorize_integers(&id_chunks, n),
        IdKind::Bytes => factorize_bytes(&id_chunks, n)?,
        IdKind::Dictionary => factorize_dictionary(&id_chunks, n)?,
    };
    crate::interrupt::check()?;
    let ordinals = period_ordinals(&time_chunks, time_kind, options.period, n)?;
    let amounts = amount_chunks.map(|c| float_values(&c, n));
    crate::interrupt::check()?;
    let end = match options.observation_end {
        Some(end) => end,
        None => ordinals.par_iter().copied().max().unwrap_or(0),
    };
    let summary_options = SummaryOptions {
        observation_end: end,
        period: 1,
        freq_multiplier: options.freq_multiplier,
        include_first_transaction: options.include_first_transaction,
    };
    let summary = if options.litt {
        summarize_with_litt(&codes, &ordinals, amounts.as_deref(), &summary_options)?
    } else {
        summarize(&codes, &ordinals, amounts.as_deref(), &summary_options)?
    };
    let first_row = summary.customer.iter().map(|&c| first[c]).collect();
    Ok(ArrowSummary { first_row, summary })
}

/// The first null row over the chunks, as an error.
fn first_null(chunks: &[Chunk<'_>], rule: &'static str, column: &'static str) -> Result<()> {
    let mut base = 0;
    for c in chunks {
        if c.array.may_have_nulls() {
            if let Some(j) = (0..c.len).find(|&j| !c.array.is_valid(c.start + j)) {
                return Err(Error::InvalidData {
                    rule,
                    row: base + j,
                    detail: "null".into(),
                    column: Some(column),
                    cohort: None,
                    period: None,
                }
                .into());
            }
        }
        base += c.len;
    }
    Ok(())
}

fn unsupported<T>(what: String) -> Result<T> {
    Err(ArrowError::Unsupported(what).into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdKind {
    Integer,
    Bytes,
    Dictionary,
}

fn is_integer(format: &str) -> bool {
    matches!(format, "c" | "C" | "s" | "S" | "i" | "I" | "l" | "L")
}

fn is_bytes(format: &str) -> bool {
    matches!(format, "u" | "U" | "vu" | "z" | "Z" | "vz")
}

impl IdKind {
    fn of(chunks: &[Chunk<'_>]) -> Result<Self> {
        let mut kind = None;
        for c in chunks {
            let k = match c.array.dictionary()? {
                Some(d) if is_bytes(d.format()) => IdKind::Dictionary,
                Some(d) => {
                    return unsupported(format!("ids encoded with a dictionary of {}", d.format()))
                }
                None if is_integer(c.array.format()) => IdKind::Integer,
                None if is_bytes(c.array.format()) => IdKind::Bytes,
                None => return unsupported(format!("ids of Arrow type {}", c.array.format())),
            };
            if kind.is_some_and(|kind| kind != k) {
                return unsupported("ids of different types in different batches".into());
            }
            kind = Some(k);
        }
        Ok(kind.unwrap_or(IdKind::Integer))
    }
}

/// Fills `out` with `f` of the chunk's values, in parallel: from a slice of the
/// buffer when it is aligned, else value by value.
///
/// # Safety
///
/// `S` must be the type of the chunk's format; `out.len() == c.len`.
unsafe fn convert<S: Copy + Send + Sync, T: Send>(
    c: &Chunk<'_>,
    out: &mut [T],
    f: impl Fn(S) -> T + Sync + Send,
) {
    match unsafe { c.array.typed::<S>(c.start, c.len) } {
        Some(values) => out
            .par_iter_mut()
            .zip(values.par_iter())
            .with_min_len(1 << 14)
            .for_each(|(o, &v)| *o = f(v)),
        None => out
            .par_iter_mut()
            .enumerate()
            .with_min_len(1 << 14)
            // SAFETY: the caller's promise.
            .for_each(|(j, o)| *o = f(unsafe { c.array.value::<S>(c.start + j) })),
    }
}

/// Integer ids as i64, in an order-preserving way (uint64 shifted by 2^63).
fn integers_into(c: &Chunk<'_>, out: &mut [i64]) {
    // SAFETY: each arm reads the type its format names (checked by IdKind::of).
    unsafe {
        match c.array.format() {
            "c" => convert(c, out, |v: i8| i64::from(v)),
            "C" => convert(c, out, |v: u8| i64::from(v)),
            "s" => convert(c, out, |v: i16| i64::from(v)),
            "S" => convert(c, out, |v: u16| i64::from(v)),
            "i" => convert(c, out, |v: i32| i64::from(v)),
            "I" => convert(c, out, |v: u32| i64::from(v)),
            "l" => convert(c, out, |v: i64| v),
            "L" => convert(c, out, |v: u64| (v ^ (1 << 63)) as i64),
            _ => unreachable!("checked by IdKind::of"),
        }
    }
}

/// Splits `out` (one slot per row of the stream) into the chunks' parts.
fn by_chunk<'o, 'c, T>(
    chunks: &'c [Chunk<'c>],
    out: &'o mut [T],
) -> Vec<(&'c Chunk<'c>, &'o mut [T])> {
    let mut parts = Vec::with_capacity(chunks.len());
    let mut rest = out;
    for c in chunks {
        let (head, tail) = rest.split_at_mut(c.len);
        parts.push((c, head));
        rest = tail;
    }
    parts
}

/// The row of each code's first transaction.
fn first_rows(codes: &[u32], n_codes: usize) -> Vec<u64> {
    const BLOCK: usize = 1 << 16;
    let first: Vec<AtomicU64> = (0..n_codes).map(|_| AtomicU64::new(u64::MAX)).collect();
    codes.par_chunks(BLOCK).enumerate().for_each(|(k, block)| {
        let base = (k * BLOCK) as u64;
        for (j, &c) in block.iter().enumerate() {
            let row = base + j as u64;
            let slot = &first[c as usize];
            if slot.load(Ordering::Relaxed) > row {
                slot.fetch_min(row, Ordering::Relaxed);
            }
        }
    });
    first.into_iter().map(AtomicU64::into_inner).collect()
}

fn factorize_integers(chunks: &[Chunk<'_>], n: usize) -> (Vec<u32>, Vec<u64>) {
    // One chunk of aligned int64 ids: factorised in place, without a copy.
    let borrowed = match chunks {
        // SAFETY: the format is int64.
        [c] if c.array.format() == "l" => unsafe { c.array.typed::<i64>(c.start, c.len) },
        _ => None,
    };
    let (codes, uniques) = match borrowed {
        Some(values) => factorize_sorted(values),
        None => {
            let mut values = vec![0i64; n];
            for (c, out) in by_chunk(chunks, &mut values) {
                integers_into(c, out);
            }
            factorize_sorted(&values)
        }
    };
    let first = first_rows(&codes, uniques.len());
    (codes, first)
}

/// FNV-1a over 8-byte words: a fast hasher for id strings (not for untrusted
/// keys where hash flooding matters, which ids in a log are not).
#[derive(Default)]
struct BytesHasher(u64);

impl Hasher for BytesHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0 ^ 0xcbf2_9ce4_8422_2325;
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let v = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            h = (h ^ v).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
        }
        for &b in words.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

type BytesMap<'a> = HashMap<&'a [u8], u32, BuildHasherDefault<BytesHasher>>;

/// Renumbers first-appearance codes by the rank of their key.
fn sort_codes(codes: &mut [u32], first: &mut Vec<u64>, uniques: &[&[u8]]) {
    let mut order: Vec<u32> = (0..uniques.len() as u32).collect();
    order.par_sort_unstable_by_key(|&c| uniques[c as usize]);
    let mut rank = vec![0u32; uniques.len()];
    for (k, &c) in order.iter().enumerate() {
        rank[c as usize] = k as u32;
    }
    codes.par_iter_mut().for_each(|c| *c = rank[*c as usize]);
    *first = order.iter().map(|&c| first[c as usize]).collect();
}

fn factorize_bytes(chunks: &[Chunk<'_>], n: usize) -> Result<(Vec<u32>, Vec<u64>)> {
    let mut map = BytesMap::default();
    let mut uniques: Vec<&[u8]> = Vec::new();
    let mut first: Vec<u64> = Vec::new();
    let mut codes = Vec::with_capacity(n);
    let mut row = 0u64;
    for c in chunks {
        for j in 0..c.len {
            let key = c.array.bytes(c.start + j)?;
            let code = *map.entry(key).or_insert_with(|| {
                uniques.push(key);
                first.push(row);
                (uniques.len() - 1) as u32
            });
            codes.push(code);
            row += 1;
        }
    }
    sort_codes(&mut codes, &mut first, &uniques);
    Ok((codes, first))
}

/// The code of a null dictionary value.
const NULL_ID: u32 = u32::MAX;

/// Dictionary-encoded ids: each distinct dictionary value gets a code in the
/// order the dictionaries list them (batch after batch, new values only), then
/// the codes that rows use are renumbered densely in that order.
fn factorize_dictionary(chunks: &[Chunk<'_>], n: usize) -> Result<(Vec<u32>, Vec<u64>)> {
    let mut map = BytesMap::default();
    let mut codes = Vec::with_capacity(n);
    for c in chunks {
        let dictionary = c.array.dictionary()?.expect("checked by IdKind::of");
        let mut local = Vec::with_capacity(dictionary.len());
        for k in 0..dictionary.len() {
            if !dictionary.is_valid(k) {
                local.push(NULL_ID); // a null category: rows using it have no id
                continue;
            }
            let next = map.len() as u32;
            local.push(*map.entry(dictionary.bytes(k)?).or_insert(next));
        }
        for j in 0..c.len {
            let key = c.array.key(c.start + j)?;
            let Some(&code) = local.get(key) else {
                return Err(
                    ArrowError::Invalid("a dictionary key past the dictionary".into()).into(),
                );
            };
            if code == NULL_ID {
                return Err(Error::InvalidData {
                    rule: "the customer id is missing",
                    row: codes.len(),
                    detail: "null".into(),
                    column: Some("customers"),
                    cohort: None,
                    period: None,
                }
                .into());
            }
            codes.push(code);
        }
    }
    let mut rank = vec![u32::MAX; map.len()];
    for &c in &codes {
        rank[c as usize] = 0;
    }
    let mut used = 0u32;
    for r in rank.iter_mut().filter(|r| **r == 0) {
        *r = used;
        used += 1;
    }
    codes.par_iter_mut().for_each(|c| *c = rank[*c as usize]);
    let first = first_rows(&codes, used as usize);
    Ok((codes, first))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TimeKind {
    /// Units per second of the raw values (dates are turned into seconds).
    per_second: i64,
}

/// The units per second and the time zone offset (seconds) of a time format.
fn time_format(format: &str) -> Result<(i64, i64)> {
    let (per_second, tz) = match format {
        "tdD" => return Ok((1, 0)),
        "tdm" => return Ok((1000, 0)),
        f if f.len() >= 4 && f.starts_with("ts") && &f[3..4] == ":" => {
            let per_second = match &f[2..3] {
                "s" => 1,
                "m" => 1000,
                "u" => 1_000_000,
                "n" => 1_000_000_000,
                _ => return unsupported(format!("datetimes of Arrow type {f}")),
            };
            (per_second, &f[4..])
        }
        f => return unsupported(format!("datetimes of Arrow type {f}")),
    };
    match fixed_offset(tz) {
        Some(offset) => Ok((per_second, offset)),
        None => unsupported(format!(
            "datetimes in the time zone {tz} (only UTC and fixed offsets are read without pandas)"
        )),
    }
}

/// The offset in seconds of a naive (`""`), UTC or `±HH:MM` time zone.
pub fn fixed_offset(tz: &str) -> Option<i64> {
    match tz {
        "" | "UTC" | "Etc/UTC" | "utc" | "Z" => return Some(0),
        _ => {}
    }
    let b = tz.as_bytes();
    if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
        return None;
    }
    let digits = |s: &str| {
        s.parse::<i64>()
            .ok()
            .filter(|_| s.bytes().all(|c| c.is_ascii_digit()))
    };
    let hours = digits(&tz[1..3])?;
    let minutes = digits(&tz[4..6])?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let offset = hours * 3600 + minutes * 60;
    Some(if b[0] == b'-' { -offset } else { offset })
}

impl TimeKind {
    fn of(chunks: &[Chunk<'_>]) -> Result<Self> {
        let mut kind: Option<(i64, i64)> = None;
        for c in chunks {
            if c.array.dictionary()?.is_some() {
                return unsupported("dictionary-encoded datetimes".into());
            }
            let k = time_format(c.array.format())?;
            if kind.is_some_and(|kind| kind != k) {
                return unsupported("datetimes of different types in different batches".into());
            }
            kind = Some(k);
        }
        Ok(TimeKind {
            per_second: kind.map_or(1, |k| k.0),
        })
    }
}

fn period_ordinals(
    chunks: &[Chunk<'_>],
    kind: TimeKind,
    unit: PeriodUnit,
    n: usize,
) -> Result<Vec<i64>> {
    let mut out = vec![0i64; n];
    let mut base = 0usize;
    for (c, head) in by_chunk(chunks, &mut out) {
        let format = c.array.format();
        let (per_second, offset) = time_format(format)?;
        debug_assert_eq!(per_second, kind.per_second);
        let shift = offset * per_second;
        if format == "tdD" {
            // Days (i32) in seconds: no overflow.
            // SAFETY: date32 values are i32.
            unsafe {
                convert(c, head, |v: i32| {
                    unit.ordinal(i64::from(v) * 86_400 + shift, 1)
                });
            }
        } else {
            if shift != 0 {
                // A time whose wall clock leaves the i64 range (only within a day of
                // the ends of the range): refused with its row.
                let overflow = (0..c.len).into_par_iter().find_first(|&j| {
                    // SAFETY: timestamps and date64 values are i64.
                    unsafe { c.array.value::<i64>(c.start + j) }
                        .checked_add(shift)
                        .is_none()
                });
                if let Some(j) = overflow {
                    return Err(Error::InvalidData {
                        rule: "the datetime is out of range",
                        row: base + j,
                        detail: String::new(),
                        column: Some("times"),
                        cohort: None,
                        period: None,
                    }
                    .into());
                }
            }
            // SAFETY: timestamps and date64 values are i64.
            unsafe {
                convert(c, head, |v: i64| unit.ordinal(v + shift, per_second));
            }
        }
        base += c.len;
    }
    Ok(out)
}

fn amount_format(format: &str) -> Result<()> {
    if matches!(format, "f" | "g") || is_integer(format) {
        Ok(())
    } else {
        unsupported(format!("values of Arrow type {format}"))
    }
}

/// The values as f64: borrowed from one chunk of aligned float64 values, else
/// converted.
fn float_values<'a>(chunks: &[Chunk<'a>], n: usize) -> Cow<'a, [f64]> {
    if let [c] = chunks {
        if c.array.format() == "g" {
            // SAFETY: the format is float64.
            if let Some(values) = unsafe { c.array.typed::<f64>(c.start, c.len) } {
                return Cow::Borrowed(values);
            }
        }
    }
    let mut out = vec![0f64; n];
    for (c, head) in by_chunk(chunks, &mut out) {
        // SAFETY: each arm reads the type its format names (checked by amount_format).
        unsafe {
            match c.array.format() {
                "g" => convert(c, head, |v: f64| v),
                "f" => convert(c, head, |v: f32| f64::from(v)),
                "c" => convert(c, head, |v: i8| f64::from(v)),
                "C" => convert(c, head, |v: u8| f64::from(v)),
                "s" => convert(c, head, |v: i16| f64::from(v)),
                "S" => convert(c, head, |v: u16| f64::from(v)),
                "i" => convert(c, head, |v: i32| f64::from(v)),
                "I" => convert(c, head, |v: u32| f64::from(v)),
                "l" => convert(c, head, |v: i64| v as f64),
                "L" => convert(c, head, |v: u64| v as f64),
                _ => unreachable!("checked by amount_format"),
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::super::arrow_c::testing::*;
    use super::*;

    fn options(period: PeriodUnit) -> ArrowSummaryOptions {
        ArrowSummaryOptions {
            period,
            observation_end: None,
            freq_multiplier: 1.0,
            include_first_transaction: false,
            litt: false,
        }
    }

    #[test]
    fn calendar_ordinals_match_pandas() {
        // pandas: Timestamp("2024-02-29").to_period(f).ordinal
        let day = 19_782; // 2024-02-29
        let s = day * 86_400;
        assert_eq!(PeriodUnit::Day.ordinal(s, 1), 19_782);
        assert_eq!(PeriodUnit::Week.ordinal(s, 1), 2827);
        assert_eq!(PeriodUnit::Month.ordinal(s, 1), 649);
        assert_eq!(PeriodUnit::Quarter.ordinal(s, 1), 216);
        assert_eq!(PeriodUnit::Year.ordinal(s, 1), 54);
        assert_eq!(PeriodUnit::Hour.ordinal(s + 3600 * 5 + 1, 1), day * 24 + 5);
        // Before 1970: floors, not truncation (1969-12-31 23:00).
        assert_eq!(PeriodUnit::Day.ordinal(-3600, 1), -1);
        assert_eq!(PeriodUnit::Month.ordinal(-3600, 1), -1);
        assert_eq!(PeriodUnit::Year.ordinal(-3600, 1), -1);
        // 1970-01-04 (Sunday) ends week 1; Monday 1970-01-05 starts week 2.
        assert_eq!(PeriodUnit::Week.ordinal(3 * 86_400, 1), 1);
        assert_eq!(PeriodUnit::Week.ordinal(4 * 86_400, 1), 2);
    }

    #[test]
    fn year_month_round_trip_over_centuries() {
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(-1), (1969, 12));
        assert_eq!(year_month(11_016), (2000, 2)); // 2000-02-29
        assert_eq!(year_month(11_017), (2000, 3));
        // Months follow each other, day by day, from 1600 to 2380.
        let mut last = year_month(-135_000);
        for days in -135_000..150_000 {
            let next = year_month(days);
            if next != last {
                let expected = if last.1 == 12 {
                    (last.0 + 1, 1)
                } else {
                    (last.0, last.1 + 1)
                };
                assert_eq!(next, expected, "at day {days}");
                last = next;
            }
        }
    }

    #[test]
    fn fixed_offsets() {
        assert_eq!(fixed_offset(""), Some(0));
        assert_eq!(fixed_offset("+05:30"), Some(19_800));
        assert_eq!(fixed_offset("-08:00"), Some(-28_800));
        assert_eq!(fixed_offset("Europe/Paris"), None);
        assert_eq!(fixed_offset("+5:30"), None);
    }

    #[test]
    fn string_ids_sorted_and_first_rows() {
        let ids = utf8(&["b", "a", "b", "c"]);
        let days = primitive("tdD", &[0i32, 1, 3, 2], &[], 0);
        let batch = record_batch(vec![ids, days], 4);
        let s = summarize_batches(&[batch.view()], 0, 1, None, &options(PeriodUnit::Day)).unwrap();
        assert_eq!(s.first_row, [1, 0, 3]); // a, b, c
        assert_eq!(s.summary.frequency, [0.0, 1.0, 0.0]);
        assert_eq!(s.summary.recency, [0.0, 3.0, 0.0]);
        assert_eq!(s.summary.age, [2.0, 3.0, 1.0]);
    }

    #[test]
    fn dictionary_ids_in_dictionary_order_and_nulls_named() {
        let ids = dictionary(&[2, 0, 2], utf8(&["z", "unused", "a"]));
        let secs = primitive("tss:", &[0i64, 86_400, 2 * 86_400], &[], 0);
        let batch = record_batch(vec![ids, secs], 3);
        let s = summarize_batches(&[batch.view()], 0, 1, None, &options(PeriodUnit::Day)).unwrap();
        assert_eq!(s.first_row, [1, 0]); // "z" (code 0) before "a" (code 2)
        let ids = primitive("l", &[1i64, 2, 3], &[1], 0);
        let secs = primitive("tss:", &[0i64, 1, 2], &[], 0);
        let batch = record_batch(vec![ids, secs], 3);
        match summarize_batches(&[batch.view()], 0, 1, None, &options(PeriodUnit::Day)) {
            Err(ArrowSummaryError::Data(Error::InvalidData { row, column, .. })) => {
                assert_eq!((row, column), (1, Some("customers")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn named_time_zones_are_left_to_pandas() {
        let ids = primitive("l", &[1i64], &[], 0);
        let secs = primitive("tsu:Europe/Paris", &[0i64], &[], 0);
        let batch = record_batch(vec![ids, secs], 1);
        assert!(matches!(
            summarize_batches(&[batch.view()], 0, 1, None, &options(PeriodUnit::Day)),
            Err(ArrowSummaryError::Arrow(ArrowError::Unsupported(_)))
        ));
    }
}
