//! The Go exporter's tables (contrib v0.165 `internal/sqltemplates`,
//! copied into `sql/`), rendered as Go renders them, and what `DESC TABLE`
//! says about a table: which of the columns ferrotel writes it has.

use crate::config::{Config, MetricKind};
use crate::rows::Ty;
use std::time::Duration;

const LOGS_TABLE: &str = include_str!("../sql/logs_table.sql");
const LOGS_INDEXES_TEXT: &str = include_str!("../sql/logs_indexes_text.sql");
const LOGS_INDEXES_BLOOM: &str = include_str!("../sql/logs_indexes_bloom.sql");
const TRACES_TABLE: &str = include_str!("../sql/traces_table.sql");
const TRACES_ID_TS_TABLE: &str = include_str!("../sql/traces_id_ts_table.sql");
const TRACES_ID_TS_MV: &str = include_str!("../sql/traces_id_ts_mv.sql");
const METRICS_GAUGE: &str = include_str!("../sql/metrics_gauge_table.sql");
const METRICS_SUM: &str = include_str!("../sql/metrics_sum_table.sql");
const METRICS_HISTOGRAM: &str = include_str!("../sql/metrics_histogram_table.sql");
const METRICS_EXP_HISTOGRAM: &str = include_str!("../sql/metrics_exp_histogram_table.sql");
const METRICS_SUMMARY: &str = include_str!("../sql/metrics_summary_table.sql");

/// The first ClickHouse version with `text` indexes; older servers get
/// bloom filters on the logs table, as in Go.
const FULL_TEXT_SEARCH: (u32, u32) = (26, 2);

/// A name inside Go's `%q`: double quotes, `"` and `\` escaped.
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A name as the logs templates' `ident` writes it: backquotes.
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "\\`"))
}

