//! The resource_detection processor's `eks` detector in a pod's
//! environment (`KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT`, the
//! IRSA web identity token path EKS mounts) against a fixture of the EC2
//! instance metadata service serving AWS's documented identity document
//! (no EKS node here). The collector finds the fixture through the AWS
//! SDK's `AWS_EC2_METADATA_SERVICE_ENDPOINT`. No Kubernetes API server is
//! run: ferrotel does not read it (see the crate's `eks.rs`).

use ferrotel_e2e::resource_detection::{config, resource_after_sending, sorted};
use ferrotel_e2e::{Collector, free_port};
use std::sync::{Arc, Mutex};

/// AWS's example instance identity document ("Instance identity
/// documents", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-identity-documents.html).
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

/// The path EKS mounts the IRSA token at.
const IRSA_TOKEN: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";

struct Imds {
    runtime: tokio::runtime::Runtime,
    addr: String,
    requests: Arc<Mutex<Vec<String>>>,
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
        let seen = requests.clone();
        let addr = runtime.block_on(async move {
            let listener = bind("127.0.0.1:0").await.unwrap();
            let server = HttpServer::start(listener, move |req, _| {
                let seen = seen.clone();
                async move {
                    let path = req.uri().path().to_string();
                    seen.lock()
                        .unwrap()
                        .push(format!("{} {path}", req.method()));
                    match path.as_str() {
                        "/latest/api/token" if req.method() == "PUT" => {
                            response(200, "text/plain", "AQAEAFgi1sQ-fixture-token==")
                        }
                        "/latest/meta-data/instance-id" => {
                            response(200, "text/plain", "i-1234567890abcdef0")
                        }
                        "/latest/dynamic/instance-identity/document" => {
                            response(200, "application/json", IDENTITY_DOCUMENT)
                        }
                        "/latest/meta-data/hostname" => response(
                            200,
                            "text/plain",
                            "ip-10-158-112-84.us-west-2.compute.internal",
                        ),
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
        }
    }
}

/// A pod's environment on EKS, with IMDS at `endpoint`.
fn pod_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("KUBERNETES_SERVICE_HOST", "10.100.0.1".into()),
        ("KUBERNETES_SERVICE_PORT", "443".into()),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", IRSA_TOKEN.into()),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint.into()),
    ]
}

fn start(otlp: u16, processor: &str, env: &[(&'static str, String)]) -> Collector {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Collector::start_with_env(&config(otlp, processor), &env)
}

const ALL_BUT_CLUSTER: &str = "{detectors: [eks], eks: {auth_type: none, resource_attributes: {cloud.account.id: {enabled: true}, cloud.availability_zone: {enabled: true}, cloud.region: {enabled: true}, host.id: {enabled: true}, host.image.id: {enabled: true}, host.name: {enabled: true}, host.type: {enabled: true}}}}";

#[test]
fn eks_node_attributes_from_imds() {
    let imds = Imds::start();
    let endpoint = format!("http://{}", imds.addr);
    let otlp = free_port();
    let c = start(otlp, ALL_BUT_CLUSTER, &pod_env(&endpoint));
    assert_eq!(
        resource_after_sending(&c, otlp),
        sorted(&[
            "service.name=svc-1",
            "cloud.provider=aws",
            "cloud.platform=aws_eks",
            "host.id=i-1234567890abcdef0",
            "cloud.availability_zone=us-west-2b",
            "cloud.region=us-west-2",
            "cloud.account.id=123456789012",
            "host.image.id=ami-5fb8c835",
            "host.type=t2.micro",
            "host.name=ip-10-158-112-84.us-west-2.compute.internal",
        ]),
        "log:\n{}",
        c.log()
    );
    drop(c);
    // Go's defaults: only the two cloud attributes.
    let otlp = free_port();
    let c = start(
        otlp,
        "{detectors: [eks], eks: {auth_type: none}}",
        &pod_env(&endpoint),
    );
    assert_eq!(
        resource_after_sending(&c, otlp),
        [
            "cloud.platform=aws_eks",
            "cloud.provider=aws",
            "service.name=svc-1"
        ]
    );
    drop(c);
    drop(imds.runtime);
}

#[test]
fn without_imds_only_the_platform() {
    // Nothing listens here: Go would turn to the Kubernetes API and the EC2
    // API; it emits the platform when those fail, as ferrotel does.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let otlp = free_port();
    let c = start(otlp, ALL_BUT_CLUSTER, &pod_env(&endpoint));
    assert_eq!(
        resource_after_sending(&c, otlp),
        [
            "cloud.platform=aws_eks",
            "cloud.provider=aws",
            "service.name=svc-1"
        ]
    );
}

#[test]
fn off_eks_nothing_is_detected_and_data_flows() {
    let imds = Imds::start();
    let endpoint = format!("http://{}", imds.addr);
    // Not in a pod; in a pod of another Kubernetes (no EKS token); in a
    // pod without the service port.
    let mut other_kubernetes = pod_env(&endpoint);
    other_kubernetes.retain(|(k, _)| *k != "AWS_WEB_IDENTITY_TOKEN_FILE");
    let mut no_port = pod_env(&endpoint);
    no_port.retain(|(k, _)| *k != "KUBERNETES_SERVICE_PORT");
    let envs = [
        vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint.clone())],
        other_kubernetes,
        no_port,
    ];
    for env in envs {
        let otlp = free_port();
        let c = start(otlp, ALL_BUT_CLUSTER, &env);
        assert_eq!(
            resource_after_sending(&c, otlp),
            ["service.name=svc-1"],
            "{env:?}"
        );
        assert!(
            !c.log().contains("failed to detect resource"),
            "{}",
            c.log()
        );
    }
    assert!(
        imds.requests.lock().unwrap().is_empty(),
        "off EKS IMDS is not asked"
    );
    drop(imds.runtime);
}

#[test]
fn service_account_auth_needs_the_pods_token_as_in_go() {
    // Go's in-cluster client reads the service account token; without it
    // the detector fails whatever fail_on_missing_metadata says.
    if std::path::Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").exists() {
        return;
    }
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let otlp = free_port();
    let c = start(otlp, "{detectors: [eks], timeout: 1s}", &pod_env(&endpoint));
    assert_eq!(resource_after_sending(&c, otlp), ["service.name=svc-1"]);
    assert!(
        c.log().contains("failed initializing eks detector"),
        "{}",
        c.log()
    );
}
