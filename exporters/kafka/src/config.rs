//! The exporter's settings: the Go exporter's keys and defaults
//! (`configkafka.ClientConfig`, `ProducerConfig`, the per-signal
//! `SignalConfig`), and how they become librdkafka settings.

use ferrotel_core::component::ComponentConfig;
use ferrotel_core::config::Validate;
use ferrotel_core::config::{GoDuration, Invalid};
use ferrotel_core::exporter_helper::QueueSettings;
use ferrotel_core::pdata::Signal;
use ferrotel_core::retry::RetrySettings;
use ferrotel_kafka::{Auth, Client, Tls};
use rdkafka::ClientConfig;
use serde::Deserialize;

/// `kafka` exporter settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Bootstrap brokers. Default `localhost:9092`.
    pub brokers: Vec<String>,
    /// Accepted (librdkafka negotiates versions); validated as a version.
    pub protocol_version: String,
    /// Default `otel-collector`.
    pub client_id: String,
    /// Accepted: librdkafka resolves bootstrap names itself.
    pub resolve_canonical_bootstrap_servers_only: bool,
    /// SASL credentials.
    pub auth: Auth,
    /// TLS to the brokers.
    pub tls: Option<Tls>,
    /// Accepted for compatibility (librdkafka refreshes metadata itself).
    pub metadata: serde_yaml_ng::Value,
    /// Accepted for compatibility.
    pub rack_id: String,
    /// Accepted for compatibility.
    pub use_leader_epoch: bool,
    /// Accepted for compatibility.
    pub conn_idle_timeout: Option<GoDuration>,
    /// How long to wait for a connection. Default 10s.
    pub dial_timeout: GoDuration,
    /// Producer settings.
    pub producer: ProducerConfig,
    /// Logs.
    pub logs: SignalConfig,
    /// Metrics.
    pub metrics: SignalConfig,
    /// Traces.
    pub traces: SignalConfig,
    /// Profiles (accepted; ferrotel's kafka exporter does not take profiles yet).
    pub profiles: SignalConfig,
    /// One message per trace, keyed by its trace id.
    pub partition_traces_by_id: bool,
    /// One message per resource, keyed by its attributes.
    pub partition_metrics_by_resource_attributes: bool,
    /// One message per resource, keyed by its attributes.
    pub partition_logs_by_resource_attributes: bool,
    /// One message per trace id, keyed by it.
    pub partition_logs_by_trace_id: bool,
    /// Only `sticky_key` with the `sarama_compat` hasher (the default).
    pub record_partitioner: RecordPartitioner,
    /// Not supported yet.
    pub topic_from_attribute: String,
    /// Not supported yet.
    pub include_metadata_keys: Vec<String>,
    /// Not supported yet.
    pub record_headers: Vec<serde_yaml_ng::Value>,
    /// Not supported yet.
    pub signal_header: bool,
    /// Longest wait for the broker's acknowledgement. Default 5s.
    pub timeout: GoDuration,
    /// Retries.
    pub retry_on_failure: RetrySettings,
    /// The sending queue.
    pub sending_queue: QueueSettings,
}

impl Default for Config {
    fn default() -> Self {
        let signal = |topic: &str| SignalConfig {
            topic: topic.into(),
            ..SignalConfig::default()
        };
        Config {
            brokers: vec!["localhost:9092".into()],
            protocol_version: String::new(),
            client_id: "otel-collector".into(),
            resolve_canonical_bootstrap_servers_only: false,
            auth: Auth::default(),
            tls: None,
            metadata: serde_yaml_ng::Value::Null,
            rack_id: String::new(),
            use_leader_epoch: true,
            conn_idle_timeout: None,
            dial_timeout: GoDuration::secs(10),
            producer: ProducerConfig::default(),
            logs: signal("otlp_logs"),
            metrics: signal("otlp_metrics"),
            traces: signal("otlp_spans"),
            profiles: signal("otlp_profiles"),
            partition_traces_by_id: false,
            partition_metrics_by_resource_attributes: false,
            partition_logs_by_resource_attributes: false,
            partition_logs_by_trace_id: false,
            record_partitioner: RecordPartitioner::default(),
            topic_from_attribute: String::new(),
            include_metadata_keys: Vec::new(),
            record_headers: Vec::new(),
            signal_header: false,
            timeout: GoDuration::secs(5),
            retry_on_failure: RetrySettings::default(),
            sending_queue: QueueSettings::default(),
        }
    }
}

