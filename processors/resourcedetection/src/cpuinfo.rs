//! The `system` detector's `host.cpu.*` attributes, read from the first
//! processor of `/proc/cpuinfo` as Go's (gopsutil's `cpu.Info`) are.

use ferrotel_core::pdata::common::KeyValue;

/// The attributes, all off by default in Go.
pub(crate) const ATTRIBUTES: [&str; 6] = [
    "host.cpu.vendor.id",
    "host.cpu.family",
    "host.cpu.model.id",
    "host.cpu.model.name",
    "host.cpu.stepping",
    "host.cpu.cache.l2.size",
];

/// The enabled `host.cpu.*` attributes from `text` (a `/proc/cpuinfo`), in
/// the order Go sets them. gopsutil's errors (a stepping or cache size it
/// cannot read) fail the detector, as in Go.
pub(crate) fn attributes(
    text: &str,
    enabled: impl Fn(&str) -> bool,
) -> Result<Vec<KeyValue>, String> {
    let (mut vendor, mut family, mut model, mut name) = ("", "", "", "");
    let (mut stepping, mut cache) = (0i64, 0i64);
    let mut seen_processor = false;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            // The first processor's block only.
            "processor" if seen_processor => break,
            "processor" => seen_processor = true,
            "vendor_id" | "vendorId" => vendor = value,
            "cpu family" => family = value,
            "model" => model = value,
            "model name" => name = value,
            "stepping" if value != "unknown" => {
                stepping = value
                    .parse()
                    .map_err(|_| format!("failed getting host cpuinfo: strconv.ParseInt: parsing {value:?}: invalid syntax"))?;
            }
            "cache size" => {
                let kb = value.replacen(" KB", "", 1);
                cache = kb
                    .parse()
                    .map_err(|_| format!("failed getting host cpuinfo: strconv.ParseInt: parsing {kb:?}: invalid syntax"))?;
            }
            _ => {}
        }
    }
    if !seen_processor {
        return Ok(Vec::new());
    }
    use ferrotel_core::pdata::common::any_value::Value;
    let mut out = Vec::new();
    let mut put = |key: &str, value: Value| {
        if enabled(key) {
            ferrotel_core::pdata::go::map_put(&mut out, key, value);
        }
    };
    put("host.cpu.vendor.id", Value::StringValue(vendor.into()));
    put("host.cpu.family", Value::StringValue(family.into()));
    // Go leaves the model id out when /proc/cpuinfo has none.
    if !model.is_empty() {
        put("host.cpu.model.id", Value::StringValue(model.into()));
    }
    put("host.cpu.model.name", Value::StringValue(name.into()));
    put(
        "host.cpu.stepping",
        Value::StringValue(stepping.to_string()),
    );
    // In KB, as gopsutil reads it: no conversion.
    put("host.cpu.cache.l2.size", Value::IntValue(cache));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 158\nmodel name\t: Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz\nstepping\t: 10\ncache size\t: 12288 KB\n\nprocessor\t: 1\nvendor_id\t: Other\n";

    #[test]
    fn the_first_processor_is_read_as_gopsutil_reads_it() {
        let kvs = attributes(CPUINFO, |_| true).unwrap();
        let got: Vec<(String, String)> = kvs
            .iter()
            .map(|kv| {
                (
                    kv.key.clone(),
                    format!("{:?}", kv.value.as_ref().unwrap().value.as_ref().unwrap()),
                )
            })
            .collect();
        assert_eq!(got.len(), 6);
        assert_eq!(
            got[0],
            (
                "host.cpu.vendor.id".into(),
                "StringValue(\"GenuineIntel\")".into()
            )
        );
        assert_eq!(
            got[4],
            ("host.cpu.stepping".into(), "StringValue(\"10\")".into())
        );
        assert_eq!(
            got[5],
            ("host.cpu.cache.l2.size".into(), "IntValue(12288)".into())
        );
        assert!(attributes("processor: 0\ncache size: 8 MB\n", |_| true).is_err());
        assert_eq!(
            attributes(CPUINFO, |k| k == "host.cpu.family")
                .unwrap()
                .len(),
            1
        );
    }
}
