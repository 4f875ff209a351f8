use super::*;

fn chain(yaml: &str) -> Chain {
    let raw: Vec<serde_yaml_ng::Value> = serde_yaml_ng::from_str(yaml).unwrap();
    Chain::build(&raw).unwrap()
}

fn build_error(yaml: &str) -> String {
    let raw: Vec<serde_yaml_ng::Value> = serde_yaml_ng::from_str(yaml).unwrap();
    Chain::build(&raw).unwrap_err().to_string()
}

fn line(body: &str, path: &str) -> Entry {
    Entry {
        body: Value::Str(body.into()),
        attributes: vec![(PATH_KEY.into(), Value::Str(path.into()))],
        ..Entry::default()
    }
}

const PATH_KEY: &str = "log.file.path";

fn attr<'a>(e: &'a Entry, key: &str) -> Option<&'a Value> {
    e.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn run(c: &mut Chain, entries: Vec<Entry>) -> Vec<Entry> {
    let mut out = Vec::new();
    for e in entries {
        c.process(e, &mut out);
    }
    out
}

#[test]
fn json_parser_with_timestamp_and_severity() {
    let mut c = chain(
        r#"
- type: json_parser
  timestamp: {parse_from: attributes.time, layout: '%Y-%m-%dT%H:%M:%S.%LZ'}
  severity: {parse_from: attributes.level}
"#,
    );
    let out = run(
        &mut c,
        vec![line(
            r#"{"time":"2024-01-02T03:04:05.678Z","level":"error","n":3,"nested":{"a":true}}"#,
            "/x",
        )],
    );
    assert_eq!(out.len(), 1);
    let e = &out[0];
    assert_eq!(e.timestamp, 1_704_164_645_678_000_000);
    assert_eq!((e.severity, e.severity_text.as_str()), (17, "error"));
    assert_eq!(attr(e, "n"), Some(&Value::Int(3)));
    assert_eq!(
        attr(e, PATH_KEY),
        Some(&Value::Str("/x".into())),
        "existing attributes are kept"
    );
    assert!(matches!(e.body, Value::Str(_)), "the body stays");
    // Not JSON: sent on unchanged (on_error: send).
    let out = run(&mut c, vec![line("not json", "/x")]);
    assert_eq!(out[0].body, Value::Str("not json".into()));
}

#[test]
fn regex_parser_to_body_and_on_error_drop() {
    let mut c = chain(
        r#"
- type: regex_parser
  regex: '^(?P<ip>\S+) \S+ \S+ \[(?P<ts>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+)'
  parse_to: body
  on_error: drop
"#,
    );
    let out = run(
        &mut c,
        vec![
            line(
                r#"10.0.0.1 - - [28/Nov/2026:01:02:03 +0000] "GET /index.html HTTP/1.1" 200"#,
                "/x",
            ),
            line("garbage", "/x"),
        ],
    );
    assert_eq!(out.len(), 1);
    assert_eq!(
        Field::parse("body.method").unwrap().get(&out[0]),
        Some(&Value::Str("GET".into()))
    );
}

#[test]
fn container_merges_cri_partials_and_reads_the_pod_path() {
    let mut c = chain("- type: container");
    let path = "/var/log/pods/default_web-7d9f_0b1c2d3e-aaaa-bbbb-cccc-1234567890ab/nginx/2.log";
    let out = run(
        &mut c,
        vec![
            line("2024-01-02T03:04:05.000000001Z stdout P hello ", path),
            line("2024-01-02T03:04:05.000000002Z stdout P big ", path),
            line("2024-01-02T03:04:05.000000003Z stdout F world", path),
            line("2024-01-02T03:04:06Z stderr F oops", path),
        ],
    );
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].body, Value::Str("hello big world".into()));
    assert_eq!(out[0].timestamp, 1_704_164_645_000_000_001);
    assert_eq!(attr(&out[0], "logtag"), Some(&Value::Str("F".into())));
    assert_eq!(
        attr(&out[1], "log.iostream"),
        Some(&Value::Str("stderr".into()))
    );
    let res: HashMap<_, _> = out[0].resource.iter().cloned().collect();
    assert_eq!(res["k8s.namespace.name"], Value::Str("default".into()));
    assert_eq!(res["k8s.pod.name"], Value::Str("web-7d9f".into()));
    assert_eq!(
        res["k8s.pod.uid"],
        Value::Str("0b1c2d3e-aaaa-bbbb-cccc-1234567890ab".into())
    );
    assert_eq!(res["k8s.container.name"], Value::Str("nginx".into()));
    assert_eq!(res["k8s.container.restart_count"], Value::Str("2".into()));
}

