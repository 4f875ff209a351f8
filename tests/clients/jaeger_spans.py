"""Sends one trace with a real Jaeger client, for ferrotel's jaeger tests.

usage: jaeger_spans.py MODE TARGET
  otel-compact HOST:PORT  OpenTelemetry's Jaeger Thrift exporter, agent UDP (compact)
  otel-http URL           the same exporter, collector HTTP (/api/traces)
  otel-grpc HOST:PORT     OpenTelemetry's Jaeger protobuf exporter, gRPC PostSpans
  jaeger-client HOST:PORT jaeger-client (the Jaeger Python client), agent UDP (compact)

The trace uses what the translation handles: span kinds, attributes of
every type, an error status with a description, events, a parent and a
link, resource attributes, an instrumentation scope.
"""
import os
import sys
import time

os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")
mode, target = sys.argv[1], sys.argv[2]


def otel():
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    if mode == "otel-compact":
        from opentelemetry.exporter.jaeger.thrift import JaegerExporter

        host, port = target.rsplit(":", 1)
        exporter = JaegerExporter(agent_host_name=host, agent_port=int(port))
    elif mode == "otel-http":
        from opentelemetry.exporter.jaeger.thrift import JaegerExporter

        exporter = JaegerExporter(collector_endpoint=target)
    else:
        from opentelemetry.exporter.jaeger.proto.grpc import JaegerExporter

        exporter = JaegerExporter(collector_endpoint=target, insecure=True)
    provider = TracerProvider(
        resource=Resource.create({"service.name": "jaeger-" + mode, "deployment.environment": "e2e"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("ferrotel.e2e", "1.2.3")
    with tracer.start_as_current_span("parent", kind=trace.SpanKind.SERVER) as parent:
        parent.set_attribute("int", 7)
        parent.set_attribute("float", 1.5)
        parent.set_attribute("bool", True)
        parent.set_attribute("http.status_code", 404)
        parent.add_event("started", {"phase": "one"})
        link = trace.Link(parent.get_span_context(), {"why": "self"})
        with tracer.start_as_current_span("child", kind=trace.SpanKind.CLIENT, links=[link]) as child:
            child.set_status(trace.Status(trace.StatusCode.ERROR, "it failed"))
        with tracer.start_as_current_span("producer", kind=trace.SpanKind.PRODUCER):
            pass
    provider.shutdown()


def jaeger_client():
    from jaeger_client import Config

    host, port = target.rsplit(":", 1)
    config = Config(
        config={
            "sampler": {"type": "const", "param": 1},
            "local_agent": {"reporting_host": host, "reporting_port": int(port)},
        },
        service_name="jaeger-client-svc",
        validate=True,
    )
    tracer = config.initialize_tracer()
    with tracer.start_span("root", tags={"span.kind": "server", "num": 3, "f": 1.5, "b": True}) as root:
        root.log_kv({"event": "hello", "k": "v"})
        with tracer.start_span("child", child_of=root) as child:
            child.set_tag("error", True)
            child.set_tag("otel.status_description", "boom")
    time.sleep(1)
    tracer.close()
    time.sleep(1)


if mode == "jaeger-client":
    jaeger_client()
else:
    otel()
