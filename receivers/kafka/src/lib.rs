//! The `kafka` receiver: reads telemetry from Kafka topics as the Go
//! collector's `kafkareceiver` (contrib v0.165) does, through librdkafka,
//! and commits a message's offset only once the pipeline has taken it
//! for good (delivered, or in a persistent queue).
//!
//! Per signal (`logs`, `metrics`, `traces`) a list of `topics` (defaults
//! `otlp_logs`, `otlp_metrics`, `otlp_spans`; a name starting with `^` is
//! a regular expression) and an `encoding`: `otlp_proto` (default; the
//! request passes on without decoding), `otlp_json`, or for logs `raw`
//! (the message is one record's body, as bytes) and `text` (as UTF-8
//! text). Each signal used in a pipeline gets its own consumer in the
//! consumer group `group_id`, as in Go. `header_extraction` copies listed
//! headers onto resource attributes `kafka.header.<name>`; the topic,
//! partition, offset and every header are the batch's client metadata.
//!
//! Unlike Go's default (`message_marking::after: false`, marking on
//! receipt), a message is always marked after the pipeline answers, in
//! order per partition; while more than a thousand messages wait for an
//! answer, fetching pauses. A retryable refusal offers the message again
//! after a backoff (`error_backoff`, else 5s growing to 30s); a message
//! that cannot be decoded or is refused for good is logged, counted and
//! skipped, unless `message_marking::on_permanent_error: false`. Not
//! supported yet, and refused at load: the Jaeger, Zipkin, `json` and
//! Azure encodings, `exclude_topics`, `partition_processing::independent`,
//! Kerberos, AWS MSK IAM and OAUTHBEARER.

mod config;
mod consume;
mod decode;

pub use config::Config;

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentError, CreateSettings, Host, Metadata, ReceiverFactory, SignalConsumers,
};
use ferrotel_core::config::GoDuration;
use ferrotel_core::pdata::Signal;
use ferrotel_core::telemetry::{ReceiverMetrics, Telemetry as SelfTelemetry};
use rdkafka::consumer::{Consumer, StreamConsumer};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long shutdown waits for the answers to messages in flight, so their
/// offsets are committed; what is left is read again at the next start.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

struct KafkaFactory;

/// The factory for the `kafka` receiver.
pub fn factory() -> impl ReceiverFactory {
    KafkaFactory
}

impl ReceiverFactory for KafkaFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        set: CreateSettings,
        config: Config,
        next: SignalConsumers,
    ) -> Result<Box<dyn Component>, ComponentError> {
        Ok(Box::new(KafkaReceiver {
            id: set.id.to_string(),
            telemetry: set.telemetry,
            config,
            next,
            running: Mutex::new(None),
        }))
    }
}

struct KafkaReceiver {
    id: String,
    telemetry: SelfTelemetry,
    config: Config,
    next: SignalConsumers,
    running: Mutex<Option<Running>>,
}

struct Running {
    stop: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
}

impl KafkaReceiver {
    fn settings(&self, signal: Signal) -> Result<consume::Settings, ComponentError> {
        let c = &self.config;
        let next = self
            .next
            .get(signal)
            .cloned()
            .ok_or("no consumer for the signal")?;
        let t = &self.telemetry;
        let labels = [("receiver", self.id.as_str())];
        let mut backoff = c.error_backoff.clone();
        if !backoff.enabled {
            backoff.initial_interval = GoDuration::secs(5);
            backoff.max_interval = GoDuration::secs(30);
            backoff.max_elapsed_time = GoDuration::default();
        }
        Ok(consume::Settings {
            receiver: self.id.clone(),
            signal,
            encoding: c.encoding(signal)?,
            next,
            metrics: ReceiverMetrics::new(t, &self.id, "kafka", signal),
            messages: t.registry.counter(
                "otelcol_kafka_receiver_messages",
                "The number of received messages.",
                &labels,
            ),
            unmarshal_failed: t.registry.counter(
                &format!(
                    "otelcol_kafka_receiver_unmarshal_failed_{}",
                    signal.item_name()
                ),
                &format!("Number of {} failed to be unmarshaled", signal.item_name()),
                &labels,
            ),
            headers: if c.header_extraction.extract_headers {
                c.header_extraction
                    .headers
                    .iter()
                    .map(|h| (h.clone(), format!("kafka.header.{h}")))
                    .collect()
            } else {
                Vec::new()
            },
            skip_permanent: c.message_marking.on_permanent_error.unwrap_or(true),
            skip_on_error: c.message_marking.on_error,
            backoff,
            autocommit: c.autocommit.enable,
        })
    }
}

#[async_trait]
impl Component for KafkaReceiver {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        self.config.client().load_tls()?;
        let (stop, stopped) = watch::channel(false);
        let mut loops = Vec::new();
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            if self.next.get(signal).is_none() {
                continue;
            }
            let settings = self.settings(signal)?;
            let consumer: StreamConsumer = self
                .config
                .client_config()
                .create()
                .map_err(|e| format!("kafka receiver: {e}"))?;
            let topics: Vec<&str> = self
                .config
                .signal(signal)
                .topics
                .iter()
                .map(String::as_str)
                .collect();
            let topics = if topics.is_empty() {
                vec![match signal {
                    Signal::Logs => "otlp_logs",
                    Signal::Metrics => "otlp_metrics",
                    Signal::Traces => "otlp_spans",
                    Signal::Profiles => "otlp_profiles",
                }]
            } else {
                topics
            };
            consumer
                .subscribe(&topics)
                .map_err(|e| format!("kafka receiver: subscribing to {topics:?}: {e}"))?;
            loops.push(tokio::spawn(consume::run(
                consumer,
                settings,
                stopped.clone(),
            )));
        }
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(Running { stop, loops });
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(r) = running {
            let _ = r.stop.send(true);
            let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
            for handle in r.loops {
                // A loop still waiting at the deadline goes on while the
                // pipeline drains behind this receiver.
                let _ = tokio::time::timeout_at(deadline, handle).await;
            }
        }
        Ok(())
    }
}
