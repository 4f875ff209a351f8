//! OTLP receiver over gRPC and HTTP
