//! The `clickhouse` exporter: logs, traces and metrics into the tables of
//! the Go collector's `clickhouseexporter` (contrib v0.165): `otel_logs`,
//! `otel_traces` with `otel_traces_trace_id_ts` and its materialized view,
//! and `otel_metrics_{gauge,sum,histogram,exponential_histogram,summary}`,
//! with the same DDL (`sql/`, including `ttl`, `table_engine`,
//! `cluster_name`, `database_engine`) and the same values in each column.
//!
//! It speaks ClickHouse's HTTP interface (Go's default is the native
//! protocol on port 9000; `tcp://` endpoints are refused with a pointer to
//! `http://host:8123`): rows go as `INSERT ... (columns) FORMAT RowBinary`,
//! compressed with `compress` (lz4 by default) as the body's
//! `Content-Encoding`, with `async_insert` (the server answers once the
//! rows are written). The first batch of a signal creates its tables
//! (`create_schema`) and reads them back with `DESC TABLE`: only columns
//! the table has are written, so optional columns such as `EventName`
//! work both ways, and a column of another type stops the exporter with an
//! error naming it. Failures are retried by the queue: connection errors,
//! authentication, missing tables and server errors are retryable (a table
//! that went missing is created or described again); rows the server
//! cannot parse are not, and are dropped with an error.

mod client;
mod config;
mod rows;
mod schema;

pub use config::Config;

use client::ClickHouse;
use config::MetricKind;
use ferrotel_core::async_trait;
use ferrotel_core::component::{
    ComponentError, CreateSettings, ExporterFactory, Metadata, SharedStage,
};
use ferrotel_core::consumer::ConsumeError;
use ferrotel_core::exporter_helper::{ExporterHelper, HelperSettings, Sender};
use ferrotel_core::pdata::{Payload, Signal, Telemetry};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rows::{Encoder, Ty};
use std::sync::{Arc, OnceLock};
use tokio::sync::Mutex;

struct ClickHouseFactory;

/// The factory for the `clickhouse` exporter.
pub fn factory() -> impl ExporterFactory {
    ClickHouseFactory
}

impl ExporterFactory for ClickHouseFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(&self, set: CreateSettings, config: Config) -> Result<SharedStage, ComponentError> {
        let endpoint = config.endpoint()?;
        let database = config.database_name();
        let tls_used = endpoint.base.starts_with("https://");
        // Every statement names its database, so none is selected: the
        // one to create may not exist yet.
        let mut url_prefix = format!("{}/?", endpoint.base);
        for (k, v) in &endpoint.settings {
            client::url_encode(k, &mut url_prefix);
            url_prefix.push('=');
            client::url_encode(v, &mut url_prefix);
            url_prefix.push('&');
        }
        let sender = ClickHouseSender {
            tls_used,
            server: ClickHouse {
                client: OnceLock::new(),
                url_prefix,
                user: config.username.clone(),
                password: config.password.0.clone(),
                compression: config.compression(),
            },
            database,
            tables: [Mutex::new(None), Mutex::new(None), Mutex::new(None)],
            config: config.clone(),
        };
        let settings = HelperSettings {
            id: set.id.clone(),
            timeout: config.timeout(),
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

/// A table ready for inserts.
#[derive(Clone)]
struct Prepared {
    table: String,
    query: String,
    columns: Vec<usize>,
}

/// The prepared tables of one signal: one, or one per metric kind.
type SignalTables = Vec<Prepared>;

struct ClickHouseSender {
    /// Whether the endpoint is `https://`, so that TLS files are read.
    tls_used: bool,
    server: ClickHouse,
    config: Config,
    database: String,
    /// Per signal (traces, metrics, logs), once created and described.
    tables: [Mutex<Option<SignalTables>>; 3],
}

/// The columns ferrotel writes to a table.
type Columns = &'static [(&'static str, Ty)];

/// The tables of a signal, their columns and the column their rows cannot
/// do without.
fn layout(config: &Config, signal: Signal) -> Vec<(String, Columns, &'static str)> {
    match signal {
        Signal::Logs => vec![(
            config.logs_table_name.clone(),
            rows::LOG_COLUMNS,
            "Timestamp",
        )],
        Signal::Traces => vec![(
            config.traces_table_name.clone(),
            rows::SPAN_COLUMNS,
            "Timestamp",
        )],
        Signal::Metrics => MetricKind::ALL
            .iter()
            .map(|&k| (config.metrics_table(k), metric_columns(k), "TimeUnix"))
            .collect(),
        // Not a signal this exporter declares (metadata.yaml): no tables.
        Signal::Profiles => Vec::new(),
    }
}

fn metric_columns(kind: MetricKind) -> Columns {
    match kind {
        MetricKind::Gauge => rows::GAUGE_COLUMNS,
        MetricKind::Sum => rows::SUM_COLUMNS,
        MetricKind::Histogram => rows::HISTOGRAM_COLUMNS,
        MetricKind::ExponentialHistogram => rows::EXP_HISTOGRAM_COLUMNS,
        MetricKind::Summary => rows::SUMMARY_COLUMNS,
    }
}

