//! OTLP gRPC exporter
