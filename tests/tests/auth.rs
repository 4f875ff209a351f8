//! Authentication extensions end to end: real clients (the OpenTelemetry
//! Python SDK's exporters over gRPC and HTTP, raw gRPC and HTTP calls)
//! against an OTLP receiver with `auth`, and ferrotel's own exporters
//! carrying credentials to another ferrotel. Refusals carry Go's status
//! (HTTP 401 with an OTLP Status body, gRPC `Unauthenticated`) and Go's
//! messages; a token file is read again when it changes; tokens stay out
//! of `print-config`.

use ferrotel_e2e::go_collector::GoCollector;
use ferrotel_e2e::{Collector, cache_dir, free_port, read_json_file, wait_until, workspace_root};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs the Python auth client; its JSON answer.
fn client(transport: &str, endpoint: &str, headers: &str) -> Value {
    let python = cache_dir().join("venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: the README's test command installs the Python SDK",
        python.display()
    );
    let out = Command::new(python)
        .arg(workspace_root().join("tests/clients/python_auth.py"))
        .args([transport, endpoint, headers])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "client printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A receiver on both transports whose credentials `bearertokenauth`
/// checks against the token file `{dir}/token`.
fn guarded(grpc: u16, http: u16) -> Collector {
    Collector::start(&format!(
        "
extensions:
  bearertokenauth:
    filename: '{{dir}}/token'
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: '127.0.0.1:{grpc}', auth: {{authenticator: bearertokenauth}}}}
      http: {{endpoint: '127.0.0.1:{http}', auth: {{authenticator: bearertokenauth}}}}
exporters:
  file: {{path: '{{dir}}/traces.json'}}
service:
  extensions: [bearertokenauth]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [file]}}
"
    ))
}

#[test]
fn bearer_tokens_are_checked_with_go_s_statuses_and_a_rotated_token_file_applies() {
    let (grpc, http) = (free_port(), free_port());
    // The token file appears only after the start: it is picked up when
    // it changes, as a mounted secret that arrives late would be.
    let c = guarded(grpc, http);
    std::fs::write(c.path("token"), "first-token\n").unwrap();
    let grpc_url = format!("http://127.0.0.1:{grpc}");
    let http_url = format!("http://127.0.0.1:{http}");
    // The file is read when it changes: wait until the first token works.
    assert!(
        wait_until(Duration::from_secs(10), || {
            client("http", &http_url, "authorization=Bearer first-token")["sdk"] == "SUCCESS"
        }),
        "{}",
        c.log()
    );
    assert_eq!(
        client("grpc", &grpc_url, "authorization=Bearer first-token")["sdk"],
        "SUCCESS"
    );

    // Missing and wrong credentials, with Go's codes and messages.
    let missing = client("grpc", &grpc_url, "-");
    assert_eq!(missing["sdk"], "FAILURE");
    assert_eq!(missing["code"], "UNAUTHENTICATED");
    assert_eq!(
        missing["message"],
        "missing or empty authorization header: Authorization"
    );
    let wrong = client("http", &http_url, "authorization=Bearer nope");
    assert_eq!(wrong["sdk"], "FAILURE");
    assert_eq!(wrong["code"], 401);
    let status: Value = serde_json::from_str(wrong["message"].as_str().unwrap()).unwrap();
    assert_eq!(
        status["code"], 16,
        "an OTLP Status with Unauthenticated: {status}"
    );
    assert_eq!(
        status["message"],
        "provided authorization does not match expected scheme or token"
    );

    // Rotation: the new token is taken and the old one refused.
    std::fs::write(c.path("token"), "second-token\n").unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        client("grpc", &grpc_url, "authorization=Bearer second-token")["sdk"] == "SUCCESS"
    }));
    assert_eq!(
        client("http", &http_url, "authorization=Bearer first-token")["code"],
        401
    );
    assert!(c.log().contains("refresh token"), "{}", c.log());

    // Every accepted span is there, and nothing refused.
    assert!(wait_until(Duration::from_secs(10), || read_json_file(
        &c.path("traces.json")
    )
    .len()
        >= 4));
    assert!(!c.log().contains("second-token") && !c.log().contains("first-token"));
}

