//! The resource_detection processor's `azure` and `aks` detectors against a
//! fixture of the Azure instance metadata service (no Azure VM here). It
//! answers `GET /metadata/instance/compute` only with `Metadata: true` and
//! an `api-version`, with Microsoft's documented example. Go hardcodes
//! `169.254.169.254`; the collector is pointed at the fixture with
//! ferrotel's test hook `FERROTEL_AZURE_IMDS_ENDPOINT`.

use ferrotel_e2e::resource_detection::{config, resource_after_sending, sorted};
use ferrotel_e2e::{Collector, free_port};
use std::sync::{Arc, Mutex};

/// The Linux example response of "Azure Instance Metadata Service",
/// Sample 4 ("Get more information about the VM during support case",
/// `GET /metadata/instance/compute?api-version=2020-09-01`),
/// https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service,
/// with the `tagsList` form of its `tags` that api-version 2019-06-04 and
/// later add (the page's tagsList sample shows the form).
const COMPUTE: &str = r#"{
    "azEnvironment": "AZUREPUBLICCLOUD",
    "isHostCompatibilityLayerVm": "true",
    "licenseType":  "Windows_Client",
    "location": "westus",
    "name": "examplevmname",
    "offer": "UbuntuServer",
    "osProfile": {
        "adminUsername": "admin",
        "computerName": "examplevmname",
        "disablePasswordAuthentication": "true"
    },
    "osType": "Linux",
    "placementGroupId": "f67c14ab-e92c-408c-ae2d-da15866ec79a",
    "plan": {
        "name": "planName",
        "product": "planProduct",
        "publisher": "planPublisher"
    },
    "platformFaultDomain": "36",
    "platformUpdateDomain": "42",
    "publicKeys": [{
            "keyData": "ssh-rsa 0",
            "path": "/home/user/.ssh/authorized_keys0"
        },
        {
            "keyData": "ssh-rsa 1",
            "path": "/home/user/.ssh/authorized_keys1"
        }
    ],
    "publisher": "Canonical",
    "resourceGroupName": "macikgo-test-may-23",
    "resourceId": "/subscriptions/xxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxx/resourceGroups/macikgo-test-may-23/providers/Microsoft.Compute/virtualMachines/examplevmname",
    "securityProfile": {
        "secureBootEnabled": "true",
        "virtualTpmEnabled": "false"
    },
    "sku": "18.04-LTS",
    "storageProfile": {
        "dataDisks": [{
            "caching": "None",
            "createOption": "Empty",
            "diskSizeGB": "1024",
            "image": {
                "uri": ""
            },
            "lun": "0",
            "managedDisk": {
                "id": "/subscriptions/xxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxx/resourceGroups/macikgo-test-may-23/providers/Microsoft.Compute/disks/exampledatadiskname",
                "storageAccountType": "Standard_LRS"
            },
            "name": "exampledatadiskname",
            "vhd": {
                "uri": ""
            },
            "writeAcceleratorEnabled": "false"
        }],
        "imageReference": {
            "id": "",
            "offer": "UbuntuServer",
            "publisher": "Canonical",
            "sku": "16.04.0-LTS",
            "version": "latest"
        },
        "osDisk": {
            "caching": "ReadWrite",
            "createOption": "FromImage",
            "diskSizeGB": "30",
            "diffDiskSettings": {
                "option": "Local"
            },
            "encryptionSettings": {
                "enabled": "false"
            },
            "image": {
                "uri": ""
            },
            "managedDisk": {
                "id": "/subscriptions/xxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxx/resourceGroups/macikgo-test-may-23/providers/Microsoft.Compute/disks/exampleosdiskname",
                "storageAccountType": "Standard_LRS"
            },
            "name": "exampleosdiskname",
            "osType": "linux",
            "vhd": {
                "uri": ""
            },
            "writeAcceleratorEnabled": "false"
        }
    },
    "subscriptionId": "xxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxx",
    "tags": "baz:bash;foo:bar",
    "tagsList": [
        {"name": "baz", "value": "bash"},
        {"name": "foo", "value": "bar"}
    ],
    "version": "15.05.22",
    "vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6",
    "vmScaleSetName": "crpteste9vflji9",
    "vmSize": "Standard_A3",
    "zone": ""
}"#;

struct Imds {
    runtime: tokio::runtime::Runtime,
    addr: String,
    /// The path and query of every request.
    requests: Arc<Mutex<Vec<String>>>,
}

