// Sends one trace with jaeger-client (the Jaeger Node.js client) to an
// agent's UDP port, which it speaks in the Thrift binary protocol.
// usage: node jaeger_binary.js HOST PORT
const { initTracer } = require('jaeger-client');

const [host, port] = process.argv.slice(2);
const tracer = initTracer(
  {
    serviceName: 'jaeger-node-svc',
    sampler: { type: 'const', param: 1 },
    reporter: { agentHost: host, agentPort: Number(port), flushIntervalMs: 100 },
  },
  { tags: { 'deployment.environment': 'e2e' } },
);
const root = tracer.startSpan('root', { tags: { 'span.kind': 'client', count: 2, ratio: 0.25, ok: false } });
root.log({ event: 'sent', size: 10 });
const child = tracer.startSpan('child', { childOf: root });
child.setTag('http.status_code', 503);
child.finish();
root.finish();
tracer.close(() => process.exit(0));
