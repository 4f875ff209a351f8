"""Sends one trace, a counter and a histogram, and one log record through
the real OpenTelemetry Python SDK, then prints what it sent as JSON.

Usage: python_sdk.py grpc|http ENDPOINT RUN_ID
"""

import json
import logging
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

protocol, endpoint, run_id = sys.argv[1:4]
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

    kw = {"endpoint": endpoint, "insecure": True}
    span_exp, metric_exp, log_exp = OTLPSpanExporter(**kw), OTLPMetricExporter(**kw), OTLPLogExporter(**kw)
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    span_exp = OTLPSpanExporter(endpoint=endpoint + "/v1/traces")
    metric_exp = OTLPMetricExporter(endpoint=endpoint + "/v1/metrics")
    log_exp = OTLPLogExporter(endpoint=endpoint + "/v1/logs")

resource = Resource.create({"service.name": "python-e2e", "run.id": run_id})

tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(SimpleSpanProcessor(span_exp))
tracer = tracer_provider.get_tracer("e2e.python", "0.1")
with tracer.start_as_current_span("py-parent", attributes={"run.id": run_id, "n": 42, "ok": True, "ratio": 0.5, "tags": ["a", "b"]}) as parent:
    parent.add_event("py-event", {"e": 1})
    with tracer.start_as_current_span("py-child") as child:
        pass
ctx_parent, ctx_child = parent.get_span_context(), child.get_span_context()

reader = PeriodicExportingMetricReader(metric_exp, export_interval_millis=60_000)
meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
meter = meter_provider.get_meter("e2e.python")
meter.create_counter("py.requests").add(7, {"route": "/x"})
meter.create_histogram("py.latency", unit="ms").record(12.5)
meter_provider.force_flush()

logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exp))
logger = logging.getLogger("e2e")
logger.addHandler(LoggingHandler(logger_provider=logger_provider))
logger.setLevel(logging.INFO)
with tracer.start_as_current_span("py-log-span") as log_span:
    logger.warning("hello from python %s", run_id)
ctx_log = log_span.get_span_context()

tracer_provider.shutdown()
meter_provider.shutdown()
logger_provider.shutdown()

print(json.dumps({
    "trace_id": format(ctx_parent.trace_id, "032x"),
    "parent_span_id": format(ctx_parent.span_id, "016x"),
    "child_span_id": format(ctx_child.span_id, "016x"),
    "log_trace_id": format(ctx_log.trace_id, "032x"),
}))
