//! A small reader of the Arrow C Data Interface and C Stream Interface
//! (<https://arrow.apache.org/docs/format/CDataInterface.html>), for exactly the
//! column types a transaction log needs: integers, floats, timestamps and dates
//! (ids, times, amounts) and strings in their three layouts and dictionary
//! encoded (ids). polars and pyarrow both export their frames through it (the
//! Arrow PyCapsule interface, `__arrow_c_stream__`), so the summary reads their
//! buffers in place.
//!
//! Why not the `arrow` crates: they would add a dozen crates (chrono, half,
//! num, hashbrown, …) to every build of the bindings for the few hundred lines
//! below; the interface is a stable ABI of three `#[repr(C)]` structs.
//!
//! Ownership follows the specification: a [`Stream`] is moved out of the
//! producer's struct (whose `release` is then cleared), every schema and array
//! it hands out is owned by an [`OwnedSchema`] / [`OwnedArray`] and released on
//! drop. Buffers are read with unaligned loads (the interface recommends but
//! does not promise 8-byte alignment); the buffer counts and child counts of
//! every array are checked against its format before any buffer is read. What
//! cannot be checked (the buffer sizes, which the interface does not carry) is
//! the producer's promise, as for every consumer of the interface.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::fmt;

/// `struct ArrowSchema` of the C Data Interface.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowSchema {
    format: *const c_char,
    name: *const c_char,
    metadata: *const c_char,
    flags: i64,
    n_children: i64,
    children: *mut *mut ArrowSchema,
    dictionary: *mut ArrowSchema,
    release: Option<unsafe extern "C" fn(*mut ArrowSchema)>,
    private_data: *mut c_void,
}

/// `struct ArrowArray` of the C Data Interface.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowArray {
    length: i64,
    null_count: i64,
    offset: i64,
    n_buffers: i64,
    n_children: i64,
    buffers: *mut *const c_void,
    children: *mut *mut ArrowArray,
    dictionary: *mut ArrowArray,
    release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    private_data: *mut c_void,
}

/// `struct ArrowArrayStream` of the C Stream Interface.
#[repr(C)]
#[derive(Debug)]
pub struct ArrowArrayStream {
    get_schema: Option<unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowSchema) -> c_int>,
    get_next: Option<unsafe extern "C" fn(*mut ArrowArrayStream, *mut ArrowArray) -> c_int>,
    get_last_error: Option<unsafe extern "C" fn(*mut ArrowArrayStream) -> *const c_char>,
    release: Option<unsafe extern "C" fn(*mut ArrowArrayStream)>,
    private_data: *mut c_void,
}

impl ArrowSchema {
    fn empty() -> Self {
        ArrowSchema {
            format: std::ptr::null(),
            name: std::ptr::null(),
            metadata: std::ptr::null(),
            flags: 0,
            n_children: 0,
            children: std::ptr::null_mut(),
            dictionary: std::ptr::null_mut(),
            release: None,
            private_data: std::ptr::null_mut(),
        }
    }
}

impl ArrowArray {
    fn empty() -> Self {
        ArrowArray {
            length: 0,
            null_count: 0,
            offset: 0,
            n_buffers: 0,
            n_children: 0,
            buffers: std::ptr::null_mut(),
            children: std::ptr::null_mut(),
            dictionary: std::ptr::null_mut(),
            release: None,
            private_data: std::ptr::null_mut(),
        }
    }
}

/// What can go wrong reading Arrow data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArrowError {
    /// A column type this reader does not read (the caller may fall back to
    /// another route).
    Unsupported(String),
    /// The producer reported an error, or handed out something that breaks the
    /// interface.
    Invalid(String),
}

impl fmt::Display for ArrowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArrowError::Unsupported(s) => write!(f, "unsupported Arrow data: {s}"),
            ArrowError::Invalid(s) => write!(f, "invalid Arrow data: {s}"),
        }
    }
}

impl std::error::Error for ArrowError {}

type Result<T> = std::result::Result<T, ArrowError>;

fn invalid<T>(what: impl Into<String>) -> Result<T> {
    Err(ArrowError::Invalid(what.into()))
}

/// A schema we own: released on drop.
#[derive(Debug)]
pub struct OwnedSchema(ArrowSchema);

impl Drop for OwnedSchema {
    fn drop(&mut self) {
        if let Some(release) = self.0.release {
            // SAFETY: the producer filled the struct and handed it to us; we
            // release it once (the callback clears `release`).
            unsafe { release(&mut self.0) };
        }
    }
}

