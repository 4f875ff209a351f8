//! The exporter's settings: the Go exporter's keys and defaults (contrib
//! v0.165 `clickhouseexporter.Config`), and what they mean over ClickHouse's
//! HTTP interface.

use ferrotel_core::component::ComponentConfig;
use ferrotel_core::config::Validate;
use ferrotel_core::config::{GoDuration, Invalid};
use ferrotel_core::exporter_helper::QueueSettings;
use ferrotel_core::retry::RetrySettings;
use ferrotel_core::tls::TlsClientSettings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// `clickhouse` exporter settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `http://host:8123` or `https://host:8443`, optionally with a
    /// database path and query parameters. Required.
    pub endpoint: String,
    /// User; `default` when empty.
    pub username: String,
    /// Password.
    pub password: ferrotel_core::config::Opaque,
    /// Database. Default `default` (or the endpoint's).
    pub database: String,
    /// Engine of a database the exporter creates.
    pub database_engine: Engine,
    /// TLS for `https://` endpoints.
    pub tls: TlsClientSettings,
    /// Extra query parameters: ClickHouse settings for every query.
    pub connection_params: BTreeMap<String, String>,
    /// Default `otel_logs`.
    pub logs_table_name: String,
    /// Default `otel_traces`.
    pub traces_table_name: String,
    /// Accepted; ferrotel's clickhouse exporter does not write profiles.
    pub profiles_table_name: String,
    /// Deprecated base name of the metrics tables (`<name>_gauge`, ...).
    pub metrics_table_name: String,
    /// Per-kind metrics table names.
    pub metrics_tables: MetricsTables,
    /// Rows older than this are dropped by ClickHouse; 0 keeps them.
    pub ttl: GoDuration,
    /// Engine of the tables the exporter creates. Default `MergeTree`.
    pub table_engine: Engine,
    /// Adds `ON CLUSTER` to the DDL.
    pub cluster_name: String,
    /// Create the database and tables at start. Default true.
    pub create_schema: bool,
    /// Request body compression: `lz4` (default), `zstd`, `gzip`,
    /// `deflate`, `none`.
    pub compress: String,
    /// Insert with ClickHouse's `async_insert` (the server still answers
    /// only once the rows are written). Default true.
    pub async_insert: bool,
    /// The JSON-typed attribute schema; not supported yet.
    pub json: bool,
    /// Longest time for one insert. Default 5s.
    pub timeout: GoDuration,
    /// Retries.
    pub retry_on_failure: RetrySettings,
    /// The sending queue.
    pub sending_queue: QueueSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: String::new(),
            username: String::new(),
            password: ferrotel_core::config::Opaque::default(),
            database: "default".into(),
            database_engine: Engine::default(),
            tls: TlsClientSettings::default(),
            connection_params: BTreeMap::new(),
            logs_table_name: "otel_logs".into(),
            traces_table_name: "otel_traces".into(),
            profiles_table_name: "otel_profiles".into(),
            metrics_table_name: String::new(),
            metrics_tables: MetricsTables::default(),
            ttl: GoDuration::default(),
            table_engine: Engine::default(),
            cluster_name: String::new(),
            create_schema: true,
            compress: String::new(),
            async_insert: true,
            json: false,
            timeout: GoDuration::secs(5),
            retry_on_failure: RetrySettings::default(),
            sending_queue: QueueSettings::default(),
        }
    }
}

/// `table_engine` or `database_engine`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Engine {
    /// Engine name.
    pub name: String,
    /// Its parameters, as written inside the parentheses.
    pub params: String,
}

/// `metrics_tables`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct MetricsTables {
    /// Gauges.
    pub gauge: TableName,
    /// Sums.
    pub sum: TableName,
    /// Summaries.
    pub summary: TableName,
    /// Histograms.
    pub histogram: TableName,
    /// Exponential histograms.
    pub exponential_histogram: TableName,
}

/// `{name}`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct TableName {
    /// The table.
    pub name: String,
}

/// The metric kinds, each with its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetricKind {
    Gauge,
    Sum,
    Histogram,
    ExponentialHistogram,
    Summary,
}

impl MetricKind {
    pub(crate) const ALL: [MetricKind; 5] = [
        MetricKind::Gauge,
        MetricKind::Sum,
        MetricKind::Histogram,
        MetricKind::ExponentialHistogram,
        MetricKind::Summary,
    ];
}