#[test]
fn exporters_carry_credentials_from_the_client_side_of_the_extension() {
    let (grpc, http) = (free_port(), free_port());
    let server = guarded(grpc, http);
    std::fs::write(server.path("token"), "shared\n").unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let front = free_port();
    let relay = |token: &str| {
        Collector::start(&format!(
            "
extensions:
  bearertokenauth/out:
    token: {token}
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{front}'}}
exporters:
  otlp_grpc: {{endpoint: '127.0.0.1:{grpc}', tls: {{insecure: true}}, auth: {{authenticator: bearertokenauth/out}}, retry_on_failure: {{enabled: false}}}}
  otlp_http: {{endpoint: 'http://127.0.0.1:{http}', auth: {{authenticator: bearertokenauth/out}}, retry_on_failure: {{enabled: false}}}}
service:
  extensions: [bearertokenauth/out]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp_grpc, otlp_http]}}
"
        ))
    };
    let good = relay("shared");
    let front_url = format!("http://127.0.0.1:{front}");
    assert_eq!(client("http", &front_url, "-")["sdk"], "SUCCESS");
    assert!(
        wait_until(Duration::from_secs(10), || read_json_file(
            &server.path("traces.json")
        )
        .len()
            >= 2),
        "both exporters deliver: {}",
        server.log()
    );
    drop(good);
    let bad = relay("other");
    let _ = client("http", &front_url, "-");
    assert!(
        wait_until(Duration::from_secs(10), || bad
            .log()
            .contains("Unauthenticated")
            || bad.log().contains("401")),
        "{}",
        bad.log()
    );

    // print-config shows no token.
    let out = Command::new(ferrotel_e2e::ferrotel_bin())
        .args([
            "print-config",
            &format!("--config={}", bad.config_path().display()),
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("bearertokenauth/out"), "{printed}");
    assert!(!printed.contains("other"), "{printed}");
}

#[test]
fn basic_auth_checks_htpasswd_users_and_exporters_send_their_credentials() {
    let (grpc, http) = (free_port(), free_port());
    // bob's hash is `openssl passwd -apr1 -salt 6dUtBoq hunter2`.
    let server = Collector::start(&format!(
        "
extensions:
  basicauth/server:
    htpasswd:
      inline: |
        bob:$apr1$6dUtBoq$ebqYfMUgN01d8wQv2qJa3/
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: '127.0.0.1:{grpc}', auth: {{authenticator: basicauth/server}}}}
      http: {{endpoint: '127.0.0.1:{http}', auth: {{authenticator: basicauth/server}}}}
exporters:
  file: {{path: '{{dir}}/traces.json'}}
service:
  extensions: [basicauth/server]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [file]}}
"
    ));
    let http_url = format!("http://127.0.0.1:{http}");
    let grpc_url = format!("http://127.0.0.1:{grpc}");
    // `Basic Ym9iOmh1bnRlcjI=` is bob:hunter2.
    assert_eq!(
        client("http", &http_url, "authorization=Basic Ym9iOmh1bnRlcjI=")["sdk"],
        "SUCCESS"
    );
    let wrong = client("grpc", &grpc_url, "authorization=Basic Ym9iOndyb25n");
    assert_eq!(
        (wrong["code"].as_str(), wrong["message"].as_str()),
        (Some("UNAUTHENTICATED"), Some("invalid credentials"))
    );
    let none = client("http", &http_url, "-");
    let status: Value = serde_json::from_str(none["message"].as_str().unwrap()).unwrap();
    assert_eq!(
        (none["code"].as_u64(), status["message"].as_str()),
        (Some(401), Some("no basic auth provided"))
    );

    let front = free_port();
    let relay = Collector::start(&format!(
        "
extensions:
  basicauth/client:
    client_auth: {{username: bob, password: hunter2}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{front}'}}
exporters:
  otlp_grpc: {{endpoint: '127.0.0.1:{grpc}', tls: {{insecure: true}}, auth: {{authenticator: basicauth/client}}}}
service:
  extensions: [basicauth/client]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp_grpc]}}