impl OwnedSchema {
    /// The schema, for [`Array::new`].
    pub fn get(&self) -> &ArrowSchema {
        &self.0
    }
}

/// An array we own: released on drop.
#[derive(Debug)]
pub struct OwnedArray(ArrowArray);

impl Drop for OwnedArray {
    fn drop(&mut self) {
        if let Some(release) = self.0.release {
            // SAFETY: as for `OwnedSchema`.
            unsafe { release(&mut self.0) };
        }
    }
}

impl OwnedArray {
    /// The array, for [`Array::new`].
    pub fn get(&self) -> &ArrowArray {
        &self.0
    }
}

/// An Arrow C stream moved out of its producer's struct; released on drop.
#[derive(Debug)]
pub struct Stream(ArrowArrayStream);

impl Drop for Stream {
    fn drop(&mut self) {
        if let Some(release) = self.0.release {
            // SAFETY: we own the stream (moved out in `from_raw`).
            unsafe { release(&mut self.0) };
        }
    }
}

impl Stream {
    /// Takes the stream out of `ptr` (a bitwise move, as the specification
    /// allows), marking the source released so its owner (e.g. a PyCapsule's
    /// destructor) does not release it again.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `ArrowArrayStream` (released or not) that no
    /// one else reads while this is called.
    pub unsafe fn from_raw(ptr: *mut ArrowArrayStream) -> Result<Self> {
        if ptr.is_null() {
            return invalid("the stream pointer is null");
        }
        // SAFETY: the caller's promise.
        let stream = unsafe { std::ptr::read(ptr) };
        unsafe { (*ptr).release = None };
        if stream.release.is_none() {
            return invalid("the stream was already consumed");
        }
        Ok(Stream(stream))
    }

    fn last_error(&mut self, code: c_int) -> ArrowError {
        let message = self.0.get_last_error.and_then(|f| {
            // SAFETY: the stream is live; the returned string lives until the
            // next call on the stream.
            let ptr = unsafe { f(&mut self.0) };
            (!ptr.is_null()).then(|| {
                unsafe { CStr::from_ptr(ptr) }
                    .to_string_lossy()
                    .into_owned()
            })
        });
        ArrowError::Invalid(format!(
            "the producer of the Arrow stream failed (error {code}): {}",
            message.unwrap_or_else(|| "no message".into())
        ))
    }

    /// The schema of the stream's arrays.
    pub fn schema(&mut self) -> Result<OwnedSchema> {
        let Some(get_schema) = self.0.get_schema else {
            return invalid("the stream has no get_schema");
        };
        let mut out = OwnedSchema(ArrowSchema::empty());
        // SAFETY: a live stream and a writable struct.
        let code = unsafe { get_schema(&mut self.0, &mut out.0) };
        if code != 0 {
            return Err(self.last_error(code));
        }
        if out.0.release.is_none() {
            return invalid("the stream returned a released schema");
        }
        Ok(out)
    }

    /// The next array of the stream, `None` at its end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<OwnedArray>> {
        let Some(get_next) = self.0.get_next else {
            return invalid("the stream has no get_next");
        };
        let mut out = OwnedArray(ArrowArray::empty());
        // SAFETY: a live stream and a writable struct.
        let code = unsafe { get_next(&mut self.0, &mut out.0) };
        if code != 0 {
            return Err(self.last_error(code));
        }
        Ok(out.0.release.is_some().then_some(out))
    }
}

/// One array with its schema: the format and the checked buffer and child
/// counts. `'a` is the lifetime of the owned schema and array it reads.
#[derive(Debug, Clone, Copy)]
pub struct Array<'a> {
    schema: &'a ArrowSchema,
    array: &'a ArrowArray,
    format: &'a str,
}

// SAFETY: an `Array` only reads immutable buffers that its owner keeps alive
// for 'a; the Arrow interface allows reading them from any thread.
unsafe impl Send for Array<'_> {}
unsafe impl Sync for Array<'_> {}