/// clickhouse-go connection options that may appear in the endpoint's
/// query or `connection_params`: they configure the Go driver, not the
/// server, so they are not sent as settings.
const DRIVER_OPTIONS: &[&str] = &[
    "database",
    "username",
    "password",
    "dial_timeout",
    "read_timeout",
    "compress",
    "compress_level",
    "secure",
    "skip_verify",
    "connection_open_strategy",
    "block_buffer_size",
    "max_compression_buffer",
    "max_open_conns",
    "max_idle_conns",
    "conn_max_lifetime",
    "client_info_product",
    "debug",
    "http_path",
    "http_proxy",
];

/// What the endpoint says once parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `scheme://host:port` with the default port filled in.
    pub(crate) base: String,
    /// The database the endpoint names, if any.
    pub(crate) database: Option<String>,
    /// ClickHouse settings for every query.
    pub(crate) settings: Vec<(String, String)>,
}

impl Config {
    /// Splits the endpoint into the server, its database and settings.
    pub(crate) fn endpoint(&self) -> Result<Endpoint, String> {
        let url: http::Uri = self
            .endpoint
            .parse()
            .map_err(|e| format!("endpoint must be url format: {e}"))?;
        let scheme = url.scheme_str().unwrap_or_default();
        let default_port = match scheme {
            "http" => 8123,
            "https" => 8443,
            "tcp" | "clickhouse" => {
                return Err(format!(
                    "endpoint {:?}: ferrotel speaks ClickHouse's HTTP interface, not the native protocol; use http://host:8123 (or https://host:8443)",
                    self.endpoint
                ));
            }
            _ => return Err(format!("endpoint must be url format: {:?}", self.endpoint)),
        };
        let authority = url
            .authority()
            .ok_or_else(|| format!("endpoint must be url format: {:?}", self.endpoint))?;
        if authority.as_str().contains('@') {
            return Err("endpoint: give credentials in username and password".into());
        }
        let port = authority.port_u16().unwrap_or(default_port);
        let base = format!("{scheme}://{}:{port}", authority.host());
        let path = url.path().trim_matches('/');
        let mut database = (!path.is_empty()).then(|| path.to_string());
        let mut settings = Vec::new();
        let query = url.query().unwrap_or_default();
        let from_url = query.split('&').filter(|p| !p.is_empty()).map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        });
        let params: Vec<(String, String)> = from_url
            .chain(
                self.connection_params
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone())),
            )
            .collect();
        for (k, v) in params {
            if k == "database" {
                database = Some(v);
            } else if !DRIVER_OPTIONS.contains(&k.as_str()) {
                settings.retain(|(s, _): &(String, String)| s != &k);
                settings.push((k, v));
            }
        }
        if !settings.iter().any(|(k, _)| k == "async_insert") {
            settings.push((
                "async_insert".into(),
                u8::from(self.async_insert).to_string(),
            ));
        }
        Ok(Endpoint {
            base,
            database,
            settings,
        })
    }

    /// The database, as Go picks it: `database` unless it is `default`,
    /// then the endpoint's, then `default`.
    pub(crate) fn database_name(&self) -> String {
        if !self.database.is_empty() && self.database != "default" {
            return self.database.clone();
        }
        match self.endpoint().ok().and_then(|e| e.database) {
            Some(db) if !db.is_empty() => db,
            _ => "default".into(),
        }
    }

    /// The table of a metric kind: its own name, or the base name
    /// (`metrics_table_name`, default `otel_metrics`) with Go's suffix.
    pub(crate) fn metrics_table(&self, kind: MetricKind) -> String {
        let t = &self.metrics_tables;
        let any_set = [
            &t.gauge,
            &t.sum,
            &t.summary,
            &t.histogram,
            &t.exponential_histogram,
        ]
        .iter()
        .any(|n| !n.name.is_empty());
        let base = if !self.metrics_table_name.is_empty() && !any_set {
            self.metrics_table_name.as_str()
        } else {
            "otel_metrics"
        };
        let (own, suffix) = match kind {
            MetricKind::Gauge => (&t.gauge, "_gauge"),
            MetricKind::Sum => (&t.sum, "_sum"),
            MetricKind::Summary => (&t.summary, "_summary"),
            MetricKind::Histogram => (&t.histogram, "_histogram"),
            MetricKind::ExponentialHistogram => {
                (&t.exponential_histogram, "_exponential_histogram")
            }
        };
        if own.name.is_empty() {
            format!("{base}{suffix}")
        } else {
            own.name.clone()
        }
    }

    /// The `Content-Encoding` of request bodies, if any.
    pub(crate) fn compression(&self) -> Option<&'static str> {
        match self.compress.as_str() {
            "" | "true" | "lz4" => Some("lz4"),
            "zstd" => Some("zstd"),
            "gzip" => Some("gzip"),
            "deflate" => Some("deflate"),
            _ => None,
        }
    }

    /// The per-attempt timeout.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout.0
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.endpoint.is_empty() {
            return Err("endpoint must be specified".into());
        }
        self.endpoint()?;
        if !matches!(
            self.compress.as_str(),
            "" | "true" | "lz4" | "zstd" | "gzip" | "deflate" | "none" | "false"
        ) {
            return Err(format!(
                "compress: {:?} is not supported (lz4, zstd, gzip, deflate, none are)",
                self.compress
            )
            .into());
        }
        if self.json {
            return Err("json: the JSON attribute schema is not supported by ferrotel yet".into());
        }
        self.tls.validate_at("tls")?;
        self.retry_on_failure.validate_at("retry_on_failure")?;
        self.sending_queue.validate_at("sending_queue")
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
    fn defaults_and_names_are_go_s() {
        let c = load("endpoint: http://ch:8123").unwrap();
        assert_eq!(c.database_name(), "default");
        assert_eq!(c.logs_table_name, "otel_logs");
        assert_eq!(c.traces_table_name, "otel_traces");
        assert_eq!(c.metrics_table(MetricKind::Gauge), "otel_metrics_gauge");
        assert_eq!(
            c.metrics_table(MetricKind::ExponentialHistogram),
            "otel_metrics_exponential_histogram"
        );
        assert_eq!(c.compression(), Some("lz4"));
        assert_eq!(c.timeout(), Duration::from_secs(5));
        assert!(c.create_schema);
        let e = c.endpoint().unwrap();
        assert_eq!(e.base, "http://ch:8123");
        assert_eq!(e.settings, [("async_insert".to_string(), "1".to_string())]);

        let c = load("endpoint: http://ch\nmetrics_table_name: m\ncompress: none").unwrap();
        assert_eq!(c.metrics_table(MetricKind::Sum), "m_sum");
        assert_eq!(c.compression(), None);
        assert_eq!(c.endpoint().unwrap().base, "http://ch:8123");
        let c =
            load("endpoint: http://ch\nmetrics_table_name: m\nmetrics_tables: {gauge: {name: g}}")
                .unwrap();
        assert_eq!(c.metrics_table(MetricKind::Gauge), "g");
        assert_eq!(c.metrics_table(MetricKind::Sum), "otel_metrics_sum");
    }

    #[test]
    fn the_endpoint_carries_database_and_settings() {
        let c = load(
            "endpoint: https://ch/otel?dial_timeout=10s&max_insert_threads=2&async_insert=0\nconnection_params: {insert_quorum: '2'}",
        )
        .unwrap();
        let e = c.endpoint().unwrap();
        assert_eq!(e.base, "https://ch:8443");
        assert_eq!(e.database.as_deref(), Some("otel"));
        assert_eq!(
            e.settings,
            [
                ("max_insert_threads".to_string(), "2".to_string()),
                ("async_insert".to_string(), "0".to_string()),
                ("insert_quorum".to_string(), "2".to_string()),
            ]
        );
        assert_eq!(c.database_name(), "otel");
        let c = load("endpoint: http://ch/otel\ndatabase: logs").unwrap();
        assert_eq!(c.database_name(), "logs");
    }

    #[test]
    fn errors_name_the_key() {
        for (yaml, want) in [
            ("{}", "endpoint must be specified"),
            (
                "endpoint: tcp://127.0.0.1:9000?dial_timeout=10s",
                "endpoint \"tcp://127.0.0.1:9000?dial_timeout=10s\": ferrotel speaks ClickHouse's HTTP interface, not the native protocol; use http://host:8123 (or https://host:8443)",
            ),
            (
                "endpoint: http://ch\ncompress: br",
                "compress: \"br\" is not supported (lz4, zstd, gzip, deflate, none are)",
            ),
            (
                "endpoint: http://ch\njson: true",
                "json: the JSON attribute schema is not supported by ferrotel yet",
            ),
        ] {
            assert_eq!(load(yaml).unwrap_err(), want, "{yaml}");
        }
    }
}
