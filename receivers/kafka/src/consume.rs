//! The loop that reads one signal's topics: each message is decoded,
//! handed to the pipeline with an acknowledgement token, and kept in an
//! ordered window until the pipeline answers. Offsets are stored (and so
//! committed) strictly in order, only for answered messages, so a crash
//! or a broker outage replays what was not safe yet and loses nothing.
//! A retryable refusal offers the same message again after a backoff;
//! a full window pauses fetching.

use crate::config::Encoding;
use crate::decode;
use ferrotel_core::ack::{AckToken, Acks, Guarantee, Receipt};
use ferrotel_core::consumer::{Batch, ClientInfo, ConsumeError, SharedConsumer};
use ferrotel_core::pdata::Signal;
use ferrotel_core::retry::{Backoff, RetrySettings};
use ferrotel_core::telemetry::{Counter, ReceiverMetrics};
use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Headers;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tracing::{debug, error, info, warn};

/// Messages handed on and not yet answered before fetching pauses. The
/// window may grow to twice this while a pause takes effect; beyond that
/// the loop stops taking messages.
const MAX_IN_FLIGHT: usize = 1000;

/// What the loop needs besides the client.
pub(crate) struct Settings {
    pub(crate) receiver: String,
    pub(crate) signal: Signal,
    pub(crate) encoding: Encoding,
    pub(crate) next: SharedConsumer,
    pub(crate) metrics: ReceiverMetrics,
    pub(crate) messages: Counter,
    pub(crate) unmarshal_failed: Counter,
    /// (header name, attribute key) pairs of `header_extraction`.
    pub(crate) headers: Vec<(String, String)>,
    /// Mark a message refused for good, rather than stop marking its
    /// partition.
    pub(crate) skip_permanent: bool,
    /// Mark a message still refused when `error_backoff` gives up.
    pub(crate) skip_on_error: bool,
    pub(crate) backoff: RetrySettings,
    /// Offsets are committed by librdkafka's timer; otherwise as marked.
    pub(crate) autocommit: bool,
}

enum State {
    /// Answered, or never handed on (empty, undecodable): mark it, or not.
    Done { mark: bool },
    /// Waiting for the pipeline's answer.
    Pending(Receipt),
    /// Refused for now; offered again at this time.
    RetryAt(Instant),
}

struct InFlight {
    topic: Arc<str>,
    partition: i32,
    offset: i64,
    /// Kept (shared with the pipeline) to offer again after a refusal.
    batch: Option<Batch>,
    state: State,
    /// The waits between offers of a refused message, from its first refusal.
    backoff: Option<Backoff>,
}

/// The outcome of the oldest message.
enum Front {
    Mark(bool),
    Refused(ConsumeError),
    Retry,
}

