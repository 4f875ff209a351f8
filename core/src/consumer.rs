//! The link between components.
//!
//! Every stage after a receiver is a [`Consumer`]. Returning `Ok` from
//! [`Consumer::consume`] means the next stage has taken responsibility for
//! the batch; awaiting it is backpressure. Batch data sits behind an `Arc`
//! so that fan-out to several consumers copies nothing, and a consumer that
//! changes data pays for a copy only when the data is still shared.

use crate::ack::Acks;
use crate::pdata::{Payload, Signal, Telemetry};
use async_trait::async_trait;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Facts about the client that sent a batch, for `include_metadata`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The peer address, when the transport has one.
    pub addr: Option<SocketAddr>,
    /// Request headers or gRPC metadata (lowercase keys), kept only when the
    /// receiver is configured with `include_metadata: true`.
    pub metadata: Vec<(String, String)>,
}

impl ClientInfo {
    /// The client of an HTTP request or gRPC call: its address and, with
    /// `include_metadata`, its text headers. gRPC's binary (`-bin`)
    /// metadata is left out.
    pub fn from_headers(
        addr: Option<SocketAddr>,
        headers: &http::HeaderMap,
        include_metadata: bool,
    ) -> ClientInfo {
        let metadata = if include_metadata {
            headers
                .iter()
                .filter(|(k, _)| !k.as_str().ends_with("-bin"))
                .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect()
        } else {
            Vec::new()
        };
        ClientInfo { addr, metadata }
    }

    /// All values of a metadata key (keys are compared case-insensitively).
    pub fn get<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.metadata
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// A batch of telemetry on its way through a pipeline.
#[derive(Clone, Debug)]
pub struct Batch {
    payload: Arc<Payload>,
    client: Arc<ClientInfo>,
    acks: Acks,
}

impl Batch {
    /// A batch with no client information.
    pub fn new(data: Telemetry) -> Batch {
        Batch::with_client(data, Arc::default())
    }

    /// A batch from the given client.
    pub fn with_client(data: Telemetry, client: Arc<ClientInfo>) -> Batch {
        Batch::from_payload(Payload::from(data), client)
    }

    /// A batch of encoded or decoded data from the given client.
    pub fn from_payload(payload: Payload, client: Arc<ClientInfo>) -> Batch {
        Batch {
            payload: Arc::new(payload),
            client,
            acks: Acks::none(),
        }
    }

    /// The same batch, carrying `acks` (replacing any it had).
    pub fn with_acks(mut self, acks: Acks) -> Batch {
        self.acks = acks;
        self
    }

    /// The acknowledgement tokens, for stages that hold data past
    /// `consume` (queues, buffers) and settle the tokens themselves.
    pub fn take_acks(&mut self) -> Acks {
        std::mem::take(&mut self.acks)
    }

    /// Which signal.
    pub fn signal(&self) -> Signal {
        self.payload.signal()
    }

    /// Spans, data points or log records, without decoding.
    pub fn item_count(&self) -> usize {
        self.payload.item_count()
    }

    /// The data, read-only; decoded on first use if it arrived encoded.
    pub fn data(&self) -> &Telemetry {
        self.payload.telemetry()
    }

    /// The data for changing; copies it first if another consumer shares it.
    pub fn data_mut(&mut self) -> &mut Telemetry {
        Arc::make_mut(&mut self.payload).telemetry_mut()
    }

    /// Takes the data out, copying only if it is shared.
    pub fn into_data(self) -> Telemetry {
        self.into_payload().into_telemetry()
    }

    /// The data in whichever form it is, for stages that can forward
    /// encoded requests without decoding them.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// Takes the payload out, copying only if it is shared. Any tokens
    /// still carried are let go: take them first to keep them.
    pub fn into_payload(self) -> Payload {
        Arc::unwrap_or_clone(self.payload)
    }

    /// Who sent it.
    pub fn client(&self) -> &Arc<ClientInfo> {
        &self.client
    }
}

/// Why a consumer did not take a batch.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsumeError {
    /// Sending the same data again will fail again; the data is dropped.
    #[error("permanent error: {0}")]
    Permanent(String),
    /// The consumer cannot take the data now; the sender may try again.
    #[error("{message}")]
    Retryable {
        /// What went wrong.
        message: String,
        /// How long the sender should wait, when known.
        retry_after: Option<Duration>,
    },
    /// The collector is over a memory or queue limit.
    #[error("{0}")]
    ResourceExhausted(String),
}

