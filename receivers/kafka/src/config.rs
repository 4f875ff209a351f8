//! The receiver's settings: the Go receiver's keys and defaults
//! (`configkafka.ClientConfig`, `ConsumerConfig`, the per-signal
//! `TopicEncodingConfig`, `message_marking`, `header_extraction`,
//! `error_backoff`), and how they become librdkafka consumer settings.

use ferrotel_core::component::ComponentConfig;
use ferrotel_core::config::Validate;
use ferrotel_core::config::{GoDuration, Invalid};
use ferrotel_core::pdata::Signal;
use ferrotel_core::retry::RetrySettings;
use ferrotel_kafka::{Auth, Client, Tls};
use rdkafka::ClientConfig;
use serde::Deserialize;

/// `kafka` receiver settings.
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
    /// Fetch from the closest replica (`client.rack`).
    pub rack_id: String,
    /// Accepted for compatibility.
    pub use_leader_epoch: bool,
    /// Accepted for compatibility.
    pub conn_idle_timeout: Option<GoDuration>,
    /// How long to wait for a connection. Default 10s.
    pub dial_timeout: GoDuration,
    /// Consumer group liveness. Default 10s.
    pub session_timeout: GoDuration,
    /// Default 3s.
    pub heartbeat_interval: GoDuration,
    /// The consumer group. Default `otel-collector`.
    pub group_id: String,
    /// Where a group without committed offsets starts: `latest` (default)
    /// or `earliest`.
    pub initial_offset: String,
    /// Committing acknowledged offsets.
    pub autocommit: AutoCommit,
    /// Default 1.
    pub min_fetch_size: i32,
    /// Default 1048576.
    pub max_fetch_size: i32,
    /// Default 250ms.
    pub max_fetch_wait: GoDuration,
    /// Default 1048576.
    pub max_partition_fetch_size: i32,
    /// Accepted: librdkafka bounds a batch by the fetch sizes.
    pub max_decompress_batch_bytes: Option<i64>,
    /// `range`, `roundrobin` or `cooperative-sticky` (the default, as in
    /// Go), in order of preference.
    pub group_rebalance_strategies: Vec<String>,
    /// Deprecated single form of `group_rebalance_strategies`.
    pub group_rebalance_strategy: String,
    /// Static group membership.
    pub group_instance_id: String,
    /// Logs.
    pub logs: TopicEncoding,
    /// Metrics.
    pub metrics: TopicEncoding,
    /// Traces.
    pub traces: TopicEncoding,
    /// Profiles (accepted; ferrotel's kafka receiver does not take profiles yet).
    pub profiles: TopicEncoding,
    /// When offsets are marked.
    pub message_marking: MessageMarking,
    /// Accepted when `independent` is false (the default).
    pub partition_processing: PartitionProcessing,
    /// Headers copied onto resource attributes.
    pub header_extraction: HeaderExtraction,
    /// Waits before a refused message is offered again.
    pub error_backoff: RetrySettings,
    /// Accepted for compatibility.
    pub telemetry: serde_yaml_ng::Value,
}

impl Default for Config {
    fn default() -> Self {
        let signal = |topic: &str| TopicEncoding {
            topics: vec![topic.into()],
            ..TopicEncoding::default()
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
            session_timeout: GoDuration::secs(10),
            heartbeat_interval: GoDuration::secs(3),
            group_id: "otel-collector".into(),
            initial_offset: "latest".into(),
            autocommit: AutoCommit::default(),
            min_fetch_size: 1,
            max_fetch_size: 1_048_576,
            max_fetch_wait: GoDuration::millis(250),
            max_partition_fetch_size: 1_048_576,
            max_decompress_batch_bytes: None,
            group_rebalance_strategies: Vec::new(),
            group_rebalance_strategy: String::new(),
            group_instance_id: String::new(),
            logs: signal("otlp_logs"),
            metrics: signal("otlp_metrics"),
            traces: signal("otlp_spans"),
            profiles: signal("otlp_profiles"),
            message_marking: MessageMarking::default(),
            partition_processing: PartitionProcessing::default(),
            header_extraction: HeaderExtraction::default(),
            // Go's zero value: no backoff configured. ferrotel still waits
            // between offers (see `consume`), it never drops.
            error_backoff: RetrySettings {
                enabled: false,
                ..RetrySettings::default()
            },
            telemetry: serde_yaml_ng::Value::Null,
        }
    }
}

