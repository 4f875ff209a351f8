"""Calls an OTLP receiver that checks credentials, as real clients do, and
prints what came back as JSON.

Usage: python_auth.py grpc|http ENDPOINT HEADERS
HEADERS is `key=value,key2=value2` (OTEL_EXPORTER_OTLP_HEADERS' form) or
`-` for none. Prints {"sdk": "SUCCESS"|"FAILURE", "code": ..., "message": ...}:
the SDK exporter's result for one span, and the status of a raw call
(the gRPC status code name, or the HTTP status) with its message.
"""

import json
import sys
import urllib.error
import urllib.request

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

protocol, endpoint, header_text = sys.argv[1:4]
headers = {}
if header_text != "-":
    for pair in header_text.split(","):
        key, _, value = pair.partition("=")
        headers[key.strip().lower()] = value.strip()

memory = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(memory))
with provider.get_tracer("e2e.auth").start_as_current_span("authenticated"):
    pass
spans = memory.get_finished_spans()

out = {}
if protocol == "grpc":
    import grpc
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, headers=headers, timeout=5)
    out["sdk"] = exporter.export(spans).name
    channel = grpc.insecure_channel(endpoint.removeprefix("http://"))
    export = channel.unary_unary(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        request_serializer=None,
        response_deserializer=None,
    )
    try:
        export(b"", metadata=list(headers.items()), timeout=5)
        out["code"], out["message"] = "OK", ""
    except grpc.RpcError as e:
        out["code"], out["message"] = e.code().name, e.details()
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=endpoint + "/v1/traces", headers=headers, timeout=5)
    out["sdk"] = exporter.export(spans).name
    request = urllib.request.Request(
        endpoint + "/v1/traces",
        data=b"{}",
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            out["code"], out["message"] = response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        out["code"], out["message"] = e.code, e.read().decode()
print(json.dumps(out))
