//! The memory budget for image and video work: each upload reserves what its decoding will
//! take before any pixel is decoded, and waits its turn or is answered 503 `busy`.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, ApiResult, ErrorKind};

/// How long an upload waits for its share of the memory budget before the answer is 503 `busy`;
/// and the Retry-After then given, in seconds.
pub(super) const MEDIA_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
pub(super) const BUSY_RETRY_SECS: u64 = 5;
/// The permits (one a KiB) of a memory budget of `bytes`.
pub fn budget_permits(bytes: u64) -> usize {
    usize::try_from(bytes / 1024)
        .unwrap_or(usize::MAX)
        .min(Semaphore::MAX_PERMITS)
}

fn busy() -> ApiError {
    ApiError::new(
        ErrorKind::Busy,
        "The server is busy processing other uploads; try again in a few seconds.",
    )
    .with_retry_after(BUSY_RETRY_SECS)
}

/// The memory budget as seen from a blocking thread: each upload reserves what its decoding
/// will take, waiting at most [`MEDIA_WAIT`] for others to finish.
pub(super) struct Budget {
    pub(super) permits: Arc<Semaphore>,
    pub(super) total: u64,
    pub(super) runtime: tokio::runtime::Handle,
    /// How long a reservation waits before the answer is `busy`: [`MEDIA_WAIT`].
    pub(super) wait: std::time::Duration,
}

impl Budget {
    fn permits_for(bytes: u64) -> u32 {
        u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
    }

    /// Reserves `bytes` (which must fit the whole budget), at once or after a wait.
    pub(super) fn reserve(&self, bytes: u64) -> ApiResult<OwnedSemaphorePermit> {
        let n = Self::permits_for(bytes.min(self.total));
        if let Ok(permit) = self.permits.clone().try_acquire_many_owned(n) {
            return Ok(permit);
        }
        let wait = self.permits.clone().acquire_many_owned(n);
        let waited = self
            .runtime
            .block_on(async { tokio::time::timeout(self.wait, wait).await });
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(e)) => Err(ApiError::internal("media_budget_closed", e)),
            Err(_) => Err(busy()),
        }
    }

    /// Grows `held` to `bytes`: at once if the budget has room, else by giving it back and
    /// queueing for the whole (so two large uploads never each hold half and wait forever).
    pub(super) fn grow(
        &self,
        mut held: OwnedSemaphorePermit,
        bytes: u64,
    ) -> ApiResult<OwnedSemaphorePermit> {
        let want = Self::permits_for(bytes);
        let have = held.num_permits() as u32;
        if want <= have {
            return Ok(held);
        }
        match self.permits.clone().try_acquire_many_owned(want - have) {
            Ok(more) => {
                held.merge(more);
                Ok(held)
            }
            Err(_) => {
                drop(held);
                self.reserve(bytes)
            }
        }
    }
}