impl<'a> Array<'a> {
    /// Pairs an array with its schema, checking the counts the format implies.
    pub fn new(schema: &'a ArrowSchema, array: &'a ArrowArray) -> Result<Self> {
        if schema.format.is_null() {
            return invalid("a schema without format");
        }
        // SAFETY: a non-null format is a NUL-terminated string owned by the schema.
        let format = unsafe { CStr::from_ptr(schema.format) }
            .to_str()
            .map_err(|_| ArrowError::Invalid("a format that is not UTF-8".into()))?;
        if array.length < 0 || array.offset < 0 || array.n_buffers < 0 || array.n_children < 0 {
            return invalid(format!("negative length, offset or counts ({format})"));
        }
        if schema.n_children != array.n_children {
            return invalid(format!(
                "the schema has {} children but the array {} ({format})",
                schema.n_children, array.n_children
            ));
        }
        if schema.dictionary.is_null() != array.dictionary.is_null() {
            return invalid(format!(
                "dictionary of schema and array disagree ({format})"
            ));
        }
        let a = Array {
            schema,
            array,
            format,
        };
        let buffers = match a.layout() {
            Layout::Struct => 1,
            Layout::Fixed => 2,
            Layout::Offsets32 | Layout::Offsets64 => 3,
            Layout::View => {
                // validity, views, the data buffers, their sizes.
                if array.n_buffers < 3 {
                    return invalid("a string view array with fewer than 3 buffers");
                }
                array.n_buffers
            }
            Layout::Other => array.n_buffers,
        };
        if array.n_buffers != buffers {
            return invalid(format!(
                "{format} needs {buffers} buffers, the array has {}",
                array.n_buffers
            ));
        }
        if array.n_buffers > 0 && array.buffers.is_null() {
            return invalid("a null buffer list");
        }
        Ok(a)
    }

