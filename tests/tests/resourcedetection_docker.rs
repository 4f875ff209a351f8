//! The resource_detection processor's `docker` detector against a fixture
//! of the Docker Engine API on a unix socket (no Docker daemon here),
//! found through `DOCKER_HOST=unix:///path` as the Docker client finds the
//! daemon. The fixture is a small HTTP/1.1 server written here: it answers
//! `/_ping`, `/info` and `/containers/<id>/json` (with or without a
//! `/v<version>` prefix) with the examples of Docker's Engine API
//! reference.

use ferrotel_e2e::resource_detection::{config, resource_after_sending};
use ferrotel_e2e::{Collector, ferrotel_bin, free_port, validate_with_env};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Part of the example response of `GET /info` ("System" → "Get system
/// information", https://docs.docker.com/reference/api/engine/version/v1.47/#tag/System/operation/SystemInfo):
/// the identifying fields, counts and versions.
const INFO: &str = r#"{
    "ID": "7TRN:IPZB:QYBB:VPBQ:UWS4:CCHQ:JHKI:DFZP:PQGR:NKOL:S2KY:MSKJ",
    "Containers": 14,
    "ContainersRunning": 3,
    "ContainersPaused": 1,
    "ContainersStopped": 10,
    "Images": 508,
    "Driver": "overlay2",
    "DockerRootDir": "/var/lib/docker",
    "KernelVersion": "6.8.0-31-generic",
    "OperatingSystem": "Ubuntu 24.04 LTS",
    "OSVersion": "24.04",
    "OSType": "linux",
    "Architecture": "x86_64",
    "NCPU": 4,
    "MemTotal": 2095882240,
    "IndexServerAddress": "https://index.docker.io/v1/",
    "Name": "node5.corp.example.com",
    "Labels": ["storage=ssd", "production"],
    "ServerVersion": "27.0.1"
}"#;

/// Part of the example response of `GET /containers/{id}/json`
/// ("Container" → "Inspect a container", same reference): `Image` is the
/// image's id, `Name` has the leading slash the API gives it.
const CONTAINER: &str = r#"{
    "AppArmorProfile": "",
    "Args": ["-c", "exit 9"],
    "Created": "2015-01-06T15:47:31.485331387Z",
    "Driver": "overlay2",
    "HostnamePath": "/var/lib/docker/containers/ba033ac4401106a3b513bc9d639eee123ad78ca3616b921167cd74b20e25ed39/hostname",
    "Id": "ba033ac4401106a3b513bc9d639eee123ad78ca3616b921167cd74b20e25ed39",
    "Image": "04c5d3b7b0656168630d3ba35d8889bd0e9caafcaeb3004d2bfbc47e7c5d35d2",
    "MountLabel": "",
    "Name": "/boring_euclid",
    "Path": "/bin/sh",
    "ProcessLabel": "",
    "ResolvConfPath": "/var/lib/docker/containers/ba033ac4401106a3b513bc9d639eee123ad78ca3616b921167cd74b20e25ed39/resolv.conf",
    "RestartCount": 1
}"#;

/// The Docker API on a unix socket, one thread per connection.
struct Daemon {
    socket: PathBuf,
    _dir: tempfile::TempDir,
    /// `METHOD path` of every request.
    requests: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    fn start() -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || serve(stream, &seen));
            }
        });
        Daemon {
            socket,
            _dir: dir,
            requests,
        }
    }
}

/// Answers the requests of one connection until the client closes it.
fn serve(stream: std::os::unix::net::UnixStream, seen: &Mutex<Vec<String>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        // The headers, up to the blank line (a GET has no body).
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" || header == "\n" {
                break;
            }
        }
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        seen.lock().unwrap().push(format!("{method} {target}"));
        // Without the version prefix the client may or may not send.
        let path = match target.strip_prefix("/v") {
            Some(rest) => rest.find('/').map_or(target, |i| &rest[i..]),
            None => target,
        };
        let (status, body) = if path == "/_ping" {
            ("200 OK", "OK".to_string())
        } else if path == "/info" {
            ("200 OK", INFO.to_string())
        } else if path.starts_with("/containers/") && path.ends_with("/json") {
            ("200 OK", CONTAINER.to_string())
        } else {
            (
                "404 Not Found",
                r#"{"message":"page not found"}"#.to_string(),
            )
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nApi-Version: 1.47\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn docker_host(daemon: &Daemon) -> String {
    format!("unix://{}", daemon.socket.display())
}

#[test]
fn host_name_and_os_type_from_the_daemon() {
    let daemon = Daemon::start();
    let otlp = free_port();
    let c = Collector::start_with_env(
        &config(otlp, "{detectors: [docker]}"),
        &[("DOCKER_HOST", &docker_host(&daemon))],
    );
    assert_eq!(
        resource_after_sending(&c, otlp),
        [
            "host.name=node5.corp.example.com",
            "os.type=linux",
            "service.name=svc-1"
        ],
        "log:\n{}",
        c.log()
    );
    // The container attributes are off by default: not asked for.
    let requests = daemon.requests.lock().unwrap().clone();
    assert!(
        !requests.iter().any(|r| r.contains("/containers/")),
        "{requests:?}"
    );
}

#[test]
fn container_attributes_when_enabled() {
    let daemon = Daemon::start();
    let otlp = free_port();
    let c = Collector::start_with_env(
        &config(
            otlp,
            "{detectors: [docker], docker: {resource_attributes: {container.name: {enabled: true}, container.image.name: {enabled: true}, os.type: {enabled: false}}}}",
        ),
        &[("DOCKER_HOST", &docker_host(&daemon))],
    );
    let mut want = vec![
        "container.image.name=04c5d3b7b0656168630d3ba35d8889bd0e9caafcaeb3004d2bfbc47e7c5d35d2",
        "container.name=/boring_euclid",
        "host.name=node5.corp.example.com",
        "service.name=svc-1",
    ];
    want.sort();
    assert_eq!(resource_after_sending(&c, otlp), want, "log:\n{}", c.log());
    // The container is looked up by this host's name, as Go does.
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let requests = daemon.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.ends_with(&format!("/containers/{}/json", hostname.trim()))),
        "{requests:?}"
    );
}

#[test]
fn without_a_daemon_nothing_is_detected_and_data_flows() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("unix://{}", dir.path().join("docker.sock").display());
    for fail_on_missing in [false, true] {
        let otlp = free_port();
        let c = Collector::start_with_env(
            &config(
                otlp,
                &format!("{{detectors: [docker], fail_on_missing_metadata: {fail_on_missing}}}"),
            ),
            &[("DOCKER_HOST", &missing)],
        );
        assert_eq!(resource_after_sending(&c, otlp), ["service.name=svc-1"]);
        assert_eq!(
            c.log().contains("failed to detect resource"),
            fail_on_missing,
            "{}",
            c.log()
        );
    }
}

#[test]
fn an_unparsable_docker_host_fails_when_the_detector_is_created_as_in_go() {
    // Go's Docker client refuses it when the processor creates the
    // detector, so the collector does not start; `validate` builds the
    // graph and fails at the same step.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    let text = config(free_port(), "{detectors: [docker]}")
        .replace("{dir}", &dir.path().display().to_string());
    std::fs::write(&path, text).unwrap();
    let (ok, output) = validate_with_env(
        &ferrotel_bin(),
        &path,
        &[("DOCKER_HOST", Some("/var/run/docker.sock"))],
    );
    assert!(!ok, "{output}");
    assert!(
        output.contains(
            "failed creating detector: could not initialize Docker client: unable to parse docker host `/var/run/docker.sock`"
        ),
        "{output}"
    );
}