/// Per-signal topics and encoding. A section naming only `topics` keeps
/// `encoding: otlp_proto`, as Go's decoding onto the default config does.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TopicEncoding {
    /// Topic names; a name starting with `^` is a regular expression.
    pub topics: Vec<String>,
    /// `otlp_proto` (default), `otlp_json`; for logs also `raw`, `text`
    /// and `text_utf-8`.
    pub encoding: String,
    /// Not supported yet.
    pub exclude_topics: Vec<String>,
}

impl Default for TopicEncoding {
    fn default() -> Self {
        TopicEncoding {
            topics: Vec::new(),
            encoding: "otlp_proto".into(),
            exclude_topics: Vec::new(),
        }
    }
}

/// `autocommit`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AutoCommit {
    /// Commit marked offsets in the background. Default true; when false
    /// they are committed as they are marked.
    pub enable: bool,
    /// Default 1s.
    pub interval: GoDuration,
}

impl Default for AutoCommit {
    fn default() -> Self {
        AutoCommit {
            enable: true,
            interval: GoDuration::secs(1),
        }
    }
}

/// `message_marking`. ferrotel marks a message only once the pipeline
/// has acknowledged it (Go's `after: true`); `after: false`, Go's default,
/// which marks on receipt and loses what was in flight at a crash, is not
/// offered.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct MessageMarking {
    /// Accepted; marking is always after the pipeline's answer.
    pub after: bool,
    /// Accepted; a retryable refusal is offered again until taken.
    pub on_error: bool,
    /// Mark (skip) a message the pipeline refused for good. When false,
    /// its offset stays uncommitted and later messages of the partition
    /// are not marked either, as in Go.
    pub on_permanent_error: Option<bool>,
}

/// `partition_processing`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct PartitionProcessing {
    /// Not supported yet.
    pub independent: bool,
    /// Accepted.
    pub max_buffered_batches: Option<i64>,
    /// Accepted.
    pub max_prefetch: serde_yaml_ng::Value,
    /// Accepted.
    pub max_in_flight: serde_yaml_ng::Value,
}

/// `header_extraction`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct HeaderExtraction {
    /// Copy the listed headers.
    pub extract_headers: bool,
    /// Header names; each becomes the resource attribute
    /// `kafka.header.<name>`.
    pub headers: Vec<String>,
}

/// How messages of a signal are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    OtlpProto,
    OtlpJson,
    /// Logs: the message is one record's body, as bytes.
    Raw,
    /// Logs: the message is one record's body, as UTF-8 text.
    Text,
}

impl Config {
    /// The settings of one signal.
    pub(crate) fn signal(&self, signal: Signal) -> &TopicEncoding {
        match signal {
            Signal::Logs => &self.logs,
            Signal::Metrics => &self.metrics,
            Signal::Traces => &self.traces,
            Signal::Profiles => &self.profiles,
        }
    }