impl ConsumeError {
    /// A retryable error with no hint of when to retry.
    pub fn retryable(message: impl Into<String>) -> ConsumeError {
        ConsumeError::Retryable {
            message: message.into(),
            retry_after: None,
        }
    }

    /// True for errors that will not go away by retrying.
    pub fn is_permanent(&self) -> bool {
        matches!(self, ConsumeError::Permanent(_))
    }

    pub(crate) fn severity(&self) -> u8 {
        match self {
            ConsumeError::ResourceExhausted(_) => 0,
            ConsumeError::Retryable { .. } => 1,
            ConsumeError::Permanent(_) => 2,
        }
    }
}

/// A stage that takes batches.
#[async_trait]
pub trait Consumer: Send + Sync {
    /// Takes responsibility for a batch, or says why not.
    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError>;

    /// True when a stage from here on writes data to disk before it lets go
    /// of acknowledgement tokens, so a buffer upstream must carry the
    /// tokens of receivers that only need acceptance instead of letting go
    /// once buffered. `true` is the safe answer and the default; processors
    /// ask the stage after them, and exporters that only hold data in
    /// memory say `false`.
    fn persists_before_ack(&self) -> bool {
        true
    }
}

/// A consumer shared between the stages that feed it.
pub type SharedConsumer = Arc<dyn Consumer>;

/// Sends each batch to several consumers at once.
///
/// The consumers run concurrently, so a slow one delays the answer but not
/// the others' work. The batch's data is shared, not copied. When several
/// fail, the most severe error is returned (permanent over retryable).
pub struct FanOut {
    consumers: Vec<SharedConsumer>,
}

impl FanOut {
    /// A consumer that forwards to all of `consumers`; a single consumer is
    /// returned as is.
    pub fn of(mut consumers: Vec<SharedConsumer>) -> SharedConsumer {
        if consumers.len() == 1 {
            return consumers.remove(0);
        }
        Arc::new(FanOut { consumers })
    }
}

#[async_trait]
impl Consumer for FanOut {
    fn persists_before_ack(&self) -> bool {
        self.consumers.iter().any(|c| c.persists_before_ack())
    }

    async fn consume(&self, batch: Batch) -> Result<(), ConsumeError> {
        let results =
            futures_util::future::join_all(self.consumers.iter().map(|c| c.consume(batch.clone())))
                .await;
        results
            .into_iter()
            .filter_map(Result::err)
            .max_by_key(ConsumeError::severity)
            .map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Sink;

    #[tokio::test]
    async fn fan_out_shares_one_copy_and_reports_the_worst_error() {
        let sinks = [Sink::new(), Sink::new(), Sink::new()];
        let fan = FanOut::of(sinks.iter().map(|s| s.clone() as SharedConsumer).collect());
        fan.consume(Batch::new(Telemetry::empty(Signal::Logs)))
            .await
            .unwrap();
        let seen: Vec<*const Telemetry> = sinks
            .iter()
            .map(|s| s.batches()[0].data() as *const Telemetry)
            .collect();
        assert!(seen.iter().all(|p| *p == seen[0]), "one copy: {seen:?}");

        sinks[1].refuse(Some(ConsumeError::retryable("later")));
        sinks[2].refuse(Some(ConsumeError::Permanent("never".into())));
        let err = fan
            .consume(Batch::new(Telemetry::empty(Signal::Logs)))
            .await;
        assert_eq!(err, Err(ConsumeError::Permanent("never".into())));
        assert_eq!(sinks[0].batches().len(), 2, "the others still got it");
    }

    #[test]
    fn data_mut_copies_only_shared_data() {
        let mut a = Batch::new(Telemetry::empty(Signal::Traces));
        let before = a.data() as *const _;
        a.data_mut();
        assert_eq!(before, a.data() as *const _);
        let b = a.clone();
        a.data_mut();
        assert_ne!(b.data() as *const _, a.data() as *const _);
    }
}
