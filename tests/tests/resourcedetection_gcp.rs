//! The resource_detection processor's `gcp` detector against a fixture of
//! the GCE metadata server (no GCP here). It answers only requests with
//! `Metadata-Flavor: Google`, under `/computeMetadata/v1/`, with the values
//! and formats of Google's documentation ("About VM metadata" and
//! "Predefined metadata keys",
//! https://cloud.google.com/compute/docs/metadata/predefined-metadata-keys:
//! `instance/zone` and `instance/machine-type` are
//! `projects/<number>/...` paths, `instance/id` a number), and for GKE the
//! `cluster-name` and `cluster-location` instance attributes
//! (https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity#instance_metadata).
//! The collector finds it through `GCE_METADATA_HOST`, which Google's Go
//! client honours (and which also tells it that it runs on GCE).

use ferrotel_e2e::resource_detection::{config, resource_after_sending, sorted};
use ferrotel_e2e::{Collector, free_port};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The metadata of a GCE VM created by a zonal managed instance group.
fn gce_metadata() -> BTreeMap<&'static str, &'static str> {
    [
        ("project/project-id", "my-sample-project-191923"),
        ("project/numeric-project-id", "1234567890"),
        ("instance/id", "4520031799277581759"),
        ("instance/name", "instance-1"),
        (
            "instance/hostname",
            "instance-1.us-central1-f.c.my-sample-project-191923.internal",
        ),
        ("instance/zone", "projects/1234567890/zones/us-central1-f"),
        (
            "instance/machine-type",
            "projects/1234567890/machineTypes/e2-medium",
        ),
        (
            "instance/attributes/created-by",
            "projects/1234567890/zones/us-central1-f/instanceGroupManagers/web-mig",
        ),
    ]
    .into()
}

struct MetadataServer {
    runtime: tokio::runtime::Runtime,
    addr: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl MetadataServer {
    fn start(values: BTreeMap<&'static str, &'static str>) -> MetadataServer {
        use ferrotel_core::http_server::{HttpServer, bind, response};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let values = Arc::new(values);
        let addr = runtime.block_on(async move {
            let listener = bind("127.0.0.1:0").await.unwrap();
            let server = HttpServer::start(listener, move |req, _| {
                let (seen, values) = (seen.clone(), values.clone());
                async move {
                    let path = req.uri().path().to_string();
                    seen.lock().unwrap().push(path.clone());
                    let flavor = req.headers().get("metadata-flavor");
                    if flavor.and_then(|f| f.to_str().ok()) != Some("Google") {
                        return response(403, "text/html", "Missing Metadata-Flavor:Google header");
                    }
                    let key = path
                        .strip_prefix("/computeMetadata/v1/")
                        .unwrap_or_default();
                    let mut answer = match values.get(key) {
                        Some(v) => response(200, "application/text", v.to_string()),
                        None => response(404, "text/html", "Not Found"),
                    };
                    answer
                        .headers_mut()
                        .insert("metadata-flavor", "Google".parse().unwrap());
                    answer
                }
            });
            let addr = server.local_addr().to_string();
            std::mem::forget(server);
            addr
        });
        MetadataServer {
            runtime,
            addr,
            requests,
        }
    }
}

#[test]
fn gce_instance_attributes() {
    let server = MetadataServer::start(gce_metadata());
    let otlp = free_port();
    let c = Collector::start_with_env(
        &config(
            otlp,
            "{detectors: [gcp], gcp: {resource_attributes: {gcp.gce.instance.name: {enabled: true}}}}",
        ),
        &[("GCE_METADATA_HOST", &server.addr)],
    );
    assert_eq!(
        resource_after_sending(&c, otlp),
        sorted(&[
            "service.name=svc-1",
            "cloud.provider=gcp",
            "cloud.account.id=my-sample-project-191923",
            "cloud.platform=gcp_compute_engine",
            "cloud.availability_zone=us-central1-f",
            "cloud.region=us-central1",
            // Go's detector passes the machine type's path on as it is.
            "host.type=projects/1234567890/machineTypes/e2-medium",
            "host.id=4520031799277581759",
            "host.name=instance-1",
            "gcp.gce.instance.name=instance-1",
            "gcp.gce.instance_group_manager.name=web-mig",
            "gcp.gce.instance_group_manager.zone=us-central1-f",
        ]),
        "log:\n{}",
        c.log()
    );
    drop(c);
    drop(server.runtime);
}

#[test]
fn gke_cluster_attributes() {
    let mut values = gce_metadata();
    values.insert("instance/attributes/cluster-name", "prod-cluster");
    values.insert("instance/attributes/cluster-location", "us-central1");
    let server = MetadataServer::start(values);
    let otlp = free_port();
    let c = Collector::start_with_env(
        &config(otlp, "{detectors: [gcp]}"),
        &[
            ("GCE_METADATA_HOST", &server.addr),
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
        ],
    );
    assert_eq!(
        resource_after_sending(&c, otlp),
        sorted(&[
            "service.name=svc-1",
            "cloud.provider=gcp",
            "cloud.account.id=my-sample-project-191923",
            "cloud.platform=gcp_kubernetes_engine",
            // A regional cluster: a region, no zone.
            "cloud.region=us-central1",
            "k8s.cluster.name=prod-cluster",
            "host.id=4520031799277581759",
            "host.name=instance-1",
        ]),
        "log:\n{}",
        c.log()
    );
    // host.type on GKE needs the Compute API: logged as Go logs it.
    assert!(c.log().contains("Fallible detector failed"), "{}", c.log());
    let requests = server.requests.lock().unwrap().clone();
    assert!(
        requests.contains(&"/computeMetadata/v1/instance/attributes/cluster-location".to_string()),
        "{requests:?}"
    );
    drop(c);
    drop(server.runtime);
}

#[test]
fn off_gcp_nothing_is_detected_and_data_flows() {
    // No GCE_METADATA_HOST: the detector probes 169.254.169.254 and looks
    // up metadata.google.internal, neither of which answers here.
    let otlp = free_port();
    let c = Collector::start_with_env(
        &config(otlp, "{detectors: [gcp], timeout: 10s}"),
        &[("GCE_METADATA_HOST", "")],
    );
    assert_eq!(resource_after_sending(&c, otlp), ["service.name=svc-1"]);
    assert!(
        !c.log().contains("failed to detect resource"),
        "{}",
        c.log()
    );
}