fn inside_quotes(name: &str) -> String {
    name.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `GenerateTTLExpr`: the largest whole unit of `ttl`.
pub(crate) fn ttl_expr(ttl: Duration, field: &str) -> String {
    let s = ttl.as_secs();
    if ttl.is_zero() {
        String::new()
    } else if s.is_multiple_of(86_400) && ttl.subsec_nanos() == 0 {
        format!("TTL {field} + toIntervalDay({})", s / 86_400)
    } else if s.is_multiple_of(3600) && ttl.subsec_nanos() == 0 {
        format!("TTL {field} + toIntervalHour({})", s / 3600)
    } else if s.is_multiple_of(60) && ttl.subsec_nanos() == 0 {
        format!("TTL {field} + toIntervalMinute({})", s / 60)
    } else {
        format!("TTL {field} + toIntervalSecond({s})")
    }
}

fn cluster(c: &Config) -> String {
    if c.cluster_name.is_empty() {
        String::new()
    } else {
        format!("ON CLUSTER `{}`", c.cluster_name.replace('`', "``"))
    }
}

/// A Replicated database replicates table DDL itself: no `ON CLUSTER`.
fn table_cluster(c: &Config) -> String {
    if c.database_engine.name == "Replicated" && c.database_name() != "default" {
        String::new()
    } else {
        cluster(c)
    }
}

fn engine(c: &Config) -> String {
    if c.table_engine.name.is_empty() {
        "MergeTree()".into()
    } else {
        format!("{}({})", c.table_engine.name, c.table_engine.params)
    }
}

/// `CREATE DATABASE`, unless the database is `default`.
pub(crate) fn create_database(c: &Config) -> Option<String> {
    let db = c.database_name();
    if db == "default" {
        return None;
    }
    let engine = match (&c.database_engine.name, &c.database_engine.params) {
        (name, _) if name.is_empty() => String::new(),
        (name, params) if params.is_empty() => format!("ENGINE = {name}"),
        (name, params) => format!("ENGINE = {name}({params})"),
    };
    Some(format!(
        "CREATE DATABASE IF NOT EXISTS {} {} {}",
        quoted(&db),
        cluster(c),
        engine
    ))
}

fn render(template: &str, c: &Config, table: &str, ttl_field: &str) -> String {
    let db = c.database_name();
    template
        .replace("{db_ident}", &ident(&db))
        .replace("{table_ident}", &ident(table))
        .replace("{db}", &inside_quotes(&db))
        .replace("{table}", &inside_quotes(table))
        .replace("{cluster}", &table_cluster(c))
        .replace("{engine}", &engine(c))
        .replace("{ttl}", &ttl_expr(c.ttl.0, ttl_field))
}

/// Whether a `version()` string is at least 26.2.
pub(crate) fn has_full_text_search(version: &str) -> bool {
    let mut parts = version
        .trim()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= FULL_TEXT_SEARCH
}

/// The logs table.
pub(crate) fn logs_table(c: &Config, full_text: bool) -> String {
    let indexes = if full_text {
        LOGS_INDEXES_TEXT
    } else {
        LOGS_INDEXES_BLOOM
    };
    render(
        &LOGS_TABLE.replace("{indexes}\n", indexes),
        c,
        &c.logs_table_name,
        "toDateTime(Timestamp)",
    )
}

/// The traces table, its trace-id lookup table and the view filling it.
pub(crate) fn traces_tables(c: &Config) -> [String; 3] {
    let t = &c.traces_table_name;
    [
        render(TRACES_TABLE, c, t, "toDateTime(Timestamp)"),
        render(TRACES_ID_TS_TABLE, c, t, "toDateTime(Start)"),
        render(TRACES_ID_TS_MV, c, t, ""),
    ]
}

/// The table of one metric kind.
pub(crate) fn metrics_table(c: &Config, kind: MetricKind) -> String {
    let template = match kind {
        MetricKind::Gauge => METRICS_GAUGE,
        MetricKind::Sum => METRICS_SUM,
        MetricKind::Histogram => METRICS_HISTOGRAM,
        MetricKind::ExponentialHistogram => METRICS_EXP_HISTOGRAM,
        MetricKind::Summary => METRICS_SUMMARY,
    };
    render(template, c, &c.metrics_table(kind), "toDateTime(TimeUnix)")
}

/// Of `wanted`, the columns the table has (by index), checked against the
/// types `DESC TABLE` printed (TabSeparated: name, type, default kind,
/// ...). Computed columns are never written.
pub(crate) fn select_columns(
    table: &str,
    described: &str,
    wanted: &[(&str, Ty)],
    required: &str,
) -> Result<Vec<usize>, String> {
    let mut have = Vec::new();
    for line in described.lines() {
        let mut fields = line.split('\t');
        let (Some(name), Some(ty)) = (fields.next(), fields.next()) else {
            continue;
        };
        let default_kind = fields.next().unwrap_or_default();
        if matches!(default_kind, "MATERIALIZED" | "ALIAS" | "EPHEMERAL") {
            continue;
        }
        have.push((unescape(name), unescape(ty)));
    }
    let mut selected = Vec::new();
    for (i, (name, ty)) in wanted.iter().enumerate() {
        let Some((_, described)) = have.iter().find(|(n, _)| n == name) else {
            continue;
        };
        if !ty.accepts(described) {
            return Err(format!(
                "table {table}: column {name} has type {described}; ferrotel writes it as {}",
                ty.name()
            ));
        }
        selected.push(i);
    }
    if !selected.iter().any(|&i| wanted[i].0 == required) {
        return Err(format!(
            "table {table} has no column {required} (it has: {})",
            have.iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(selected)
}

/// Undoes TabSeparated escaping.
fn unescape(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_string();
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// `INSERT INTO db.table (columns) FORMAT RowBinary`.
pub(crate) fn insert(
    database: &str,
    table: &str,
    wanted: &[(&str, Ty)],
    selected: &[usize],
) -> String {
    let columns: Vec<String> = selected.iter().map(|&i| ident(wanted[i].0)).collect();
    format!(
        "INSERT INTO {}.{} ({}) FORMAT RowBinary",
        ident(database),
        ident(table),
        columns.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::LOG_COLUMNS;

    fn config(yaml: &str) -> Config {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn ttl_is_the_largest_whole_unit() {
        let f = "toDateTime(Timestamp)";
        assert_eq!(ttl_expr(Duration::ZERO, f), "");
        assert_eq!(
            ttl_expr(Duration::from_secs(72 * 3600), f),
            "TTL toDateTime(Timestamp) + toIntervalDay(3)"
        );
        assert_eq!(
            ttl_expr(Duration::from_secs(5 * 3600), f),
            "TTL toDateTime(Timestamp) + toIntervalHour(5)"
        );
        assert_eq!(
            ttl_expr(Duration::from_secs(90 * 60), f),
            "TTL toDateTime(Timestamp) + toIntervalMinute(90)"
        );
        assert_eq!(
            ttl_expr(Duration::from_secs(61), f),
            "TTL toDateTime(Timestamp) + toIntervalSecond(61)"
        );
    }

    #[test]
    fn ddl_is_rendered_as_go_renders_it() {
        let c = config(
            "endpoint: http://ch:8123\ndatabase: otel\nttl: 72h\ncluster_name: c1\ntable_engine: {name: ReplicatedMergeTree, params: \"'/t/{shard}', '{replica}'\"}",
        );
        assert_eq!(
            create_database(&c).unwrap(),
            "CREATE DATABASE IF NOT EXISTS \"otel\" ON CLUSTER `c1` "
        );
        let logs = logs_table(&c, true);
        assert!(
            logs.starts_with("CREATE TABLE IF NOT EXISTS `otel`.`otel_logs` ON CLUSTER `c1` (")
        );
        assert!(logs.contains("INDEX idx_trace_id TraceId TYPE text(tokenizer = 'array'),"));
        assert!(logs.contains(") ENGINE = ReplicatedMergeTree('/t/{shard}', '{replica}')\n"));
        assert!(logs.contains("TTL toDateTime(Timestamp) + toIntervalDay(3)\n"));
        assert!(logs_table(&c, false).contains("TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8"));
        let [traces, lookup, view] = traces_tables(&c);
        assert!(
            traces.starts_with(
                "CREATE TABLE IF NOT EXISTS \"otel\".\"otel_traces\" ON CLUSTER `c1` ("
            )
        );
        assert!(lookup.starts_with(
            "CREATE TABLE IF NOT EXISTS \"otel\".\"otel_traces_trace_id_ts\" ON CLUSTER `c1` ("
        ));
        assert!(lookup.contains("TTL toDateTime(Start) + toIntervalDay(3)"));
        assert!(view.starts_with("CREATE MATERIALIZED VIEW IF NOT EXISTS \"otel\".\"otel_traces_trace_id_ts_mv\" ON CLUSTER `c1`\nTO \"otel\".\"otel_traces_trace_id_ts\""));
        let sum = metrics_table(&c, MetricKind::Sum);
        assert!(sum.starts_with(
            "CREATE TABLE IF NOT EXISTS \"otel\".\"otel_metrics_sum\" ON CLUSTER `c1` ("
        ));
        assert!(sum.contains("TTL toDateTime(TimeUnix) + toIntervalDay(3)"));
        let replicated = config(
            "endpoint: http://ch\ndatabase: otel\ncluster_name: c1\ndatabase_engine: {name: Replicated, params: \"'/db'\"}",
        );
        assert_eq!(
            create_database(&replicated).unwrap(),
            "CREATE DATABASE IF NOT EXISTS \"otel\" ON CLUSTER `c1` ENGINE = Replicated('/db')"
        );
        assert!(
            logs_table(&replicated, true)
                .starts_with("CREATE TABLE IF NOT EXISTS `otel`.`otel_logs`  (")
        );
        assert_eq!(create_database(&config("endpoint: http://ch")), None);
    }

    #[test]
    fn versions_with_text_indexes() {
        assert!(has_full_text_search("26.9.2.1"));
        assert!(has_full_text_search("26.2"));
        assert!(!has_full_text_search("26.1.5"));
        assert!(!has_full_text_search("25.12.1"));
    }

    #[test]
    fn described_columns_select_what_is_written() {
        let desc = "Timestamp\tDateTime64(9)\t\t\t\tDelta(8), ZSTD(3)\t\n\
                    Body\tString\n\
                    ServiceName\tLowCardinality(String)\n\
                    ResourceAttributes\tMap(LowCardinality(String), String)\n\
                    __otel_materialized_k8s.pod.name\tLowCardinality(String)\tMATERIALIZED\tResourceAttributes['k8s.pod.name']\n";
        let selected = select_columns("otel_logs", desc, LOG_COLUMNS, "Timestamp").unwrap();
        let names: Vec<&str> = selected.iter().map(|&i| LOG_COLUMNS[i].0).collect();
        assert_eq!(
            names,
            ["Timestamp", "ServiceName", "Body", "ResourceAttributes"]
        );
        assert_eq!(
            insert("otel", "otel_logs", LOG_COLUMNS, &selected),
            "INSERT INTO `otel`.`otel_logs` (`Timestamp`, `ServiceName`, `Body`, `ResourceAttributes`) FORMAT RowBinary"
        );
        assert_eq!(
            select_columns(
                "otel_logs",
                "Timestamp\tDateTime64(9)\nBody\tJSON\n",
                LOG_COLUMNS,
                "Timestamp"
            )
            .unwrap_err(),
            "table otel_logs: column Body has type JSON; ferrotel writes it as String"
        );
        assert_eq!(
            select_columns("otel_logs", "Body\tString\n", LOG_COLUMNS, "Timestamp").unwrap_err(),
            "table otel_logs has no column Timestamp (it has: Body)"
        );
    }
}