    /// The format string (`"l"`, `"tsn:UTC"`, `"vu"`, …).
    pub fn format(&self) -> &'a str {
        self.format
    }

    /// The column name the schema gives.
    pub fn name(&self) -> String {
        if self.schema.name.is_null() {
            return String::new();
        }
        // SAFETY: a NUL-terminated string owned by the schema.
        unsafe { CStr::from_ptr(self.schema.name) }
            .to_string_lossy()
            .into_owned()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.array.length as usize
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn offset(&self) -> usize {
        self.array.offset as usize
    }

    fn layout(&self) -> Layout {
        if !self.schema.dictionary.is_null() {
            // The buffers are those of the index type.
            return match self.format {
                "c" | "C" | "s" | "S" | "i" | "I" | "l" | "L" => Layout::Fixed,
                _ => Layout::Other,
            };
        }
        match self.format {
            "+s" => Layout::Struct,
            "u" | "z" => Layout::Offsets32,
            "U" | "Z" => Layout::Offsets64,
            "vu" | "vz" => Layout::View,
            "c" | "C" | "s" | "S" | "i" | "I" | "l" | "L" | "f" | "g" | "tdD" | "tdm" => {
                Layout::Fixed
            }
            f if f.starts_with("ts") => Layout::Fixed,
            _ => Layout::Other,
        }
    }

    fn buffer(&self, i: usize) -> *const u8 {
        debug_assert!((i as i64) < self.array.n_buffers);
        // SAFETY: `new` checked the count and that the list is not null.
        unsafe { *self.array.buffers.add(i) as *const u8 }
    }

    /// Child `i` of a struct array.
    pub fn child(&self, i: usize) -> Result<Array<'a>> {
        if self.format != "+s" {
            return invalid(format!("children of a {} array", self.format));
        }
        if i as i64 >= self.array.n_children {
            return invalid(format!("no child {i}"));
        }
        // SAFETY: `new` checked that schema and array have this many children.
        let (schema, array) = unsafe {
            let s = *self.schema.children.add(i);
            let a = *self.array.children.add(i);
            if s.is_null() || a.is_null() {
                return invalid("a null child");
            }
            (&*s, &*a)
        };
        Array::new(schema, array)
    }

    /// Number of children (columns of a struct array).
    pub fn n_children(&self) -> usize {
        self.array.n_children as usize
    }

    /// The dictionary of a dictionary-encoded array.
    pub fn dictionary(&self) -> Result<Option<Array<'a>>> {
        if self.schema.dictionary.is_null() {
            return Ok(None);
        }
        // SAFETY: both non-null (checked in `new`), owned by the parent.
        let (schema, array) = unsafe { (&*self.schema.dictionary, &*self.array.dictionary) };
        Array::new(schema, array).map(Some)
    }

    /// False when logical row `row` (of `0..len`) is null.
    #[inline]
    pub fn is_valid(&self, row: usize) -> bool {
        if self.array.null_count == 0 {
            return true;
        }
        let bitmap = self.buffer(0);
        if bitmap.is_null() {
            return true;
        }
        let k = self.offset() + row;
        // SAFETY: the validity bitmap has a bit per physical row.
        unsafe { (*bitmap.add(k / 8) >> (k % 8)) & 1 == 1 }
    }

    /// Whether the array may hold nulls (cheap test before a scan).
    pub fn may_have_nulls(&self) -> bool {
        self.array.null_count != 0 && !self.buffer(0).is_null()
    }

    /// Value `row` of a fixed-width array of `T` (the caller matched the format
    /// to `T`).
    ///
    /// # Safety
    ///
    /// `T` must be the type of the format (`"l"` → `i64`, …) and `row < len`.
    #[inline]
    pub unsafe fn value<T: Copy>(&self, row: usize) -> T {
        let data = self.buffer(1) as *const T;
        unsafe { data.add(self.offset() + row).read_unaligned() }
    }

    /// Rows `start..start + len` of a fixed-width array of `T` as a slice, `None`
    /// when the data are not aligned for `T` (read them with [`Array::value`]).
    ///
    /// # Safety
    ///
    /// `T` must be the type of the format and `start + len <= len()`.
    #[inline]
    pub unsafe fn typed<T: Copy>(&self, start: usize, len: usize) -> Option<&'a [T]> {
        let data = self.buffer(1) as *const T;
        if data.is_null() || (data as usize) % std::mem::align_of::<T>() != 0 {
            return None;
        }
        // SAFETY: the caller's promise; aligned and non-null (checked).
        Some(unsafe { std::slice::from_raw_parts(data.add(self.offset() + start), len) })
    }

    /// The bytes of string or binary `row` (`"u"`, `"U"`, `"z"`, `"Z"`, `"vu"`,
    /// `"vz"`), for `row < len`.
    #[inline]
    pub fn bytes(&self, row: usize) -> Result<&'a [u8]> {
        let k = self.offset() + row;
        // SAFETY: the layouts of the specification; `new` checked the buffer counts.
        unsafe {
            match self.format {
                "u" | "z" => {
                    let offsets = self.buffer(1) as *const i32;
                    let start = offsets.add(k).read_unaligned();
                    let end = offsets.add(k + 1).read_unaligned();
                    slice(self.buffer(2), start as i64, end as i64)
                }
                "U" | "Z" => {
                    let offsets = self.buffer(1) as *const i64;
                    let start = offsets.add(k).read_unaligned();
                    let end = offsets.add(k + 1).read_unaligned();
                    slice(self.buffer(2), start, end)
                }
                "vu" | "vz" => {
                    let view = self.buffer(1).add(16 * k);
                    let length = (view as *const i32).read_unaligned();
                    if length <= 12 {
                        if length < 0 {
                            return invalid("a negative string length");
                        }
                        Ok(std::slice::from_raw_parts(view.add(4), length as usize))
                    } else {
                        let buffer = (view.add(8) as *const i32).read_unaligned();
                        let offset = (view.add(12) as *const i32).read_unaligned();
                        // Data buffers are 2..n_buffers-1 (the last holds their sizes).
                        let n_data = self.array.n_buffers - 3;
                        if buffer < 0 || i64::from(buffer) >= n_data {
                            return invalid("a string view pointing to no buffer");
                        }
                        let data = self.buffer(2 + buffer as usize);
                        slice(
                            data,
                            i64::from(offset),
                            i64::from(offset) + i64::from(length),
                        )
                    }
                }
                f => Err(ArrowError::Unsupported(format!("{f} is not a string type"))),
            }
        }
    }

    /// The index type of a dictionary-encoded array's keys and the keys.
    ///
    /// Key `row` as an index into the dictionary (`row < len`, valid row).
    #[inline]
    pub fn key(&self, row: usize) -> Result<usize> {
        // SAFETY: the key types of the specification.
        let key: i64 = unsafe {
            match self.format {
                "c" => i64::from(self.value::<i8>(row)),
                "C" => i64::from(self.value::<u8>(row)),
                "s" => i64::from(self.value::<i16>(row)),
                "S" => i64::from(self.value::<u16>(row)),
                "i" => i64::from(self.value::<i32>(row)),
                "I" => i64::from(self.value::<u32>(row)),
                "l" => self.value::<i64>(row),
                "L" => self.value::<u64>(row) as i64,
                f => {
                    return Err(ArrowError::Unsupported(format!(
                        "dictionary keys of type {f}"
                    )))
                }
            }
        };
        usize::try_from(key).map_err(|_| ArrowError::Invalid("a negative dictionary key".into()))
    }
}

