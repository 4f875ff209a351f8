//! The components of this distribution, as its manifest lists them.
//! Each factory brings its own deprecated aliases (`filelog` for
//! `file_log`, ...), which the registry accepts too.

use ferrotel_core::component::Factories;

/// Every factory, receivers first.
pub(crate) fn factories() -> Factories {
    Factories::new()
        .receiver(ferrotel_receiver_file_log::factory())
        .receiver(ferrotel_receiver_kafka::factory())
        .receiver(ferrotel_receiver_otlp::factory())
        .processor(ferrotel_processor_resourcedetection::factory())
        .processor(ferrotel_processor_attributes::factory())
        .processor(ferrotel_processor_resource::factory())
        .processor(ferrotel_processor_filter::factory())
        .processor(ferrotel_processor_transform::factory())
        .processor(ferrotel_processor_batch::factory())
        .processor(ferrotel_processor_memory_limiter::factory())
        .exporter(ferrotel_exporter_clickhouse::factory())
        .exporter(ferrotel_exporter_kafka::factory())
        .exporter(ferrotel_exporter_otlp_grpc::factory())
        .exporter(ferrotel_exporter_otlp_http::factory())
        .connector(ferrotel_connector_forward::factory())
        .connector(ferrotel_connector_routing::factory())
        .extension(ferrotel_extension_file_storage::factory())
        .extension(ferrotel_extension_health_check::factory())
}
