//! The default ferrotel distribution: every component in the workspace.
//!
//! This is the shape the builder generates: build info, the factory
//! registry, and a call into the shared command line.

use ferrotel_core::component::Factories;
use ferrotel_core::service::BuildInfo;
use std::process::ExitCode;

fn components() -> Factories {
    Factories::new()
        .receiver(ferrotel_receiver_otlp::factory())
        .receiver(ferrotel_receiver_file_log::factory())
        .processor(ferrotel_processor_batch::factory())
        .processor(ferrotel_processor_memory_limiter::factory())
        .exporter(ferrotel_exporter_debug::factory())
        .exporter(ferrotel_exporter_file::factory())
        .exporter(ferrotel_exporter_nop::factory())
        .exporter(ferrotel_exporter_otlp_grpc::factory())
        .exporter(ferrotel_exporter_otlp_http::factory())
        .extension(ferrotel_extension_health_check::factory())
        .extension(ferrotel_extension_file_storage::factory())
}

fn main() -> ExitCode {
    let build = BuildInfo {
        command: "ferrotel",
        description: "ferrotel: an OpenTelemetry Collector distribution in Rust",
        version: env!("CARGO_PKG_VERSION"),
    };
    ferrotel_core::cli::run(build, components())
}
