// Sends one trace, a counter and one log record through the real
// OpenTelemetry JS SDK over OTLP/HTTP with JSON bodies, then prints what
// it sent as JSON.  Usage: node node_sdk.mjs ENDPOINT RUN_ID
import { createRequire } from 'node:module';
const require = createRequire(process.env.FERROTEL_NODE_MODULES + '/');

const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-http');
const { LoggerProvider, SimpleLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http');

const [endpoint, runId] = process.argv.slice(2);
const resource = resourceFromAttributes({ 'service.name': 'node-e2e', 'run.id': runId });

const tracerProvider = new BasicTracerProvider({
  resource,
  spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))],
});
const tracer = tracerProvider.getTracer('e2e.node', '0.1');
const span = tracer.startSpan('node-span', { attributes: { 'run.id': runId, n: 42, ok: true, tags: ['a', 'b'] } });
span.addEvent('node-event', { e: 1 });
span.end();
const ctx = span.spanContext();

const reader = new PeriodicExportingMetricReader({
  exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }),
  exportIntervalMillis: 60000,
});
const meterProvider = new MeterProvider({ resource, readers: [reader] });
meterProvider.getMeter('e2e.node').createCounter('node.requests').add(9, { route: '/y' });

const loggerProvider = new LoggerProvider({
  resource,
  processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${endpoint}/v1/logs` }) })],
});
loggerProvider.getLogger('e2e.node').emit({ severityNumber: 13, severityText: 'WARN', body: `hello from node ${runId}`, attributes: { k: 'v' } });

await tracerProvider.forceFlush();
await meterProvider.forceFlush();
await loggerProvider.forceFlush();
await tracerProvider.shutdown();
await meterProvider.shutdown();
await loggerProvider.shutdown();
console.log(JSON.stringify({ trace_id: ctx.traceId, span_id: ctx.spanId }));