"
    ));
    assert_eq!(
        client("http", &format!("http://127.0.0.1:{front}"), "-")["sdk"],
        "SUCCESS"
    );
    assert!(
        wait_until(Duration::from_secs(10), || read_json_file(
            &server.path("traces.json")
        )
        .len()
            >= 2),
        "{}\n{}",
        server.log(),
        relay.log()
    );
}

#[test]
fn an_authenticator_that_is_missing_or_of_the_wrong_side_fails_the_start_in_go_s_words() {
    let http = free_port();
    let start = |extensions: &str, authenticator: &str| {
        let mut c = Collector::spawn(
            &format!(
                "
extensions:
{extensions}
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{http}', auth: {{authenticator: {authenticator}}}}}
exporters: {{nop: }}
service:
  extensions: [basicauth]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [nop]}}
"
            ),
            &[],
        );
        assert!(!c.wait_exit().success());
        c.log()
    };
    let client_only = "  basicauth:\n    client_auth: {username: u, password: p}";
    assert!(
        start(client_only, "oidc").contains(
            "cannot start pipelines: failed to start \"otlp\" receiver: failed to resolve authenticator \"oidc\": authenticator not found"
        )
    );
    assert!(
        start(client_only, "basicauth")
            .contains("requested authenticator is not a server authenticator")
    );
}

/// Answers HTTP requests with 200 and an empty body, keeping the headers
/// of each: a backend that shows what the exporter sent.
fn header_capture() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers, then the body by Content-Length.
            let head_end = loop {
                let Ok(n) = stream.read(&mut chunk) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(i);
                }
            };
            let Some(head_end) = head_end else { continue };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head_end + 4 + length {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            keep.lock().unwrap().push(head);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (port, seen)
}

#[test]
fn headers_setter_copies_the_client_s_metadata_onto_exported_requests() {
    let (backend, seen) = header_capture();
    let front = free_port();
    let relay = Collector::start(&format!(
        "
extensions:
  headers_setter:
    headers:
      - {{key: X-Scope-OrgID, from_context: x-tenant, default_value: nobody, action: upsert}}
      - {{key: X-Source, value: ferrotel, action: insert}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{front}', include_metadata: true}}
exporters:
  otlp_http:
    endpoint: 'http://127.0.0.1:{backend}'
    compression: none
    sending_queue: {{enabled: false}}
    auth: {{authenticator: headers_setter}}
service:
  extensions: [headers_setter]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp_http]}}
"
    ));
    let front_url = format!("http://127.0.0.1:{front}");
    assert_eq!(
        client("http", &front_url, "x-tenant=acme")["sdk"],
        "SUCCESS",
        "{}",
        relay.log()
    );
    assert_eq!(client("http", &front_url, "-")["sdk"], "SUCCESS");
    let heads = seen.lock().unwrap().clone();
    let traces: Vec<&String> = heads
        .iter()
        .filter(|h| h.starts_with("post /v1/traces"))
        .collect();
    assert!(traces.len() >= 2, "{heads:?}");
    assert!(
        traces[0].contains("x-scope-orgid: acme") && traces[0].contains("x-source: ferrotel"),
        "{}",
        traces[0]
    );
    assert!(
        traces.iter().any(|h| h.contains("x-scope-orgid: nobody")),
        "{traces:?}"
    );
}

/// A token endpoint of the client credentials flow: it wants
/// `reporter:s3cret` in a Basic header and answers with one token that
/// lasts an hour. Returns its port and each request's head and body.
/// Pairs of text a test server records or serves, shared with it.
type Shared = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