unsafe fn slice<'a>(data: *const u8, start: i64, end: i64) -> Result<&'a [u8]> {
    if start < 0 || end < start {
        return invalid("string offsets out of order");
    }
    if end == start {
        return Ok(&[]);
    }
    if data.is_null() {
        return invalid("a null string data buffer");
    }
    Ok(unsafe { std::slice::from_raw_parts(data.add(start as usize), (end - start) as usize) })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Struct,
    Fixed,
    Offsets32,
    Offsets64,
    View,
    Other,
}

/// A record-batch stream read to the end: the schema and every batch, kept
/// alive together.
#[derive(Debug)]
pub struct Batches {
    schema: OwnedSchema,
    arrays: Vec<OwnedArray>,
}

// SAFETY: the owned structs are only read after the stream is drained, and the
// interface allows releasing them from another thread than the producer's.
unsafe impl Send for Batches {}
unsafe impl Sync for Batches {}

impl Batches {
    /// Reads every batch of `stream`.
    pub fn read(mut stream: Stream) -> Result<Self> {
        let schema = stream.schema()?;
        let mut arrays = Vec::new();
        while let Some(array) = stream.next()? {
            arrays.push(array);
        }
        Ok(Batches { schema, arrays })
    }

    /// The batches as struct arrays, each with its rows.
    pub fn structs(&self) -> Result<Vec<Array<'_>>> {
        self.arrays
            .iter()
            .map(|a| {
                let s = Array::new(self.schema.get(), a.get())?;
                if s.format() != "+s" {
                    return invalid(format!(
                        "a stream of {} arrays, not of record batches",
                        s.format()
                    ));
                }
                Ok(s)
            })
            .collect()
    }
}

/// Column `column` of a record-batch stream as (array, first logical row,
/// rows) chunks: a struct array's offset applies to its children.
pub fn column_chunks<'a>(structs: &[Array<'a>], column: usize) -> Result<Vec<Chunk<'a>>> {
    structs
        .iter()
        .map(|s| {
            let array = s.child(column)?;
            let start = s.offset();
            if array.len() < start + s.len() {
                return invalid("a column shorter than its batch");
            }
            Ok(Chunk {
                array,
                start,
                len: s.len(),
            })
        })
        .collect()
}

/// Rows `start..start + len` of an array.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// The array.
    pub array: Array<'a>,
    /// First logical row of the array in the chunk.
    pub start: usize,
    /// Rows in the chunk.
    pub len: usize,
}

#[cfg(test)]
pub(crate) mod testing {
    //! Arrays built by hand in the layout of the specification, for tests.
    use super::*;
    use std::ffi::CString;

    /// Keeps the buffers of a hand-built array alive.
    pub struct Built {
        pub schema: ArrowSchema,
        pub array: ArrowArray,
        _format: CString,
        _buffers: Vec<*const c_void>,
        _children_s: Vec<*mut ArrowSchema>,
        _children_a: Vec<*mut ArrowArray>,
        #[allow(clippy::vec_box)] // the children must not move: their addresses are taken
        _owned: Vec<Box<Built>>,
        _data: Vec<Vec<u8>>,
    }