    /// A checked encoding name of one signal.
    pub(crate) fn encoding(&self, signal: Signal) -> Result<Encoding, String> {
        let name = signal.as_str();
        match (self.signal(signal).encoding.as_str(), signal) {
            ("otlp_proto", _) => Ok(Encoding::OtlpProto),
            ("otlp_json", _) => Ok(Encoding::OtlpJson),
            ("raw", Signal::Logs) => Ok(Encoding::Raw),
            ("text" | "text_utf-8" | "text_utf8", Signal::Logs) => Ok(Encoding::Text),
            (
                e @ ("jaeger_proto"
                | "jaeger_json"
                | "zipkin_proto"
                | "zipkin_json"
                | "zipkin_thrift"
                | "json"
                | "azure_resource_logs"),
                _,
            ) => Err(format!(
                "{name}::encoding: {e:?} is not supported by ferrotel yet"
            )),
            (e, Signal::Logs) if e.starts_with("text_") => Err(format!(
                "{name}::encoding: text encoding {:?} is not supported by ferrotel yet (utf-8 is)",
                &e[5..]
            )),
            (e, _) => Err(format!(
                "{name}::encoding: unrecognized {name} encoding {e:?}"
            )),
        }
    }

    /// The partition assignment strategies, in librdkafka's spelling.
    fn assignment_strategy(&self) -> Result<String, String> {
        let listed: Vec<&str> = if !self.group_rebalance_strategy.is_empty() {
            vec![&self.group_rebalance_strategy]
        } else if self.group_rebalance_strategies.is_empty() {
            vec!["cooperative-sticky"]
        } else {
            self.group_rebalance_strategies
                .iter()
                .map(String::as_str)
                .collect()
        };
        for s in &listed {
            if !matches!(*s, "range" | "roundrobin" | "cooperative-sticky") {
                return Err(format!(
                    "group_rebalance_strategies: {s:?} is not supported (range, roundrobin, cooperative-sticky are)"
                ));
            }
        }
        Ok(listed.join(","))
    }

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