fn token_server() -> (u16, Shared) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let mut parsed = None;
            while parsed.is_none() {
                let Ok(n) = stream.read(&mut chunk) else {
                    break;
                };
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() >= i + 4 + length {
                        let body =
                            String::from_utf8_lossy(&buf[i + 4..i + 4 + length]).into_owned();
                        parsed = Some((head, body));
                    }
                }
            }
            let Some((head, body)) = parsed else { continue };
            // base64("reporter:s3cret")
            let authorized = head.contains("authorization: basic cmvwb3j0zxi6cznjcmv0");
            keep.lock().unwrap().push((head, body));
            let (status, body) = if authorized {
                (
                    "200 OK",
                    r#"{"access_token":"issued-token","token_type":"bearer","expires_in":3600}"#,
                )
            } else {
                ("401 Unauthorized", r#"{"error":"invalid_client"}"#)
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (port, seen)
}

#[test]
fn oauth2_client_credentials_are_exchanged_for_a_token_the_backend_accepts() {
    let (token_port, token_requests) = token_server();
    let (grpc, http) = (free_port(), free_port());
    let backend = Collector::start(&format!(
        "
extensions:
  bearertokenauth:
    token: issued-token
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: '127.0.0.1:{grpc}', auth: {{authenticator: bearertokenauth}}}}
      http: {{endpoint: '127.0.0.1:{http}', auth: {{authenticator: bearertokenauth}}}}
exporters:
  file: {{path: '{{dir}}/traces.json'}}
service:
  extensions: [bearertokenauth]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [file]}}
"
    ));
    let front = free_port();
    let relay = Collector::start(&format!(
        "
extensions:
  oauth2client:
    client_id: reporter
    client_secret: s3cret
    token_url: 'http://127.0.0.1:{token_port}/oauth2/token'
    scopes: [telemetry.write]
    endpoint_params: {{audience: collector}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{front}'}}
exporters:
  otlp_http: {{endpoint: 'http://127.0.0.1:{http}', auth: {{authenticator: oauth2client}}}}
  otlp_grpc: {{endpoint: '127.0.0.1:{grpc}', tls: {{insecure: true}}, auth: {{authenticator: oauth2client}}}}
service:
  extensions: [oauth2client]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [otlp_http, otlp_grpc]}}
"
    ));
    let front_url = format!("http://127.0.0.1:{front}");
    for _ in 0..2 {
        assert_eq!(client("http", &front_url, "-")["sdk"], "SUCCESS");
    }
    assert!(
        wait_until(Duration::from_secs(10), || read_json_file(
            &backend.path("traces.json")
        )
        .len()
            >= 4),
        "{}\n{}",
        backend.log(),
        relay.log()
    );
    let requests = token_requests.lock().unwrap().clone();
    assert_eq!(
        requests.len(),
        1,
        "the token is kept until it expires: {requests:?}"
    );
    let (head, body) = &requests[0];
    assert!(head.starts_with("post /oauth2/token"), "{head}");
    assert!(
        head.contains("content-type: application/x-www-form-urlencoded"),
        "{head}"
    );
    assert_eq!(
        body,
        "grant_type=client_credentials&scope=telemetry.write&audience=collector"
    );
}

/// Serves fixed JSON documents by path, as an OpenID Connect issuer
/// serves its discovery document and key set.
fn json_server(documents: Shared, listener: std::net::TcpListener) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).into_owned();
            let path = head
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let docs = documents.lock().unwrap().clone();
            let answer = match docs.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    .to_string(),
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
}

/// An RSA key made by openssl: its PKCS#1 DER and its public JWK.
fn signing_key(dir: &std::path::Path, kid: &str) -> (Vec<u8>, String) {
    use base64::Engine;
    let pem = dir.join(format!("{kid}.pem"));
    let der = dir.join(format!("{kid}.der"));
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["genrsa", "-out", pem.to_str().unwrap(), "2048"]);
    run(&[
        "rsa",
        "-in",
        pem.to_str().unwrap(),
        "-outform",
        "DER",
        "-traditional",
        "-out",
        der.to_str().unwrap(),
    ]);
    let modulus = run(&["rsa", "-in", pem.to_str().unwrap(), "-noout", "-modulus"]);
    let hex = modulus.trim().trim_start_matches("Modulus=");
    let n: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n);
    let jwk =
        format!(r#"{{"kty":"RSA","kid":"{kid}","use":"sig","alg":"RS256","n":"{n}","e":"AQAB"}}"#);
    (std::fs::read(&der).unwrap(), jwk)
}

fn jwt(key: &[u8], kid: &str, claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(key),
    )
    .unwrap()
}