impl Imds {
    fn start(compute: String) -> Imds {
        use ferrotel_core::http_server::{HttpServer, bind, response};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let compute = Arc::new(compute);
        let addr = runtime.block_on(async move {
            let listener = bind("127.0.0.1:0").await.unwrap();
            let server = HttpServer::start(listener, move |req, _| {
                let (seen, compute) = (seen.clone(), compute.clone());
                async move {
                    let query = req.uri().query().unwrap_or_default().to_string();
                    seen.lock()
                        .unwrap()
                        .push(format!("{}?{query}", req.uri().path()));
                    let header = req.headers().get("metadata");
                    if header.and_then(|h| h.to_str().ok()) != Some("true") {
                        return response(
                            400,
                            "application/json",
                            r#"{"error":"Bad request. Required metadata header not specified"}"#,
                        );
                    }
                    if !query.contains("api-version=") {
                        return response(400, "application/json", r#"{"error":"Bad request. api-version was not specified in the request"}"#);
                    }
                    match req.uri().path() {
                        "/metadata/instance/compute" => {
                            response(200, "application/json; charset=utf-8", compute.to_string())
                        }
                        _ => response(404, "application/json", r#"{"error":"Not found"}"#),
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

#[test]
fn azure_vm_attributes_and_tags() {
    let imds = Imds::start(COMPUTE.to_string());
    let otlp = free_port();
    let endpoint = format!("http://{}", imds.addr);
    let c = Collector::start_with_env(
        &config(otlp, "{detectors: [azure], azure: {tags: ['^foo$']}}"),
        &[("FERROTEL_AZURE_IMDS_ENDPOINT", &endpoint)],
    );
    assert_eq!(
        resource_after_sending(&c, otlp),
        sorted(&[
            "service.name=svc-1",
            "cloud.provider=azure",
            "cloud.platform=azure_vm",
            "host.name=examplevmname",
            "cloud.region=westus",
            "host.id=02aab8a4-74ef-476e-8182-f6d2ba4166a6",
            "cloud.account.id=xxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxx",
            "azure.vm.name=examplevmname",
            "azure.vm.size=Standard_A3",
            "azure.vm.scaleset.name=crpteste9vflji9",
            "azure.resourcegroup.name=macikgo-test-may-23",
            "azure.tag.foo=bar",
        ]),
        "log:\n{}",
        c.log()
    );
    assert_eq!(
        imds.requests.lock().unwrap().clone(),
        ["/metadata/instance/compute?api-version=2020-09-01&format=json"]
    );
    drop(c);
    drop(imds.runtime);
}

#[test]
fn aks_cluster_name_from_the_infrastructure_resource_group() {
    let compute = COMPUTE.replace(
        "\"resourceGroupName\": \"macikgo-test-may-23\"",
        "\"resourceGroupName\": \"MC_my-resource-group_my-cluster_eastus\"",
    );
    let imds = Imds::start(compute);
    let endpoint = format!("http://{}", imds.addr);
    let processor =
        "{detectors: [aks], aks: {resource_attributes: {k8s.cluster.name: {enabled: true}}}}";
    let otlp = free_port();
    let c = Collector::start_with_env(
        &config(otlp, processor),
        &[
            ("FERROTEL_AZURE_IMDS_ENDPOINT", &endpoint),
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
        ],
    );
    assert_eq!(
        resource_after_sending(&c, otlp),
        sorted(&[
            "service.name=svc-1",
            "cloud.provider=azure",
            "cloud.platform=azure_aks",
            "k8s.cluster.name=my-cluster",
        ])
    );
    drop(c);
    // Outside a pod the aks detector does not ask.
    let asked = imds.requests.lock().unwrap().len();
    let otlp = free_port();
    let c = Collector::start_with_env(
        &config(otlp, processor),
        &[("FERROTEL_AZURE_IMDS_ENDPOINT", &endpoint)],
    );
    assert_eq!(resource_after_sending(&c, otlp), ["service.name=svc-1"]);
    assert_eq!(imds.requests.lock().unwrap().len(), asked);
    drop(c);
    drop(imds.runtime);
}

#[test]
fn off_azure_nothing_is_detected_and_data_flows() {
    // Nothing listens on this port: not an Azure VM.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    for fail_on_missing in [false, true] {
        let otlp = free_port();
        let c = Collector::start_with_env(
            &config(
                otlp,
                &format!(
                    "{{detectors: [azure, aks], fail_on_missing_metadata: {fail_on_missing}}}"
                ),
            ),
            &[
                ("FERROTEL_AZURE_IMDS_ENDPOINT", &endpoint),
                ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ],
        );
        assert_eq!(resource_after_sending(&c, otlp), ["service.name=svc-1"]);
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
