//! Cancelling long computations (Ctrl-C).
//!
//! Long loops of the core (the Newton iterations of a fit, the chunks of a
//! likelihood evaluation, of a batch prediction, of a simulation or of a
//! transaction summary) look at one process-wide flag between steps. Once the
//! flag is raised with [`request`], fits return [`Error::Interrupted`] and
//! loops that return plain values stop filling their output early (their
//! result is then meaningless, and the caller that raised the flag discards
//! it). The Python bindings raise the flag when Ctrl-C arrives while a call
//! runs without the GIL, then raise `KeyboardInterrupt` and lower it with
//! [`clear`].
//!
//! The flag is shared by every computation in the process: a request made for
//! one call stops every call running at that moment. Checking costs one
//! relaxed atomic load.
//!
//! ```
//! use retentionkit::interrupt;
//! assert!(interrupt::check().is_ok());
//! interrupt::request();
//! assert!(matches!(interrupt::check(), Err(retentionkit::Error::Interrupted)));
//! interrupt::clear();
//! assert!(!interrupt::requested());
//! ```

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks every running computation to stop at its next check.
pub fn request() {
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Lowers the flag (after the interrupted computation has returned).
pub fn clear() {
    REQUESTED.store(false, Ordering::Relaxed);
}

/// Whether a stop has been requested.
#[inline]
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// `Err(Error::Interrupted)` once a stop has been requested.
#[inline]
pub fn check() -> Result<()> {
    if requested() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}