#[test]
fn oidc_checks_tokens_against_the_issuer_s_keys_and_follows_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (key1, jwk1) = signing_key(dir.path(), "k1");
    let (key2, jwk2) = signing_key(dir.path(), "k2");
    let docs = std::sync::Arc::new(std::sync::Mutex::new(vec![
        (
            "/.well-known/openid-configuration".to_string(),
            format!(r#"{{"issuer":"{issuer}","jwks_uri":"{issuer}/keys"}}"#),
        ),
        ("/keys".to_string(), format!(r#"{{"keys":[{jwk1}]}}"#)),
    ]));
    json_server(docs.clone(), listener);
    let http = free_port();
    let _c = Collector::start(&format!(
        "
extensions:
  oidc:
    issuer_url: '{issuer}'
    audience: telemetry
    username_claim: email
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{http}', auth: {{authenticator: oidc}}}}
exporters: {{nop: }}
service:
  extensions: [oidc]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [nop]}}
"
    ));
    let url = format!("http://127.0.0.1:{http}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |aud: &str, exp: u64| serde_json::json!({"iss": issuer, "aud": aud, "sub": "u1", "email": "u1@example.com", "exp": exp});
    let bearer = |token: String| format!("authorization=Bearer {token}");
    assert_eq!(
        client(
            "http",
            &url,
            &bearer(jwt(&key1, "k1", &claims("telemetry", now + 600)))
        )["sdk"],
        "SUCCESS"
    );
    let refused = |headers: String| {
        let answer = client("http", &url, &headers);
        assert_eq!(answer["code"], 401, "{answer}");
        let status: Value = serde_json::from_str(answer["message"].as_str().unwrap()).unwrap();
        status["message"].as_str().unwrap().to_string()
    };
    assert_eq!(refused("-".into()), "authentication didn't succeed");
    assert!(
        refused(bearer(jwt(&key1, "k1", &claims("elsewhere", now + 600))))
            .starts_with("failed to verify token: oidc: expected audience")
    );
    assert!(
        refused(bearer(jwt(&key1, "k1", &claims("telemetry", now - 600))))
            .contains("token is expired")
    );
    let no_email =
        serde_json::json!({"iss": issuer, "aud": "telemetry", "sub": "u1", "exp": now + 600});
    assert!(
        refused(bearer(jwt(&key1, "k1", &no_email)))
            .contains("username claim from the OIDC configuration not found")
    );
    // A token signed with a key the issuer does not publish is refused;
    // once the issuer publishes it, it is taken without a restart.
    let rotated = jwt(&key2, "k2", &claims("telemetry", now + 600));
    assert!(refused(bearer(rotated.clone())).contains("failed to verify"));
    docs.lock().unwrap()[1].1 = format!(r#"{{"keys":[{jwk1},{jwk2}]}}"#);
    assert_eq!(client("http", &url, &bearer(rotated))["sdk"], "SUCCESS");
}

#[test]
fn refused_credentials_get_the_same_answers_from_go_and_ferrotel() {
    // bob:hunter2 as in the basicauth test; the same config for both.
    let config = |grpc: u16, http: u16, authenticator: &str| {
        format!(
            "
extensions:
  bearertokenauth:
    token: the-token
  basicauth:
    htpasswd:
      inline: |
        bob:$apr1$6dUtBoq$ebqYfMUgN01d8wQv2qJa3/
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: '127.0.0.1:{grpc}', auth: {{authenticator: {authenticator}}}}}
      http: {{endpoint: '127.0.0.1:{http}', auth: {{authenticator: {authenticator}}}}}
exporters:
  nop:
service:
  extensions: [bearertokenauth, basicauth]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [nop]}}
"
        )
    };
    for (authenticator, credentials) in [
        (
            "bearertokenauth",
            [
                "-",
                "authorization=Bearer nope",
                "authorization=Bearer the-token",
            ],
        ),
        (
            "basicauth",
            [
                "-",
                "authorization=Basic Ym9iOndyb25n",
                "authorization=Basic Ym9iOmh1bnRlcjI=",
            ],
        ),
    ] {
        let (go_grpc, go_http, our_grpc, our_http) =
            (free_port(), free_port(), free_port(), free_port());
        let _go = GoCollector::start(&config(go_grpc, go_http, authenticator), go_http);
        let _ours = Collector::start(&config(our_grpc, our_http, authenticator));
        for headers in credentials {
            for (transport, go_port, our_port) in
                [("grpc", go_grpc, our_grpc), ("http", go_http, our_http)]
            {
                let go = client(transport, &format!("http://127.0.0.1:{go_port}"), headers);
                let ours = client(transport, &format!("http://127.0.0.1:{our_port}"), headers);
                assert_eq!(
                    ours["sdk"], go["sdk"],
                    "{authenticator} {transport} {headers}"
                );
                assert_eq!(
                    ours["code"], go["code"],
                    "{authenticator} {transport} {headers}"
                );
                if transport == "grpc" {
                    assert_eq!(ours["message"], go["message"], "{authenticator} {headers}");
                } else if go["code"] != 200 {
                    // HTTP bodies are OTLP Status JSON: compare code and message.
                    let parse = |v: &Value| -> Value {
                        serde_json::from_str(v.as_str().unwrap_or_default()).unwrap()
                    };
                    let (g, o) = (parse(&go["message"]), parse(&ours["message"]));
                    assert_eq!(o["code"], g["code"], "{authenticator} {headers}: {g} / {o}");
                    assert_eq!(
                        o["message"], g["message"],
                        "{authenticator} {headers}: {g} / {o}"
                    );
                }
            }
        }
    }
}