impl ClickHouseSender {
    async fn run(&self, what: &str, query: &str) -> Result<bytes::Bytes, ConsumeError> {
        self.server
            .query(query, None)
            .await
            .map_err(|e| ConsumeError::retryable(format!("clickhouse: {what}: {}", e.message)))
    }

    /// Creates (with `create_schema`) and describes the tables of a signal.
    async fn prepare(&self, signal: Signal) -> Result<SignalTables, ConsumeError> {
        let c = &self.config;
        if c.create_schema {
            if let Some(ddl) = schema::create_database(c) {
                self.run("create database", &ddl).await?;
            }
            let ddl: Vec<String> = match signal {
                Signal::Logs => {
                    let version = self.run("SELECT version()", "SELECT version()").await?;
                    let full_text =
                        schema::has_full_text_search(&String::from_utf8_lossy(&version));
                    vec![schema::logs_table(c, full_text)]
                }
                Signal::Traces => schema::traces_tables(c).to_vec(),
                Signal::Metrics => MetricKind::ALL
                    .iter()
                    .map(|&k| schema::metrics_table(c, k))
                    .collect(),
                Signal::Profiles => Vec::new(),
            };
            for statement in ddl {
                self.run("create table", &statement).await?;
            }
        }
        let mut prepared = Vec::new();
        for (table, columns, required) in layout(c, signal) {
            let full = format!("{}.{}", self.database, table);
            let described = self
                .run(
                    &format!("describing table {full}"),
                    &format!(
                        "DESC TABLE {}.{} FORMAT TabSeparated",
                        schema::quoted(&self.database),
                        schema::quoted(&table)
                    ),
                )
                .await?;
            let selected = schema::select_columns(
                &full,
                &String::from_utf8_lossy(&described),
                columns,
                required,
            )
            .map_err(|e| ConsumeError::retryable(format!("clickhouse: {e}")))?;
            prepared.push(Prepared {
                query: schema::insert(&self.database, &table, columns, &selected),
                table: full,
                columns: selected,
            });
        }
        Ok(prepared)
    }

    async fn tables(&self, signal: Signal) -> Result<SignalTables, ConsumeError> {
        let mut slot = self.tables[signal as usize].lock().await;
        if let Some(t) = slot.as_ref() {
            return Ok(t.clone());
        }
        let prepared = self.prepare(signal).await.inspect_err(|e| {
            tracing::error!(error = %e, "clickhouse: tables not ready; the batch waits for a retry");
        })?;
        *slot = Some(prepared.clone());
        Ok(prepared)
    }

    async fn insert(
        &self,
        signal: Signal,
        table: &Prepared,
        rows: Vec<u8>,
    ) -> Result<(), ConsumeError> {
        match self.server.query(&table.query, Some(rows)).await {
            Ok(_) => Ok(()),
            Err(e) => {
                if e.code.is_some_and(|c| client::SCHEMA_CHANGED.contains(&c)) {
                    // Created or described again before the next try.
                    *self.tables[signal as usize].lock().await = None;
                }
                Err(e
                    .into_consume_error(&format!("clickhouse: insert into {} failed", table.table)))
            }
        }
    }
}

#[async_trait]
impl Sender for ClickHouseSender {
    async fn start(&self, _host: &ferrotel_core::component::Host) -> Result<(), ComponentError> {
        let connector = self.config.tls.connector(false, self.tls_used)?;
        let _ = self
            .server
            .client
            .set(Client::builder(TokioExecutor::new()).build(connector));
        Ok(())
    }

    async fn send(&self, data: &Payload) -> Result<(), ConsumeError> {
        let signal = data.signal();
        let tables = self.tables(signal).await?;
        let mut encoder = Encoder::default();
        match data.telemetry() {
            Telemetry::Logs(resources) => {
                let mut out = Vec::with_capacity(data.encoded_len() * 2);
                if encoder.logs(resources, &tables[0].columns, &mut out) > 0 {
                    self.insert(signal, &tables[0], out).await?;
                }
            }
            Telemetry::Traces(resources) => {
                let mut out = Vec::with_capacity(data.encoded_len() * 2);
                if encoder.spans(resources, &tables[0].columns, &mut out) > 0 {
                    self.insert(signal, &tables[0], out).await?;
                }
            }
            Telemetry::Metrics(resources) => {
                let columns = MetricKind::ALL.map(metric_columns);
                let selected: [Vec<usize>; 5] = std::array::from_fn(|i| tables[i].columns.clone());
                let mut out: [Vec<u8>; 5] = Default::default();
                let counts = encoder.metrics(resources, &columns, &selected, &mut out);
                let inserts = out
                    .into_iter()
                    .zip(counts)
                    .zip(&tables)
                    .filter(|((_, n), _)| *n > 0)
                    .map(|((rows, _), table)| self.insert(signal, table, rows));
                // Go inserts the kinds concurrently too; a retry after a
                // partial failure inserts the others again.
                for result in futures_util::future::join_all(inserts).await {
                    result?;
                }
            }
            Telemetry::Profiles(_) => {}
        }
        Ok(())
    }
}
