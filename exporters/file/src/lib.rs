//! File exporter
