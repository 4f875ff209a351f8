//! `retry_on_failure` and `sending_queue`, with the Go collector's defaults.

use crate::config::GoDuration;
use serde::Deserialize;

/// `retry_on_failure`: exponential backoff with jitter.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct RetrySettings {
    /// Retry at all. Default true.
    pub enabled: bool,
    /// First wait. Default 5s.
    pub initial_interval: GoDuration,
    /// Longest wait. Default 30s.
    pub max_interval: GoDuration,
    /// Give up after this long; 0 retries forever. Default 300s.
    pub max_elapsed_time: GoDuration,
    /// Growth of the wait. Default 1.5.
    pub multiplier: f64,
    /// Jitter, as a fraction of the wait. Default 0.5.
    pub randomization_factor: f64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            enabled: true,
            initial_interval: GoDuration::secs(5),
            max_interval: GoDuration::secs(30),
            max_elapsed_time: GoDuration::secs(300),
            multiplier: 1.5,
            randomization_factor: 0.5,
        }
    }
}

impl RetrySettings {
    /// Checks ranges; messages name the key.
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if !(0.0..=1.0).contains(&self.randomization_factor) {
            return Err("'randomization_factor' must be within [0, 1]".into());
        }
        if self.multiplier < 1.0 {
            return Err("'multiplier' must be greater than or equal to 1".into());
        }
        if self.max_interval < self.initial_interval {
            return Err("'max_interval' must not be less than 'initial_interval'".into());
        }
        Ok(())
    }
}

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

impl QueueSettings {
    /// Checks ranges and what this build cannot do yet; messages name the key.
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.num_consumers == 0 {
            return Err("'num_consumers' must be positive".into());
        }
        if self.queue_size == 0 {
            return Err("'queue_size' must be positive".into());
        }
        if let Some(batch) = &self.batch {
            batch.validate()?;
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

impl QueueBatchSettings {
    fn validate(&self) -> Result<(), String> {
        if self.sizer == Sizer::Requests {
            return Err(
                "'batch::sizer': `requests` is not supported for batching; use `items` or `bytes`"
                    .into(),
            );
        }
        if self.max_size > 0 && self.max_size < self.min_size {
            return Err(
                "'batch::max_size' must be greater than or equal to 'batch::min_size'".into(),
            );
        }
        if self.max_size > 0 && self.sizer == Sizer::Bytes {
            return Err("'batch::max_size' with the `bytes` sizer is not supported yet; use the `items` sizer to cap batches".into());
        }
        Ok(())
    }

    /// The size of `payload` in this batch's unit.
    pub(crate) fn size_of(&self, payload: &crate::pdata::Payload) -> usize {
        match self.sizer {
            Sizer::Bytes => payload.encoded_len(),
            _ => payload.item_count(),
        }
    }
}