/// Per-signal settings. A signal section that names only some keys keeps
/// the defaults of the others, as Go's decoding onto the default config
/// does: the encoding `otlp_proto`, the topic of the signal.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SignalConfig {
    /// The topic.
    pub topic: String,
    /// `otlp_proto`, `otlp_json`, or `raw` (logs).
    pub encoding: String,
    /// Not supported yet.
    pub topic_from_metadata_key: String,
    /// Not supported yet.
    pub message_key_from_metadata_key: String,
}

impl Default for SignalConfig {
    fn default() -> Self {
        SignalConfig {
            topic: String::new(),
            encoding: "otlp_proto".into(),
            topic_from_metadata_key: String::new(),
            message_key_from_metadata_key: String::new(),
        }
    }
}

/// `producer`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ProducerConfig {
    /// Largest message. Default 1000000.
    pub max_message_bytes: usize,
    /// Accepted for compatibility.
    pub max_broker_write_bytes: Option<usize>,
    /// 0 (none), 1 (leader, default) or -1 (all in-sync replicas).
    pub required_acks: i32,
    /// `none` (default), `gzip`, `snappy`, `lz4`, `zstd`.
    pub compression: String,
    /// `level` for the codec.
    pub compression_params: CompressionParams,
    /// Messages per batch. Default 10000.
    pub flush_max_messages: usize,
    /// Default 1.
    pub max_inflight_requests_per_broker: usize,
    /// Default true.
    pub allow_auto_topic_creation: bool,
    /// How long to wait to fill a batch. Default 10ms.
    pub linger: GoDuration,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            max_message_bytes: 1_000_000,
            max_broker_write_bytes: None,
            required_acks: 1,
            compression: "none".into(),
            compression_params: CompressionParams::default(),
            flush_max_messages: 10_000,
            max_inflight_requests_per_broker: 1,
            allow_auto_topic_creation: true,
            linger: GoDuration::millis(10),
        }
    }
}

/// `compression_params`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct CompressionParams {
    /// The codec's level; 0 is its default.
    pub level: i32,
}

/// `record_partitioner`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct RecordPartitioner {
    /// `{hasher: sarama_compat}`.
    pub sticky_key: Option<StickyKey>,
    /// Not supported yet.
    pub round_robin: Option<serde_yaml_ng::Value>,
    /// Not supported yet.
    pub least_backup: Option<serde_yaml_ng::Value>,
    /// Not supported yet.
    pub extension: Option<String>,
}

/// `record_partitioner::sticky_key`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct StickyKey {
    /// `sarama_compat` (default) or `murmur2` (not supported yet).
    pub hasher: String,
}

impl Config {
    /// The settings of one signal.
    pub(crate) fn signal(&self, signal: Signal) -> &SignalConfig {
        match signal {
            Signal::Logs => &self.logs,
            Signal::Metrics => &self.metrics,
            Signal::Traces => &self.traces,
            Signal::Profiles => &self.profiles,
        }
    }

    /// The topic of one signal: its own, or Go's default for it.
    pub(crate) fn topic(&self, signal: Signal) -> &str {
        match self.signal(signal).topic.as_str() {
            "" => match signal {
                Signal::Logs => "otlp_logs",
                Signal::Metrics => "otlp_metrics",
                Signal::Traces => "otlp_spans",
                Signal::Profiles => "otlp_profiles",
            },
            topic => topic,
        }
    }

