//! OTLP HTTP exporter
