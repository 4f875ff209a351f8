//! The `kafka` exporter: writes telemetry to Kafka topics as the Go
//! collector's `kafkaexporter` (contrib v0.165) does, through librdkafka.
//!
//! Per signal (`logs`, `metrics`, `traces`) a `topic` (defaults
//! `otlp_logs`, `otlp_metrics`, `otlp_spans`) and an `encoding`:
//! `otlp_proto` (default; an encoded request passes through unchanged),
//! `otlp_json`, or for logs `raw` (one message per record, its body).
//! `partition_traces_by_id`, `partition_logs_by_trace_id`,
//! `partition_logs_by_resource_attributes` and
//! `partition_metrics_by_resource_attributes` split a batch into one
//! message per trace or resource, keyed as Go keys them; keyed messages go
//! to Sarama's hash partition (see [`keys`]), so ferrotel and Go put the
//! same data on the same partition. A message over
//! `producer.max_message_bytes` is split at record level; only a single
//! record over the limit is dropped, with an error. A batch is acknowledged
//! once the broker acknowledged every message (`producer.required_acks`).
//! Not supported yet, and refused at load: the Jaeger and Zipkin
//! encodings, `topic_from_attribute`, `topic_from_metadata_key`,
//! `message_key_from_metadata_key`, `include_metadata_keys`,
//! `record_headers`, `signal_header`, Kerberos, AWS MSK IAM and
//! OAUTHBEARER, and record partitioners other than
//! `sticky_key: {hasher: sarama_compat}`.

mod config;
mod keys;
mod messages;

pub use config::Config;

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    ComponentError, CreateSettings, ExporterFactory, Metadata, SharedStage,
};
use ferrotel_core::consumer::ConsumeError;
use ferrotel_core::exporter_helper::{ExporterHelper, HelperSettings, Sender};
use ferrotel_core::pdata::Payload;
use messages::Message;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

struct KafkaFactory;

/// The factory for the `kafka` exporter.
pub fn factory() -> impl ExporterFactory {
    KafkaFactory
}

impl ExporterFactory for KafkaFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(&self, set: CreateSettings, config: Config) -> Result<SharedStage, ComponentError> {
        let sender = KafkaSender {
            producer: OnceLock::new(),
            config: config.clone(),
            partitions: Mutex::new(HashMap::new()),
        };
        let settings = HelperSettings {
            id: set.id.clone(),
            timeout: config.timeout.0,
            retry: config.retry_on_failure,
            queue: config.sending_queue,
        };
        Ok(Arc::new(ExporterHelper::new(
            sender,
            settings,
            &set.telemetry,
        )))
    }
}

/// How long a topic's partition count is trusted before it is fetched again.
const PARTITIONS_TTL: Duration = Duration::from_secs(60);

struct KafkaSender {
    /// Made when the exporter starts, as Go's exporter connects in `Start`,
    /// so `validate` reads no TLS files.
    producer: OnceLock<FutureProducer>,
    config: Config,
    /// Partition counts by topic, for keyed messages.
    partitions: Mutex<HashMap<String, (i32, Instant)>>,
}

impl KafkaSender {
    fn producer(&self) -> Result<&FutureProducer, ConsumeError> {
        self.producer
            .get()
            .ok_or_else(|| ConsumeError::retryable("exporter is not running"))
    }

    /// The number of partitions of `topic`, from the broker's metadata
    /// (which creates the topic when auto-creation is on).
    async fn partition_count(&self, topic: &str) -> Result<i32, ConsumeError> {
        if let Some((n, at)) = self
            .partitions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(topic)
            && at.elapsed() < PARTITIONS_TTL
        {
            return Ok(*n);
        }
        let producer = self.producer()?.clone();
        let wanted = topic.to_string();
        let timeout = self.config.timeout.0;
        // librdkafka's metadata call blocks.
        let found = tokio::task::spawn_blocking(move || {
            let metadata = producer.client().fetch_metadata(Some(&wanted), timeout)?;
            Ok::<_, KafkaError>(
                metadata
                    .topics()
                    .iter()
                    .find(|t| t.name() == wanted)
                    .map_or(0, |t| t.partitions().len() as i32),
            )
        })
        .await
        .map_err(|e| ConsumeError::retryable(format!("metadata task: {e}")))?
        .map_err(|e| ConsumeError::retryable(format!("fetching metadata of {topic}: {e}")))?;
        if found == 0 {
            return Err(ConsumeError::retryable(format!(
                "topic {topic} has no partitions (yet)"
            )));
        }
        self.partitions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(topic.to_string(), (found, Instant::now()));
        Ok(found)
    }
}

#[async_trait]
impl Sender for KafkaSender {
    async fn start(&self, _host: &ferrotel_core::component::Host) -> Result<(), ComponentError> {
        self.config.client().load_tls()?;
        let producer: FutureProducer = self
            .config
            .client_config()
            .create()
            .map_err(|e| format!("creating the Kafka producer: {e}"))?;
        let _ = self.producer.set(producer);
        Ok(())
    }

    async fn send(&self, data: &Payload) -> Result<(), ConsumeError> {
        let producer = self.producer()?;
        let signal = data.signal();
        let topic = self.config.topic(signal);
        let (messages, too_big) = messages::build(data, &self.config, signal)?;
        let keyed = messages.iter().any(|m| m.key.is_some());
        let partitions = if keyed {
            Some(self.partition_count(topic).await?)
        } else {
            None
        };
        let mut deliveries = Vec::with_capacity(messages.len());
        for Message { key, value } in &messages {
            let mut record = FutureRecord::<[u8], [u8]>::to(topic).payload(value);
            if let Some(key) = key {
                record = record.key(key.as_slice());
                if let Some(n) = partitions {
                    record = record.partition(keys::sarama_partition(key, n));
                }
            }
            // Queued locally now; the broker's acknowledgement comes later.
            deliveries.push(producer.send(record, self.config.timeout.0));
        }
        let mut failed: Option<KafkaError> = None;
        let mut failures = 0;
        for d in deliveries {
            if let Err((e, _)) = d.await {
                failures += 1;
                failed.get_or_insert(e);
            }
        }
        if let Some(e) = failed {
            let message = format!("Failed to deliver {failures} messages due to {e}");
            // The same record will be too large again.
            return Err(match e {
                KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge) => {
                    ConsumeError::Permanent(message)
                }
                _ => ConsumeError::retryable(message),
            });
        }
        if too_big > 0 {
            return Err(ConsumeError::Permanent(format!(
                "{too_big} records are larger than producer::max_message_bytes ({}) on their own and were dropped",
                self.config.producer.max_message_bytes
            )));
        }
        Ok(())
    }
}