#[test]
fn container_merges_docker_partials_and_flushes_leftovers() {
    let mut c = chain("- {type: container, format: docker, add_metadata_from_filepath: false}");
    let out = run(
        &mut c,
        vec![
            line(
                r#"{"log":"part one ","stream":"stdout","time":"2024-01-02T03:04:05Z"}"#,
                "/a",
            ),
            line(
                r#"{"log":"and two\n","stream":"stdout","time":"2024-01-02T03:04:05Z"}"#,
                "/a",
            ),
            line(
                r#"{"log":"dangling","stream":"stdout","time":"2024-01-02T03:04:05Z"}"#,
                "/b",
            ),
        ],
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].body, Value::Str("part one and two".into()));
    let mut rest = Vec::new();
    c.flush(true, &mut rest);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].body, Value::Str("dangling".into()));
}

#[test]
fn recombine_by_first_entry_per_source() {
    let mut c = chain(
        r#"
- type: recombine
  combine_field: body
  is_first_entry: body matches "^\\d{4}-"
"#,
    );
    let from = |file: u64, offset: u64, mut e: Entry| {
        e.origin = Some(crate::entry::Origin {
            file: (1, file),
            offset,
        });
        e
    };
    let out = run(
        &mut c,
        vec![
            from(1, 0, line("2024-01-01 start a", "/a")),
            from(2, 0, line("2024-01-01 start b", "/b")),
            from(1, 19, line("  at a1", "/a")),
            from(2, 19, line("  at b1", "/b")),
            from(1, 27, line("2024-01-01 next a", "/a")),
        ],
    );
    assert_eq!(out.len(), 1);
    // What is held bounds each file's checkpoint.
    assert_eq!(c.held_from((1, 1)), Some(27));
    assert_eq!(c.held_from((1, 2)), Some(0));
    assert_eq!(c.held_from((1, 3)), None);
    assert_eq!(
        out[0].body,
        Value::Str("2024-01-01 start a\n  at a1".into())
    );
    let mut rest = Vec::new();
    c.flush(true, &mut rest);
    let mut bodies: Vec<_> = rest.iter().map(|e| e.body.clone()).collect();
    bodies.sort_by_key(|b| format!("{b:?}"));
    assert_eq!(
        bodies,
        [
            Value::Str("2024-01-01 next a".into()),
            Value::Str("2024-01-01 start b\n  at b1".into())
        ]
    );
}

