"""Encodes the same small trace with py_zipkin (a real Zipkin client) in
each wire format it has, and prints one JSON line per request body:
{"encoding", "path", "content_type", "body" (hex)}. The end-to-end test
(tests/tests/zipkin.rs) POSTs each body to the Go collector and to ferrotel.

Usage: zipkin_spans.py ENCODING...   (V1_JSON V2_JSON V2_PROTO3, and
V1_JSON_SA: V1 JSON with an `sa` binary annotation, whose boolean value
contrib's v1 decoder refuses; a _128 suffix gives the trace a 128-bit id,
without which Go refuses protobuf spans; py_zipkin 1.2.8 no longer writes
V1_THRIFT)
"""
import json
import sys

from py_zipkin import Encoding, Kind
from py_zipkin.transport import BaseTransportHandler
from py_zipkin.zipkin import zipkin_span

PATHS = {
    "V1_JSON": ("/api/v1/spans", "application/json"),
    "V1_JSON_SA": ("/api/v1/spans", "application/json"),
    "V2_JSON": ("/api/v2/spans", "application/json"),
    "V2_PROTO3": ("/api/v2/spans", "application/x-protobuf"),
    "V2_PROTO3_128": ("/api/v2/spans", "application/x-protobuf"),
    "V2_JSON_128": ("/api/v2/spans", "application/json"),
}


class Collect(BaseTransportHandler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def get_max_payload_bytes(self):
        return None

    def send(self, payload):
        self.messages.append(payload)


def trace(encoding, remote, wide):
    t = Collect()
    with zipkin_span(
        service_name="frontend",
        span_name="GET /api",
        transport_handler=t,
        use_128bit_trace_id=wide,
        sample_rate=100.0,
        encoding=encoding,
        kind=Kind.SERVER,
        host="10.0.0.1",
        port=8080,
        binary_annotations={"http.path": "/api", "http.status_code": "500"},
    ) as root:
        root.update_binary_annotations({"cache_hit": "true", "ping_count": "25"})
        root.add_annotation("cache.miss")
        with zipkin_span(service_name="frontend", span_name="Query", kind=Kind.CLIENT) as child:
            if remote:
                child.add_sa_binary_annotation(port=5432, service_name="postgres", host="10.0.0.2")
            child.update_binary_annotations({"error": "timeout", "db.statement": "SELECT 1"})
        with zipkin_span(
            service_name="frontend",
            span_name="render",
            kind=Kind.LOCAL,
            binary_annotations={"otel.scope.name": "renderer", "otel.scope.version": "1.0"},
        ):
            pass
        with zipkin_span(service_name="frontend", span_name="publish", kind=Kind.PRODUCER) as p:
            p.add_sa_binary_annotation(service_name="kafka", host="::1", port=9092)
    return t.messages


for name in sys.argv[1:]:
    path, content_type = PATHS[name]
    encoding = Encoding[name.removesuffix("_SA").removesuffix("_128")]
    remote = name == "V1_JSON_SA" or not name.startswith("V1")
    for body in trace(encoding, remote, name.endswith("_128")):
        if isinstance(body, str):
            body = body.encode()
        print(json.dumps({
            "encoding": name,
            "path": path,
            "content_type": content_type,
            "body": body.hex(),
        }))