#[test]
fn oidc_refusals_get_the_same_answers_from_go_and_ferrotel() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (key1, jwk1) = signing_key(dir.path(), "k1");
    let (key2, _) = signing_key(dir.path(), "k2");
    let docs = std::sync::Arc::new(std::sync::Mutex::new(vec![
        (
            "/.well-known/openid-configuration".to_string(),
            format!(r#"{{"issuer":"{issuer}","jwks_uri":"{issuer}/keys"}}"#),
        ),
        ("/keys".to_string(), format!(r#"{{"keys":[{jwk1}]}}"#)),
    ]));
    json_server(docs, listener);
    let config = |http: u16| {
        format!(
            "
extensions:
  oidc:
    issuer_url: '{issuer}'
    audience: telemetry
    username_claim: email
receivers:
  otlp:
    protocols:
      http: {{endpoint: '127.0.0.1:{http}', auth: {{authenticator: oidc}}}}
exporters: {{nop: }}
service:
  extensions: [oidc]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [nop]}}
"
        )
    };
    let (go_http, our_http) = (free_port(), free_port());
    let _go = GoCollector::start(&config(go_http), go_http);
    let _ours = Collector::start(&config(our_http));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |aud: &str, exp: u64| serde_json::json!({"iss": issuer, "aud": aud, "sub": "u1", "email": "u1@example.com", "exp": exp});
    let no_email =
        serde_json::json!({"iss": issuer, "aud": "telemetry", "sub": "u1", "exp": now + 600});
    let bearer = |token: String| format!("authorization=Bearer {token}");
    for (case, headers) in [
        ("no token", "-".to_string()),
        ("not a jwt", "authorization=Bearer nope".to_string()),
        (
            "valid",
            bearer(jwt(&key1, "k1", &claims("telemetry", now + 600))),
        ),
        (
            "wrong audience",
            bearer(jwt(&key1, "k1", &claims("elsewhere", now + 600))),
        ),
        ("no username claim", bearer(jwt(&key1, "k1", &no_email))),
        (
            "expired",
            bearer(jwt(&key1, "k1", &claims("telemetry", now - 600))),
        ),
        (
            "unpublished key",
            bearer(jwt(&key2, "k2", &claims("telemetry", now + 600))),
        ),
    ] {
        let go = client("http", &format!("http://127.0.0.1:{go_http}"), &headers);
        let ours = client("http", &format!("http://127.0.0.1:{our_http}"), &headers);
        assert_eq!(ours["sdk"], go["sdk"], "{case}");
        assert_eq!(ours["code"], go["code"], "{case}");
        if go["code"] != 200 {
            let parse = |v: &Value| -> Value {
                serde_json::from_str(v.as_str().unwrap_or_default()).unwrap()
            };
            let (g, o) = (parse(&go["message"]), parse(&ours["message"]));
            assert_eq!(o["message"], g["message"], "{case}");
        }
    }
}