/// Reads until `stop` turns true, then waits for the answers to what is in
/// flight, marks what they allow, commits, and returns.
pub(crate) async fn run(consumer: StreamConsumer, s: Settings, mut stop: watch::Receiver<bool>) {
    let mut window: VecDeque<InFlight> = VecDeque::new();
    let mut blocked: HashSet<(Arc<str>, i32)> = HashSet::new();
    let mut topics: HashSet<Arc<str>> = HashSet::new();
    let mut stopping = *stop.borrow();
    let mut paused = false;
    loop {
        if stopping && window.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            changed = stop.changed(), if !stopping => {
                stopping = changed.is_err() || *stop.borrow();
            }
            front = answer(window.front_mut()), if !window.is_empty() => {
                let outcome = match front {
                    Front::Mark(mark) => Some(mark),
                    Front::Retry => {
                        offer(&s, window.front_mut().expect("window is not empty")).await;
                        None
                    }
                    Front::Refused(error) if error.is_permanent() => {
                        let m = window.front().expect("window is not empty");
                        error!(receiver = %s.receiver, topic = %m.topic, partition = m.partition, offset = m.offset, error = %error,
                            "The pipeline refused a message for good");
                        Some(s.skip_permanent)
                    }
                    Front::Refused(error) => {
                        if stopping {
                            // Not marked: it is read again at the next start.
                            break;
                        }
                        Some(refused_for_now(&s, window.front_mut().expect("window is not empty"), &error))
                            .filter(|mark| *mark)
                    }
                };
                if let Some(mark) = outcome {
                    let m = window.pop_front().expect("window is not empty");
                    mark_offset(&consumer, &s, &mut blocked, m, mark);
                }
                if paused && window.len() <= MAX_IN_FLIGHT / 2 {
                    paused = !set_paused(&consumer, false);
                }
            }
            message = consumer.recv(), if !stopping && window.len() < 2 * MAX_IN_FLIGHT => {
                match message {
                    Ok(m) => {
                        let topic = match topics.get(m.topic()) {
                            Some(t) => t.clone(),
                            None => {
                                let t: Arc<str> = m.topic().into();
                                topics.insert(t.clone());
                                t
                            }
                        };
                        let entry = take(&s, &m, topic).await;
                        window.push_back(entry);
                        if !paused && window.len() >= MAX_IN_FLIGHT {
                            paused = set_paused(&consumer, true);
                        }
                    }
                    Err(e) => {
                        warn!(receiver = %s.receiver, error = %e, "Kafka consumer error");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
    }
    // What was marked is committed now rather than at a timer tick that
    // would not come; nothing marked since the last commit is no error.
    if let Err(e) = consumer.commit_consumer_state(CommitMode::Sync) {
        debug!(receiver = %s.receiver, error = %e, "final commit");
    }
}

/// Waits for the oldest message's answer.
async fn answer(front: Option<&mut InFlight>) -> Front {
    let Some(m) = front else {
        return std::future::pending().await;
    };
    match &mut m.state {
        State::Done { mark } => Front::Mark(*mark),
        State::Pending(receipt) => match receipt.wait().await {
            Ok(()) => {
                m.state = State::Done { mark: true };
                Front::Mark(true)
            }
            Err(e) => {
                // The receipt is spent; what follows replaces it.
                m.state = State::RetryAt(Instant::now());
                Front::Refused(e)
            }
        },
        State::RetryAt(at) => {
            tokio::time::sleep_until((*at).into()).await;
            Front::Retry
        }
    }
}

/// Decodes a message and hands it on.
async fn take(
    s: &Settings,
    m: &rdkafka::message::BorrowedMessage<'_>,
    topic: Arc<str>,
) -> InFlight {
    s.messages.add(1);
    let mut entry = InFlight {
        topic,
        partition: m.partition(),
        offset: m.offset(),
        batch: None,
        state: State::Done { mark: true },
        backoff: None,
    };
    let value = m.payload().unwrap_or_default();
    if value.is_empty() {
        return entry;
    }
    let mut payload = match decode::decode(s.signal, s.encoding, value) {
        Ok(p) => p,
        Err(e) => {
            s.unmarshal_failed.add(1);
            error!(receiver = %s.receiver, topic = %entry.topic, partition = entry.partition, offset = entry.offset, error = %e,
                "failed to unmarshal message");
            entry.state = State::Done {
                mark: s.skip_permanent,
            };
            return entry;
        }
    };
    let mut metadata = vec![
        ("kafka.topic".to_string(), entry.topic.to_string()),
        ("kafka.partition".to_string(), entry.partition.to_string()),
        ("kafka.offset".to_string(), entry.offset.to_string()),
    ];
    let mut found = Vec::new();
    if let Some(headers) = m.headers() {
        for h in headers.iter() {
            let value = String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned();
            if let Some((_, key)) = s.headers.iter().find(|(name, _)| name == h.key)
                && !found.iter().any(|(k, _): &(String, String)| k == key)
            {
                found.push((key.clone(), value.clone()));
            }
            metadata.push((h.key.to_string(), value));
        }
    }
    decode::add_header_attributes(&mut payload, &found);
    let client = Arc::new(ClientInfo {
        addr: None,
        metadata,
    });
    entry.batch = Some(Batch::from_payload(payload, client));
    offer(s, &mut entry).await;
    entry
}

/// Hands the message's batch to the pipeline with a fresh token.
async fn offer(s: &Settings, m: &mut InFlight) {
    let Some(batch) = &m.batch else { return };
    let items = batch.item_count() as u64;
    let (token, receipt) = AckToken::new(Guarantee::Durable);
    match s
        .next
        .consume(batch.clone().with_acks(Acks::one(token)))
        .await
    {
        Ok(()) => {
            s.metrics.accepted.add(items);
            m.state = State::Pending(receipt);
        }
        Err(e) => {
            s.metrics.refused.add(items);
            if e.is_permanent() {
                error!(receiver = %s.receiver, topic = %m.topic, partition = m.partition, offset = m.offset, error = %e,
                    "The pipeline refused a message for good");
                m.state = State::Done {
                    mark: s.skip_permanent,
                };
            } else {
                let mark = refused_for_now(s, m, &e);
                if mark {
                    m.state = State::Done { mark: true };
                }
            }
        }
    }
}

/// Schedules another offer after the backoff; true when `error_backoff`
/// has run out and `on_error` says to skip the message.
fn refused_for_now(s: &Settings, m: &mut InFlight, error: &ConsumeError) -> bool {
    let backoff = m.backoff.get_or_insert_with(|| Backoff::new(&s.backoff));
    let wait = match backoff.next(None) {
        Some(wait) => wait,
        None if s.skip_on_error => {
            error!(receiver = %s.receiver, topic = %m.topic, partition = m.partition, offset = m.offset, error = %error,
                "failed to consume message, skipping due to message_marking config");
            return true;
        }
        None => {
            warn!(receiver = %s.receiver, error = %error, "Stop error backoff because the configured max_elapsed_time is reached; the message is offered again until taken");
            backoff.max_interval()
        }
    };
    info!(receiver = %s.receiver, error = %error, delay = ?wait, "Backing off due to error from the next consumer.");
    m.state = State::RetryAt(Instant::now() + wait);
    false
}

/// Stores the offset after `m` for the next commit, unless its partition
/// stopped being marked.
fn mark_offset(
    consumer: &StreamConsumer,
    s: &Settings,
    blocked: &mut HashSet<(Arc<str>, i32)>,
    m: InFlight,
    mark: bool,
) {
    let key = (m.topic, m.partition);
    if blocked.contains(&key) {
        return;
    }
    if !mark {
        error!(receiver = %s.receiver, topic = %key.0, partition = key.1, offset = m.offset,
            "a message refused for good is not marked (message_marking::on_permanent_error: false); its partition is not marked past it until restart");
        blocked.insert(key);
        return;
    }
    // librdkafka stores offset + 1: the next message to read.
    if let Err(e) = consumer.store_offset(&key.0, key.1, m.offset) {
        // The partition was revoked meanwhile; its new owner reads it again.
        debug!(receiver = %s.receiver, topic = %key.0, partition = key.1, error = %e, "offset not stored");
        return;
    }
    if !s.autocommit
        && let Err(e) = consumer.commit_consumer_state(CommitMode::Async)
    {
        warn!(receiver = %s.receiver, error = %e, "offset commit failed");
    }
}

/// Pauses or resumes every assigned partition; true when done.
fn set_paused(consumer: &StreamConsumer, pause: bool) -> bool {
    let Ok(assignment) = consumer.assignment() else {
        return false;
    };
    let result = if pause {
        consumer.pause(&assignment)
    } else {
        consumer.resume(&assignment)
    };
    result.is_ok()
}