    fn bytes_of<T: Copy>(v: &[T]) -> Vec<u8> {
        let n = std::mem::size_of_val(v);
        // SAFETY: plain old data.
        unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, n) }.to_vec()
    }

    /// A primitive array of `values`, `null` rows marked invalid, sliced by `offset`.
    pub fn primitive<T: Copy>(format: &str, values: &[T], nulls: &[usize], offset: usize) -> Built {
        let mut validity = vec![0xffu8; values.len().div_ceil(8).max(1)];
        for &i in nulls {
            validity[i / 8] &= !(1 << (i % 8));
        }
        let data = vec![
            if nulls.is_empty() {
                Vec::new()
            } else {
                validity
            },
            bytes_of(values),
        ];
        build(
            format,
            values.len() - offset,
            offset,
            nulls.len(),
            data,
            Vec::new(),
        )
    }

    /// A utf8 array (`"u"`).
    pub fn utf8(values: &[&str]) -> Built {
        let mut offsets = vec![0i32];
        let mut data = Vec::new();
        for v in values {
            data.extend_from_slice(v.as_bytes());
            offsets.push(data.len() as i32);
        }
        build(
            "u",
            values.len(),
            0,
            0,
            vec![Vec::new(), bytes_of(&offsets), data],
            Vec::new(),
        )
    }

    /// A utf8 view array (`"vu"`), long strings in one data buffer.
    pub fn utf8_view(values: &[&str]) -> Built {
        let mut views = Vec::new();
        let mut data = Vec::new();
        for v in values {
            let b = v.as_bytes();
            let mut view = [0u8; 16];
            view[..4].copy_from_slice(&(b.len() as i32).to_le_bytes());
            if b.len() <= 12 {
                view[4..4 + b.len()].copy_from_slice(b);
            } else {
                view[4..8].copy_from_slice(&b[..4]);
                view[8..12].copy_from_slice(&0i32.to_le_bytes());
                view[12..16].copy_from_slice(&(data.len() as i32).to_le_bytes());
                data.extend_from_slice(b);
            }
            views.extend_from_slice(&view);
        }
        let sizes = bytes_of(&[data.len() as i64]);
        build(
            "vu",
            values.len(),
            0,
            0,
            vec![Vec::new(), views, data, sizes],
            Vec::new(),
        )
    }

    /// A struct array (a record batch) of `children`.
    pub fn record_batch(children: Vec<Built>, len: usize) -> Built {
        build("+s", len, 0, 0, vec![Vec::new()], children)
    }

    /// Dictionary-encoded: int32 `keys` into `dictionary`.
    pub fn dictionary(keys: &[i32], dictionary: Built) -> Built {
        let mut b = primitive("i", keys, &[], 0);
        let dict = Box::new(dictionary);
        b.schema.dictionary = &dict.schema as *const _ as *mut _;
        b.array.dictionary = &dict.array as *const _ as *mut _;
        b._owned.push(dict);
        b
    }

    fn build(
        format: &str,
        length: usize,
        offset: usize,
        null_count: usize,
        data: Vec<Vec<u8>>,
        children: Vec<Built>,
    ) -> Built {
        let format = CString::new(format).unwrap();
        let owned: Vec<Box<Built>> = children.into_iter().map(Box::new).collect();
        let mut b = Built {
            schema: ArrowSchema::empty(),
            array: ArrowArray::empty(),
            _format: format,
            _buffers: Vec::new(),
            _children_s: owned
                .iter()
                .map(|c| &c.schema as *const _ as *mut _)
                .collect(),
            _children_a: owned
                .iter()
                .map(|c| &c.array as *const _ as *mut _)
                .collect(),
            _owned: owned,
            _data: data,
        };
        b._buffers = b
            ._data
            .iter()
            .map(|d| {
                if d.is_empty() {
                    std::ptr::null()
                } else {
                    d.as_ptr() as *const c_void
                }
            })
            .collect();
        b.schema.format = b._format.as_ptr();
        b.schema.n_children = b._children_s.len() as i64;
        b.schema.children = b._children_s.as_mut_ptr();
        b.array.length = length as i64;
        b.array.offset = offset as i64;
        b.array.null_count = null_count as i64;
        b.array.n_buffers = b._buffers.len() as i64;
        b.array.buffers = b._buffers.as_mut_ptr();
        b.array.n_children = b._children_a.len() as i64;
        b.array.children = b._children_a.as_mut_ptr();
        b
    }

    impl Built {
        pub fn view(&self) -> Array<'_> {
            Array::new(&self.schema, &self.array).unwrap()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;

    #[test]
    fn primitive_values_offsets_and_nulls() {
        let b = primitive("l", &[5i64, 6, 7, 8], &[2], 1);
        let a = b.view();
        assert_eq!(a.len(), 3);
        assert!(a.is_valid(0));
        assert!(!a.is_valid(1)); // physical row 2
        assert_eq!(unsafe { a.value::<i64>(0) }, 6);
        assert_eq!(unsafe { a.value::<i64>(2) }, 8);
    }

    #[test]
    fn strings_in_every_layout() {
        let values = ["a", "", "a rather long customer name", "b"];
        for b in [utf8(&values), utf8_view(&values)] {
            let a = b.view();
            for (i, v) in values.iter().enumerate() {
                assert_eq!(a.bytes(i).unwrap(), v.as_bytes());
            }
        }
        let d = dictionary(&[1, 0, 1], utf8(&["x", "y"]));
        let a = d.view();
        let dict = a.dictionary().unwrap().unwrap();
        assert_eq!(dict.bytes(a.key(0).unwrap()).unwrap(), b"y");
    }

    #[test]
    fn buffer_counts_are_checked() {
        let mut b = primitive("l", &[1i64], &[], 0);
        b.array.n_buffers = 1;
        assert!(super::Array::new(&b.schema, &b.array).is_err());
    }
}
