//! What the resource_detection e2e tests share: a logs pipeline from an
//! OTLP/HTTP receiver through the processor to a file, and the resource
//! attributes that file got.

use crate::{Collector, post, read_json_file, sample, wait_until};
use ferrotel_core::pdata::Signal;
use std::path::Path;
use std::time::Duration;

/// A config receiving OTLP/HTTP on `otlp`, with `processor` as the body
/// of `resource_detection`, writing logs to `{dir}/out.json`.
pub fn config(otlp: u16, processor: &str) -> String {
    format!(
        "
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{otlp}'}}
processors:
  resource_detection:
    {processor}
exporters:
  file: {{path: '{{dir}}/out.json'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [resource_detection], exporters: [file]}}
"
    )
}

/// Sends a sample and returns the resource attributes the file got, as
/// sorted `key=value` strings.
pub fn resource_after_sending(c: &Collector, otlp: u16) -> Vec<String> {
    let out = c.path("out.json");
    resource_written(otlp, &out, &|| c.log())
}

/// [`resource_after_sending`] for any collector (the Go one too): the
/// resource attributes of what `out` got after a sample was sent to `otlp`.
pub fn resource_written(otlp: u16, out: &Path, log: &dyn Fn() -> String) -> Vec<String> {
    let body = sample(Signal::Logs, 1).encode_request();
    let r = post(
        &format!("127.0.0.1:{otlp}"),
        "/v1/logs",
        "application/x-protobuf",
        &body,
    );
    assert_eq!(r.status, 200);
    assert!(
        wait_until(Duration::from_secs(10), || !read_json_file(out).is_empty()),
        "not written; log:\n{}",
        log()
    );
    let mut attributes: Vec<String> =
        read_json_file(out)[0]["resourceLogs"][0]["resource"]["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|kv| {
                format!(
                    "{}={}",
                    kv["key"].as_str().unwrap_or_default(),
                    kv["value"]["stringValue"]
                        .as_str()
                        .or(kv["value"]["intValue"].as_str())
                        .unwrap_or("?")
                )
            })
            .collect();
    attributes.sort();
    attributes
}

/// `items` as sorted owned strings, to compare with
/// [`resource_after_sending`].
pub fn sorted(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}
