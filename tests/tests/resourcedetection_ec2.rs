//! The resourcedetection processor's `ec2` detector against a fixture of
//! the EC2 instance metadata service (no EC2 instance here): it serves the
//! identity document of AWS's documentation, hands out IMDSv2 tokens and
//! answers 401 to requests without one, as an instance that requires
//! IMDSv2 does. The collector finds it through the AWS SDK's
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT`.

use ferrotel_core::pdata::Signal;
use ferrotel_e2e::{Collector, free_port, post, read_json_file, sample, wait_until};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// AWS's example instance identity document.
const IDENTITY_DOCUMENT: &str = r#"{
    "devpayProductCodes" : null,
    "marketplaceProductCodes" : [ "1abc2defghijklm3nopqrs4tu" ],
    "availabilityZone" : "us-west-2b",
    "privateIp" : "10.158.112.84",
    "version" : "2017-09-30",
    "instanceId" : "i-1234567890abcdef0",
    "billingProducts" : null,
    "instanceType" : "t2.micro",
    "accountId" : "123456789012",
    "imageId" : "ami-5fb8c835",
    "pendingTime" : "2016-11-19T16:32:11Z",
    "architecture" : "x86_64",
    "kernelId" : null,
    "ramdiskId" : null,
    "region" : "us-west-2"
}"#;

const TOKEN: &str = "AQAEAFgi1sQ-fixture-token==";

struct Imds {
    runtime: tokio::runtime::Runtime,
    addr: String,
    /// `METHOD path` of every request, in order.
    requests: Arc<Mutex<Vec<String>>>,
    /// The identity document served; `None` answers 500.
    document: Arc<Mutex<Option<String>>>,
}

impl Imds {
    fn start() -> Imds {
        use ferrotel_core::http_server::{HttpServer, bind, response};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let document = Arc::new(Mutex::new(Some(IDENTITY_DOCUMENT.to_string())));
        let (seen, served) = (requests.clone(), document.clone());
        let addr = runtime.block_on(async move {
            let listener = bind("127.0.0.1:0").await.unwrap();
            let server = HttpServer::start(listener, move |req, _| {
                let (seen, served) = (seen.clone(), served.clone());
                async move {
                    let path = req.uri().path().to_string();
                    seen.lock()
                        .unwrap()
                        .push(format!("{} {path}", req.method()));
                    if path == "/latest/api/token" {
                        let ttl = req.headers().get("x-aws-ec2-metadata-token-ttl-seconds");
                        return if req.method() == "PUT" && ttl.is_some() {
                            response(200, "text/plain", TOKEN)
                        } else {
                            response(400, "text/plain", "")
                        };
                    }
                    let token = req.headers().get("x-aws-ec2-metadata-token");
                    if token.and_then(|t| t.to_str().ok()) != Some(TOKEN) {
                        return response(401, "text/plain", "");
                    }
                    match path.as_str() {
                        "/latest/meta-data/instance-id" => {
                            response(200, "text/plain", "i-1234567890abcdef0")
                        }
                        "/latest/dynamic/instance-identity/document" => {
                            match served.lock().unwrap().clone() {
                                Some(document) => response(200, "application/json", document),
                                None => response(500, "text/plain", ""),
                            }
                        }
                        "/latest/meta-data/hostname" => response(
                            200,
                            "text/plain",
                            "ip-10-158-112-84.us-west-2.compute.internal",
                        ),
                        "/latest/meta-data/tags/instance" => {
                            response(200, "text/plain", "Name\nteam\nsecret")
                        }
                        "/latest/meta-data/tags/instance/Name" => {
                            response(200, "text/plain", "web-1")
                        }
                        "/latest/meta-data/tags/instance/team" => {
                            response(200, "text/plain", "payments")
                        }
                        "/latest/meta-data/tags/instance/secret" => {
                            response(200, "text/plain", "do-not-read")
                        }
                        _ => response(404, "text/plain", ""),
                    }
                }
            });
            let addr = server.local_addr().to_string();
            std::mem::forget(server);
            addr
        });
        Imds {
            runtime,
            addr,
            requests,
            document,
        }
    }
}

fn config(otlp: u16, ec2: &str) -> String {
    format!(
        "
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{otlp}'}}
processors:
  resourcedetection:
    detectors: [ec2]
    {ec2}
exporters:
  file: {{path: '{{dir}}/out.json'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [resourcedetection], exporters: [file]}}
"
    )
}

/// Sends a sample and returns the resource attributes the file got, as
/// `key=value` strings.
fn resource_after_sending(c: &Collector, otlp: u16) -> Vec<String> {
    resources_after_sending(c, otlp, 1).remove(0)
}

/// Sends a sample and returns the resource attributes of the `n` requests
/// the file holds then.
fn resources_after_sending(c: &Collector, otlp: u16, n: usize) -> Vec<Vec<String>> {
    let body = sample(Signal::Logs, 1).encode_request();
    let r = post(
        &format!("127.0.0.1:{otlp}"),
        "/v1/logs",
        "application/x-protobuf",
        &body,
    );
    assert_eq!(r.status, 200);
    let out = c.path("out.json");
    assert!(
        wait_until(Duration::from_secs(10), || read_json_file(&out).len() >= n),
        "not written; log:\n{}",
        c.log()
    );
    read_json_file(&out)
        .iter()
        .map(|line| {
            line["resourceLogs"][0]["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|kv| {
                    format!(
                        "{}={}",
                        kv["key"].as_str().unwrap_or_default(),
                        kv["value"]["stringValue"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn ec2_identity_and_imds_tags_become_resource_attributes() {
    let imds = Imds::start();
    let otlp = free_port();
    let endpoint = format!("http://{}", imds.addr);
    let c = Collector::start_with_env(
        &config(
            otlp,
            r#"ec2: {tags: ["^Name$", "^team$"], tags_from_imds: true, resource_attributes: {host.image.id: {enabled: false}}}"#,
        ),
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)],
    );
    let attributes = resource_after_sending(&c, otlp);
    for want in [
        "cloud.provider=aws",
        "cloud.platform=aws_ec2",
        "cloud.region=us-west-2",
        "cloud.account.id=123456789012",
        "cloud.availability_zone=us-west-2b",
        "host.id=i-1234567890abcdef0",
        "host.type=t2.micro",
        "host.name=ip-10-158-112-84.us-west-2.compute.internal",
        "ec2.tag.Name=web-1",
        "ec2.tag.team=payments",
    ] {
        assert!(
            attributes.iter().any(|a| a == want),
            "{want} missing from {attributes:?}"
        );
    }
    assert!(
        !attributes.iter().any(|a| a.starts_with("host.image.id=")),
        "disabled in resource_attributes: {attributes:?}"
    );
    assert!(
        !attributes.iter().any(|a| a.starts_with("ec2.tag.secret")),
        "a tag no pattern matches: {attributes:?}"
    );
    // IMDSv2: a token first; every other request carried it (the fixture
    // answers 401 otherwise, and the identity arrived).
    let requests = imds.requests.lock().unwrap().clone();
    assert_eq!(requests[0], "PUT /latest/api/token", "{requests:?}");
    drop(c);
    drop(imds.runtime);
}

#[test]
fn off_ec2_nothing_is_detected_and_data_flows() {
    // Nothing listens on this port: not an EC2 instance.
    let closed = free_port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    for fail_on_missing in [false, true] {
        let otlp = free_port();
        let c = Collector::start_with_env(
            &config(
                otlp,
                &format!("fail_on_missing_metadata: {fail_on_missing}"),
            ),
            &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)],
        );
        let attributes = resource_after_sending(&c, otlp);
        assert!(
            !attributes.iter().any(|a| a.starts_with("cloud.")),
            "{attributes:?}"
        );
        // With fail_on_missing_metadata the failure is reported (Go would
        // not start; ferrotel logs it and goes on without the attributes).
        assert_eq!(
            c.log().contains("failed to detect resource"),
            fail_on_missing,
            "{}",
            c.log()
        );
    }
}

#[test]
fn a_silent_metadata_service_costs_only_its_own_attributes() {
    // Off EC2 the metadata address is often black-holed: connections hang.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let holder = held.clone();
    std::thread::spawn(move || {
        for stream in silent.incoming().flatten() {
            holder.lock().unwrap().push(stream);
        }
    });
    let otlp = free_port();
    let config = format!(
        "
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{otlp}'}}
processors:
  resourcedetection: {{detectors: [env, ec2], timeout: 2s}}
exporters:
  file: {{path: '{{dir}}/out.json'}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    logs: {{receivers: [otlp], processors: [resourcedetection], exporters: [file]}}
"
    );
    let started = std::time::Instant::now();
    let c = Collector::start_with_env(
        &config,
        &[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=payments"),
        ],
    );
    let attributes = resource_after_sending(&c, otlp);
    assert!(
        attributes.iter().any(|a| a == "team=payments"),
        "the env detector's result is kept: {attributes:?}"
    );
    assert!(
        !attributes.iter().any(|a| a.starts_with("cloud.")),
        "{attributes:?}"
    );
    assert!(c.log().contains("failed to detect resource"), "{}", c.log());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "start waited {:?}",
        started.elapsed()
    );
    assert!(!held.lock().unwrap().is_empty(), "the detector did call");
}

#[test]
fn refresh_interval_picks_up_changes_and_keeps_the_last_good_answer() {
    let imds = Imds::start();
    let endpoint = format!("http://{}", imds.addr);
    let otlp = free_port();
    let c = Collector::start_with_env(
        &config(otlp, "refresh_interval: 200ms"),
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)],
    );
    let instance_type = |attributes: &[String]| {
        attributes
            .iter()
            .find(|a| a.starts_with("host.type="))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        instance_type(&resource_after_sending(&c, otlp)),
        "host.type=t2.micro"
    );
    // The instance is resized; a later refresh sees it.
    let documents_served = || {
        imds.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.ends_with("/instance-identity/document"))
            .count()
    };
    *imds.document.lock().unwrap() = Some(IDENTITY_DOCUMENT.replace("t2.micro", "m5.large"));
    let served = documents_served();
    assert!(wait_until(Duration::from_secs(10), || documents_served() >= served + 2));
    let second = resources_after_sending(&c, otlp, 2);
    assert_eq!(instance_type(&second[1]), "host.type=m5.large");
    // The service fails: refreshes keep the last good attributes.
    *imds.document.lock().unwrap() = None;
    // (Each refresh retries the detector within `timeout` first.)
    c.wait_for_log(
        "resource refresh failed; keeping previous snapshot",
        Duration::from_secs(20),
    );
    let third = resources_after_sending(&c, otlp, 3);
    assert_eq!(instance_type(&third[2]), "host.type=m5.large");
    drop(c);
    drop(imds.runtime);
}

#[test]
fn a_detector_that_fails_is_retried_until_it_answers() {
    let imds = Imds::start();
    // The service fails (500) for a while after the collector starts.
    *imds.document.lock().unwrap() = None;
    let document = imds.document.clone();
    let healer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        *document.lock().unwrap() = Some(IDENTITY_DOCUMENT.to_string());
    });
    let endpoint = format!("http://{}", imds.addr);
    let otlp = free_port();
    let c = Collector::start_with_env(
        &config(otlp, "timeout: 10s"),
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint)],
    );
    healer.join().unwrap();
    let attributes = resource_after_sending(&c, otlp);
    assert!(
        attributes
            .iter()
            .any(|a| a == "host.id=i-1234567890abcdef0"),
        "{attributes:?}"
    );
    let documents = imds
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.ends_with("/instance-identity/document"))
        .count();
    assert!(documents >= 2, "retried: {documents} document requests");
    drop(c);
    drop(imds.runtime);
}
