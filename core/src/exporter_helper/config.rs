//! `sending_queue`, with the Go collector's defaults (`retry_on_failure` is
//! [`crate::retry::RetrySettings`]).

use crate::config::{GoDuration, Invalid, Validate};
use serde::Deserialize;

/// What the queue's capacity counts.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sizer {
    /// Requests (batches). The default.
    #[default]
    Requests,
    /// Spans, data points or log records.
    Items,
    /// Encoded bytes.
    Bytes,
}

/// `sending_queue`: an in-memory queue drained by `num_consumers` workers.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct QueueSettings {
    /// Queue at all; when false, `consume` sends inline. Default true.
    pub enabled: bool,
    /// Concurrent senders. Default 10.
    pub num_consumers: usize,
    /// Capacity, in `sizer` units. Default 1000.
    pub queue_size: usize,
    /// What `queue_size` counts. Default `requests`.
    pub sizer: Sizer,
    /// Wait for room instead of refusing when full. Default false.
    pub block_on_overflow: bool,
    /// Answer the caller only after the send finished. Default false.
    pub wait_for_result: bool,
    /// A storage extension for a persistent queue.
    pub storage: Option<String>,
    /// Batching inside the queue: senders merge queued requests.
    pub batch: Option<QueueBatchSettings>,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            enabled: true,
            num_consumers: 10,
            queue_size: 1000,
            sizer: Sizer::Requests,
            block_on_overflow: false,
            wait_for_result: false,
            storage: None,
            batch: None,
        }
    }
}

impl Validate for QueueSettings {
    /// Go's checks and words (`queuebatch.Config`), made when the queue
    /// is enabled.
    fn validate(&self) -> Result<(), Invalid> {
        if !self.enabled {
            return Ok(());
        }
        if self.num_consumers == 0 {
            return Err("`num_consumers` must be positive".into());
        }
        if self.queue_size == 0 {
            return Err("`queue_size` must be positive".into());
        }
        if let Some(batch) = &self.batch {
            if batch.sizer == self.sizer && batch.min_size > self.queue_size {
                return Err("`min_size` must be less than or equal to `queue_size`".into());
            }
            // Go's optional `batch` section words its errors `batch: ...`
            // below `sending_queue`, not as a key path of its own.
            batch
                .validate()
                .map_err(|e| Invalid::at("", format!("batch: {e}")))?;
        }
        Ok(())
    }
}

/// `sending_queue::batch`: each sender takes queued requests until it has
/// `min_size` or the first has waited `flush_timeout`, and sends them as
/// one, in pieces of at most `max_size`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct QueueBatchSettings {
    /// Longest the first request of a batch waits. Default 200ms.
    pub flush_timeout: GoDuration,
    /// Size that triggers a send. Default 8192.
    pub min_size: usize,
    /// Largest batch sent; 0 (default) means no cap.
    pub max_size: usize,
    /// What the sizes count: `items` (default) or `bytes`.
    pub sizer: Sizer,
}

impl Default for QueueBatchSettings {
    fn default() -> Self {
        QueueBatchSettings {
            flush_timeout: GoDuration::millis(200),
            min_size: 8192,
            max_size: 0,
            sizer: Sizer::Items,
        }
    }
}

impl Validate for QueueBatchSettings {
    /// Go's checks and words (`queuebatch.BatchConfig`), and what ferrotel
    /// does not do yet.
    fn validate(&self) -> Result<(), Invalid> {
        if self.sizer == Sizer::Requests {
            return Err(
                "`batch` supports only `items` or `bytes` sizer, found \"requests\"".into(),
            );
        }
        if self.flush_timeout.0.is_zero() {
            return Err("`flush_timeout` must be positive, found 0".into());
        }
        if self.max_size > 0 && self.max_size < self.min_size {
            return Err(format!(
                "`max_size` ({}) must be greater or equal to `min_size` ({})",
                self.max_size, self.min_size
            )
            .into());
        }
        if self.max_size > 0 && self.sizer == Sizer::Bytes {
            return Err(Invalid::at(
                "max_size",
                "a cap with the `bytes` sizer is not supported yet; use the `items` sizer to cap batches",
            ));
        }
        Ok(())
    }
}

impl QueueBatchSettings {
    /// The size of `payload` in this batch's unit.
    pub(crate) fn size_of(&self, payload: &crate::pdata::Payload) -> usize {
        match self.sizer {
            Sizer::Bytes => payload.encoded_len(),
            _ => payload.item_count(),
        }
    }
}