    /// The connection keys.
    pub(crate) fn client(&self) -> Client<'_> {
        Client {
            brokers: &self.brokers,
            client_id: &self.client_id,
            protocol_version: &self.protocol_version,
            dial_timeout: self.dial_timeout.0,
            auth: &self.auth,
            tls: self.tls.as_ref(),
        }
    }

    /// The librdkafka producer settings these make.
    pub(crate) fn client_config(&self) -> ClientConfig {
        let mut c = self.client().rdkafka_config();
        let ms = |d: std::time::Duration| d.as_millis().to_string();
        c.set("acks", self.producer.required_acks.to_string())
            .set("compression.codec", &self.producer.compression)
            .set("linger.ms", ms(self.producer.linger.0))
            .set(
                "batch.num.messages",
                self.producer.flush_max_messages.max(1).to_string(),
            )
            // The exporter splits messages to max_message_bytes; the
            // client's own limit leaves room for the record overhead.
            .set(
                "message.max.bytes",
                (self.producer.max_message_bytes + 4096)
                    .clamp(1000, 1_000_000_000)
                    .to_string(),
            )
            .set(
                "allow.auto.create.topics",
                self.producer.allow_auto_topic_creation.to_string(),
            )
            .set(
                "message.timeout.ms",
                self.timeout.0.as_millis().max(1).to_string(),
            )
            // Only the exporter's own queue holds data: a send either
            // completes or fails within `timeout`.
            .set("retries", "2");
        if self.producer.compression_params.level != 0 {
            c.set(
                "compression.level",
                self.producer.compression_params.level.to_string(),
            );
        }
        c
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        self.client().validate()?;
        for (name, s, raw_ok) in [
            ("logs", &self.logs, true),
            ("metrics", &self.metrics, false),
            ("traces", &self.traces, false),
        ] {
            match s.encoding.as_str() {
                "otlp_proto" | "otlp_json" => {}
                "raw" if raw_ok => {}
                "jaeger_proto" | "jaeger_json" | "zipkin_proto" | "zipkin_json" => {
                    return Err(format!(
                        "{name}::encoding: {:?} is not supported by ferrotel yet",
                        s.encoding
                    )
                    .into());
                }
                other => {
                    return Err(format!(
                        "{name}::encoding: unrecognized {name} encoding {other:?}"
                    )
                    .into());
                }
            }
            for (key, set) in [
                ("topic_from_metadata_key", &s.topic_from_metadata_key),
                (
                    "message_key_from_metadata_key",
                    &s.message_key_from_metadata_key,
                ),
            ] {
                if !set.is_empty() {
                    return Err(format!("{name}::{key} is not supported by ferrotel yet").into());
                }
            }
        }
        if self.partition_logs_by_resource_attributes && self.partition_logs_by_trace_id {
            return Err("partition_logs_by_resource_attributes and partition_logs_by_trace_id cannot both be enabled".into());
        }
        for (key, set) in [
            (
                "topic_from_attribute",
                !self.topic_from_attribute.is_empty(),
            ),
            (
                "include_metadata_keys",
                !self.include_metadata_keys.is_empty(),
            ),
            ("record_headers", !self.record_headers.is_empty()),
            ("signal_header", self.signal_header),
            (
                "record_partitioner::round_robin",
                self.record_partitioner.round_robin.is_some(),
            ),
            (
                "record_partitioner::least_backup",
                self.record_partitioner.least_backup.is_some(),
            ),
            (
                "record_partitioner::extension",
                self.record_partitioner.extension.is_some(),
            ),
        ] {
            if set {
                return Err(
                    format!("{key} is not supported by ferrotel's kafka exporter yet").into(),
                );
            }
        }
        if let Some(s) = &self.record_partitioner.sticky_key
            && !matches!(s.hasher.as_str(), "" | "sarama_compat")
        {
            return Err(format!(
                "record_partitioner::sticky_key::hasher: {:?} is not supported yet (sarama_compat is)",
                s.hasher
            )
            .into());
        }
        match self.producer.compression.as_str() {
            "none" | "gzip" | "snappy" | "lz4" | "zstd" => {}
            other => {
                return Err(Invalid::at(
                    "producer",
                    format!(
                        "compression should be one of 'none', 'gzip', 'snappy', 'lz4', or 'zstd'. configured value is {other:?}"
                    ),
                ));
            }
        }
        if !matches!(self.producer.required_acks, -1..=1) {
            return Err(format!(
                "producer::required_acks: {} is not one of 0, 1, -1",
                self.producer.required_acks
            )
            .into());
        }
        if self.producer.max_message_bytes == 0 {
            return Err("producer::max_message_bytes must be positive".into());
        }
        self.retry_on_failure.validate_at("retry_on_failure")?;
        self.sending_queue.validate_at("sending_queue")
    }
}