#[test]
fn field_operators_and_router() {
    let mut c = chain(
        r#"
- type: router
  routes:
    - expr: 'body matches "^\\{"'
      output: parse_json
      attributes: {format: json}
  default: tag_plain
- {id: parse_json, type: json_parser, parse_to: body, output: tidy}
- {id: tag_plain, type: add, field: attributes.format, value: plain, output: tidy}
- {id: tidy, type: move, from: attributes.format, to: resource.format}
- {type: copy, from: resource.format, to: 'attributes["log.format"]'}
- {type: remove, field: 'attributes["log.file.path"]'}
- {type: flatten, field: body.inner, if: 'resource.format == "json"'}
"#,
    );
    let out = run(
        &mut c,
        vec![
            line(r#"{"inner":{"a":1},"b":2}"#, "/x"),
            line("plain text", "/x"),
        ],
    );
    assert_eq!(out.len(), 2);
    let json = out
        .iter()
        .find(|e| matches!(e.body, Value::Map(_)))
        .unwrap();
    assert_eq!(
        Field::parse("body.a").unwrap().get(json),
        Some(&Value::Int(1))
    );
    assert_eq!(Field::parse("body.inner").unwrap().get(json), None);
    assert_eq!(attr(json, "log.format"), Some(&Value::Str("json".into())));
    assert_eq!(attr(json, PATH_KEY), None);
    let plain = out
        .iter()
        .find(|e| matches!(e.body, Value::Str(_)))
        .unwrap();
    assert_eq!(
        Field::parse("resource.format").unwrap().get(plain),
        Some(&Value::Str("plain".into()))
    );
}

#[test]
fn config_errors_name_the_operator() {
    assert_eq!(
        build_error("- type: nope"),
        "operators[0]: unsupported type 'nope'"
    );
    assert!(
        build_error("- {type: regex_parser, regex: '(?P<a>'}")
            .starts_with("operators[0]: compiling regex:")
    );
    assert!(
        build_error("- {type: regex_parser, regex: 'abc'}").contains("no named capture groups")
    );
    assert!(
        build_error("- {type: json_parser, id: a}\n- {type: noop, id: a}")
            == "operator with id 'a' already exists in pipeline"
    );
    // pkg/stanza ignores keys an operator does not read.
    chain("- {type: move, from: body, to: attributes.x, bogus: 1}");
    assert!(
        build_error("- {type: add, field: body, value: 1, output: nowhere}")
            == "operator 'nowhere' does not exist: {\"operator_id\":\"add\"}"
    );
    assert!(build_error("- {type: noop, if: 'len(body) > 1'}").starts_with("operators[0]:"));
    assert!(build_error("- {type: json_parser, timestamp: {layout: '%Q'}}").contains("%Q"));
}

#[test]
fn repeated_default_ids_get_numbered_names_as_stanza_gives_them() {
    let c = chain(
        "- {type: move, from: body.a, to: body.b}
- {type: move, from: body.c, to: body.d}
- {type: noop, id: move2}
- {type: move, id: move, from: body.e, to: body.f}
- {type: noop}
- {type: noop}",
    );
    let ids: Vec<&str> = c.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["move", "move1", "move2", "move3", "noop", "noop1"]);
    // Each still leads to the next one.
    let next: Vec<Vec<usize>> = c.nodes.iter().map(|n| n.next.clone()).collect();
    assert_eq!(next, [vec![1], vec![2], vec![3], vec![4], vec![5], vec![]]);
}

#[test]
fn filter_drops_matching_entries_and_retain_keeps_only_the_named_fields() {
    let mut c = chain(
        r#"
- type: json_parser
- type: filter
  expr: 'attributes.level == "debug"'
- type: retain
  fields: [attributes.msg, attributes.level]
"#,
    );
    let out = run(
        &mut c,
        vec![
            line(r#"{"level":"debug","msg":"noise","x":1}"#, "/x"),
            line(r#"{"level":"info","msg":"kept","x":2}"#, "/x"),
        ],
    );
    assert_eq!(out.len(), 1, "the debug entry is dropped");
    let e = &out[0];
    let mut keys: Vec<&str> = e.attributes.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["level", "msg"], "attributes no field names are gone");
    assert_eq!(attr(e, "msg"), Some(&Value::Str("kept".into())));
    // The body names no field, so it is kept whole.
    assert_eq!(
        e.body,
        Value::Str(r#"{"level":"info","msg":"kept","x":2}"#.into())
    );
}

#[test]
fn filter_drop_ratio_zero_keeps_everything_and_bad_settings_are_go_s_errors() {
    let mut c = chain("- {type: filter, expr: 'true', drop_ratio: 0}");
    assert_eq!(run(&mut c, vec![line("a", "/x"), line("b", "/x")]).len(), 2);
    assert_eq!(
        build_error("- {type: filter, expr: 'true', drop_ratio: 2}"),
        "operators[0]: drop_ratio must be a number between 0 and 1"
    );
    assert_eq!(
        build_error("- {type: retain}"),
        "operators[0]: retain: 'fields' is empty"
    );
    assert!(
        build_error("- {type: filter, expr: '(('}")
            .starts_with("operators[0]: failed to compile expression '((':")
    );
}