    /// The librdkafka consumer settings these make. Offsets are stored
    /// by the receiver once the pipeline answers, never on delivery to
    /// the application.
    pub(crate) fn client_config(&self) -> ClientConfig {
        let mut c = self.client().rdkafka_config();
        let ms = |d: GoDuration| d.0.as_millis().max(1).to_string();
        c.set("group.id", &self.group_id)
            .set("auto.offset.reset", &self.initial_offset)
            .set("enable.auto.offset.store", "false")
            .set("enable.auto.commit", self.autocommit.enable.to_string())
            .set("auto.commit.interval.ms", ms(self.autocommit.interval))
            .set("session.timeout.ms", ms(self.session_timeout))
            .set("heartbeat.interval.ms", ms(self.heartbeat_interval))
            .set("fetch.min.bytes", self.min_fetch_size.max(1).to_string())
            .set("fetch.max.bytes", self.max_fetch_size.max(1).to_string())
            .set("fetch.wait.max.ms", ms(self.max_fetch_wait))
            .set(
                "max.partition.fetch.bytes",
                self.max_partition_fetch_size.max(1).to_string(),
            )
            // A large message is fetched whole even past fetch.max.bytes;
            // this only bounds librdkafka's prefetch queue.
            .set("queued.max.messages.kbytes", "65536")
            .set(
                "partition.assignment.strategy",
                self.assignment_strategy().unwrap_or_default(),
            );
        if !self.group_instance_id.is_empty() {
            c.set("group.instance.id", &self.group_instance_id);
        }
        if !self.rack_id.is_empty() {
            c.set("client.rack", &self.rack_id);
        }
        c
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        self.client().validate()?;
        if !matches!(self.initial_offset.as_str(), "latest" | "earliest") {
            return Err(format!(
                "initial_offset should be one of 'latest' or 'earliest'. configured value {}",
                self.initial_offset
            )
            .into());
        }
        if !self.group_rebalance_strategy.is_empty() && !self.group_rebalance_strategies.is_empty()
        {
            return Err(
                "group_rebalance_strategy and group_rebalance_strategies are mutually exclusive"
                    .into(),
            );
        }
        self.assignment_strategy()?;
        if self.max_fetch_size < self.min_fetch_size {
            return Err(format!(
                "max_fetch_size ({}) cannot be less than min_fetch_size ({})",
                self.max_fetch_size, self.min_fetch_size
            )
            .into());
        }
        for signal in [Signal::Logs, Signal::Metrics, Signal::Traces] {
            self.encoding(signal)?;
            let s = self.signal(signal);
            let name = signal.as_str();
            if !s.exclude_topics.is_empty() {
                return Err(
                    format!("{name}::exclude_topics is not supported by ferrotel yet").into(),
                );
            }
            if s.topics.iter().any(String::is_empty) {
                return Err(format!("{name}::topics contains an empty topic").into());
            }
        }
        if self.partition_processing.independent {
            return Err(
                "partition_processing::independent is not supported by ferrotel yet".into(),
            );
        }
        if self.header_extraction.extract_headers
            && self.header_extraction.headers.iter().any(String::is_empty)
        {
            return Err("header_extraction::headers contains an empty name".into());
        }
        self.error_backoff.validate_at("error_backoff")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str) -> Result<Config, String> {
        let c: Config = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn defaults_are_go_defaults() {
        let c = load("{}").unwrap();
        assert_eq!(c.logs.topics, ["otlp_logs"]);
        assert_eq!(c.metrics.topics, ["otlp_metrics"]);
        assert_eq!(c.traces.topics, ["otlp_spans"]);
        let rd = c.client_config();
        assert_eq!(rd.get("group.id"), Some("otel-collector"));
        assert_eq!(rd.get("client.id"), Some("otel-collector"));
        assert_eq!(rd.get("auto.offset.reset"), Some("latest"));
        assert_eq!(rd.get("enable.auto.offset.store"), Some("false"));
        assert_eq!(rd.get("auto.commit.interval.ms"), Some("1000"));
        assert_eq!(rd.get("session.timeout.ms"), Some("10000"));
        assert_eq!(rd.get("heartbeat.interval.ms"), Some("3000"));
        assert_eq!(rd.get("fetch.wait.max.ms"), Some("250"));
        assert_eq!(
            rd.get("partition.assignment.strategy"),
            Some("cooperative-sticky")
        );
        assert_eq!(c.encoding(Signal::Logs), Ok(Encoding::OtlpProto));
    }

    #[test]
    fn a_section_naming_only_topics_keeps_otlp_proto() {
        let c = load("logs: {topics: [a, '^b.*']}\ntraces: {encoding: otlp_json}").unwrap();
        assert_eq!(c.logs.topics, ["a", "^b.*"]);
        assert_eq!(c.encoding(Signal::Logs), Ok(Encoding::OtlpProto));
        assert_eq!(c.traces.topics, Vec::<String>::new());
        assert_eq!(c.encoding(Signal::Traces), Ok(Encoding::OtlpJson));
    }

    #[test]
    fn errors_name_the_key() {
        for (yaml, want) in [
            (
                "initial_offset: middle",
                "initial_offset should be one of 'latest' or 'earliest'. configured value middle",
            ),
            (
                "metrics: {encoding: raw}",
                "metrics::encoding: unrecognized metrics encoding \"raw\"",
            ),
            (
                "traces: {encoding: zipkin_json}",
                "traces::encoding: \"zipkin_json\" is not supported by ferrotel yet",
            ),
            (
                "logs: {topics: ['^a'], exclude_topics: [b]}",
                "logs::exclude_topics is not supported by ferrotel yet",
            ),
            (
                "group_rebalance_strategies: [sticky]",
                "group_rebalance_strategies: \"sticky\" is not supported (range, roundrobin, cooperative-sticky are)",
            ),
            (
                "min_fetch_size: 10\nmax_fetch_size: 5",
                "max_fetch_size (5) cannot be less than min_fetch_size (10)",
            ),
            (
                "partition_processing: {independent: true}",
                "partition_processing::independent is not supported by ferrotel yet",
            ),
        ] {
            assert_eq!(load(yaml).unwrap_err(), want, "{yaml}");
        }
        for ok in [
            "logs: {encoding: raw}",
            "logs: {encoding: text}",
            "logs: {encoding: text_utf-8}",
        ] {
            load(ok).unwrap();
        }
    }
}
