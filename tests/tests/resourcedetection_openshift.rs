//! The resource_detection processor's `openshift` detector against a
//! fixture of an OpenShift API server (no OpenShift cluster can run here):
//! a small HTTP server written here that answers
//! `GET /apis/config.openshift.io/v1/infrastructures/cluster/status` with an
//! `Infrastructure` object shaped as OpenShift's API reference documents it
//! (config.openshift.io/v1, the `cluster` object of an AWS installation),
//! and only to the right bearer token; a second fixture answers 404, as a
//! plain Kubernetes API server does.

use ferrotel_e2e::resource_detection::{config, resource_after_sending, sorted};
use ferrotel_e2e::{Collector, free_port};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// `oc get infrastructure cluster -o json` of an AWS cluster, as OpenShift's
/// `Infrastructure [config.openshift.io/v1]` reference describes its fields.
const INFRASTRUCTURE: &str = r#"{
  "apiVersion": "config.openshift.io/v1",
  "kind": "Infrastructure",
  "metadata": {"name": "cluster"},
  "spec": {"cloudConfig": {"name": ""}, "platformSpec": {"type": "AWS"}},
  "status": {
    "apiServerInternalURI": "https://api-int.ocp.example.com:6443",
    "apiServerURL": "https://api.ocp.example.com:6443",
    "controlPlaneTopology": "HighlyAvailable",
    "etcdDiscoveryDomain": "",
    "infrastructureName": "ocp-7xk2p",
    "infrastructureTopology": "HighlyAvailable",
    "platform": "AWS",
    "platformStatus": {"aws": {"region": "us-east-2"}, "type": "AWS"}
  }
}"#;

/// Serves `body` to requests with `token`, 401 to others (404 for every
/// request when `body` is empty); the request lines it got.
fn api_server(token: &'static str, body: &'static str) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut authorized = false;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                    break;
                }
                if header.to_ascii_lowercase().trim() == format!("authorization: bearer {token}") {
                    authorized = true;
                }
            }
            log.lock().unwrap().push(line.trim().to_string());
            let path_ok = line
                .starts_with("GET /apis/config.openshift.io/v1/infrastructures/cluster/status ");
            let (status, text) = match (body.is_empty(), authorized, path_ok) {
                (true, _, _) | (_, _, false) => ("404 Not Found", "{}"),
                (false, false, true) => ("401 Unauthorized", "{}"),
                (false, true, true) => ("200 OK", body),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (port, seen)
}

#[test]
fn an_openshift_cluster_is_described_by_its_infrastructure() {
    let (api, seen) = api_server("s3cr3t", INFRASTRUCTURE);
    let otlp = free_port();
    let c = Collector::start(&config(
        otlp,
        &format!(
            "{{detectors: [openshift], openshift: {{address: 'http://127.0.0.1:{api}', token: s3cr3t}}}}"
        ),
    ));
    assert_eq!(
        resource_after_sending(&c, otlp),
        sorted(&[
            "cloud.platform=aws_openshift",
            "cloud.provider=aws",
            "cloud.region=us-east-2",
            "k8s.cluster.name=ocp-7xk2p",
            "service.name=svc-1",
        ])
    );
    assert_eq!(
        seen.lock().unwrap()[0],
        "GET /apis/config.openshift.io/v1/infrastructures/cluster/status HTTP/1.1"
    );
}

#[test]
fn a_wrong_token_fails_only_with_fail_on_missing_metadata_and_plain_kubernetes_is_nothing() {
    let (api, _) = api_server("s3cr3t", INFRASTRUCTURE);
    let otlp = free_port();
    let c = Collector::start(&config(
        otlp,
        &format!(
            "{{detectors: [openshift], openshift: {{address: 'http://127.0.0.1:{api}', token: wrong}}}}"
        ),
    ));
    assert_eq!(
        resource_after_sending(&c, otlp),
        sorted(&["service.name=svc-1"])
    );
    assert!(
        c.log()
            .contains("check the service account token and its RBAC"),
        "{}",
        c.log()
    );
    drop(c);

    let (plain, _) = api_server("s3cr3t", "");
    let otlp = free_port();
    let c = Collector::start(&config(
        otlp,
        &format!(
            "{{detectors: [openshift], openshift: {{address: 'http://127.0.0.1:{plain}', token: s3cr3t}}}}"
        ),
    ));
    assert_eq!(
        resource_after_sending(&c, otlp),
        sorted(&["service.name=svc-1"])
    );
}
