//! ocb manifests: a component entry with `gomod:` names a Go module; when
//! ferrotel has the same component, the entry means that crate, taken from
//! the ferrotel checkout the builder was built from. So a manifest written
//! for the Go collector's builder builds a ferrotel with the same
//! components, or says which of them ferrotel lacks.

/// Go module path -> (ferrotel crate, its folder in the workspace).
const MODULES: &[(&str, &str, &str)] = &[
    (
        "go.opentelemetry.io/collector/receiver/otlpreceiver",
        "ferrotel-receiver-otlp",
        "receivers/otlp",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/filelogreceiver",
        "ferrotel-receiver-file-log",
        "receivers/file_log",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/kafkareceiver",
        "ferrotel-receiver-kafka",
        "receivers/kafka",
    ),
    (
        "go.opentelemetry.io/collector/processor/batchprocessor",
        "ferrotel-processor-batch",
        "processors/batch",
    ),
    (
        "go.opentelemetry.io/collector/processor/memorylimiterprocessor",
        "ferrotel-processor-memory-limiter",
        "processors/memory_limiter",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor",
        "ferrotel-processor-transform",
        "processors/transform",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor",
        "ferrotel-processor-attributes",
        "processors/attributes",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/processor/resourceprocessor",
        "ferrotel-processor-resource",
        "processors/resource",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/processor/resourcedetectionprocessor",
        "ferrotel-processor-resourcedetection",
        "processors/resourcedetection",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/processor/filterprocessor",
        "ferrotel-processor-filter",
        "processors/filter",
    ),
    (
        "go.opentelemetry.io/collector/exporter/debugexporter",
        "ferrotel-exporter-debug",
        "exporters/debug",
    ),
    (
        "go.opentelemetry.io/collector/exporter/nopexporter",
        "ferrotel-exporter-nop",
        "exporters/nop",
    ),
    (
        "go.opentelemetry.io/collector/exporter/otlpexporter",
        "ferrotel-exporter-otlp-grpc",
        "exporters/otlp_grpc",
    ),
    (
        "go.opentelemetry.io/collector/exporter/otlphttpexporter",
        "ferrotel-exporter-otlp-http",
        "exporters/otlp_http",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/kafkaexporter",
        "ferrotel-exporter-kafka",
        "exporters/kafka",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/clickhouseexporter",
        "ferrotel-exporter-clickhouse",
        "exporters/clickhouse",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter",
        "ferrotel-exporter-file",
        "exporters/file",
    ),
    (
        "go.opentelemetry.io/collector/connector/forwardconnector",
        "ferrotel-connector-forward",
        "connectors/forward",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/connector/routingconnector",
        "ferrotel-connector-routing",
        "connectors/routing",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension",
        "ferrotel-extension-health-check",
        "extensions/health_check",
    ),
    (
        "github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage",
        "ferrotel-extension-file-storage",
        "extensions/file_storage",
    ),
];

/// The ferrotel crate and workspace folder for a `gomod` value
/// (`"<module> <version>"`), or why there is none.
pub(crate) fn crate_for(gomod: &str) -> Result<(&'static str, &'static str), String> {
    let module = gomod.split_whitespace().next().unwrap_or("");
    MODULES
        .iter()
        .find(|(m, _, _)| *m == module)
        .map(|(_, krate, dir)| (*krate, *dir))
        .ok_or_else(|| {
            let known: Vec<&str> = MODULES.iter().map(|(m, _, _)| *m).collect();
            format!(
                "ferrotel has no component for Go module {module:?}; it has: {}",
                known.join(", ")
            )
        })
}
