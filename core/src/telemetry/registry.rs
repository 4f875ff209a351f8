//! A minimal metric registry with Prometheus text output.
//!
//! The `prometheus-client` crate appends `_total` to counters, which the Go
//! collector's names do not have; this registry writes the names as given.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

type Labels = Vec<(String, String)>;

/// A monotonically increasing count.
#[derive(Clone, Default, Debug)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Clone, Default, Debug)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// Adds `n` (which may be negative).
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A distribution over fixed bucket bounds.
#[derive(Clone, Debug)]
pub struct Histogram(Arc<HistogramState>);

#[derive(Debug)]
struct HistogramState {
    bounds: Vec<f64>,
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_bits: Mutex<f64>,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, v: f64) {
        let s = &self.0;
        let i = s
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(s.bounds.len());
        s.buckets[i].fetch_add(1, Ordering::Relaxed);
        s.count.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut sum) = s.sum_bits.lock() {
            *sum += v;
        }
    }
}

enum Series {
    Counter(Counter),
    Gauge(Gauge),
    FloatFn(Box<dyn Fn() -> f64 + Send + Sync>),
    Histogram(Histogram),
}

struct Family {
    help: String,
    kind: &'static str,
    series: Vec<(Labels, Series)>,
}

/// Holds every metric; cheap to share.
pub struct Registry {
    const_labels: Labels,
    families: Mutex<BTreeMap<String, Family>>,
}

impl Registry {
    /// A registry whose series all carry `const_labels`.
    pub fn new(const_labels: Labels) -> Registry {
        Registry {
            const_labels,
            families: Mutex::new(BTreeMap::new()),
        }
    }

    fn labels(&self, labels: &[(&str, &str)]) -> Labels {
        let mut all: Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain(self.const_labels.iter().cloned())
            .collect();
        all.sort();
        all
    }

    /// Registers (or finds) a series and returns what `make` or the existing
    /// series gives.
    fn series<T>(
        &self,
        name: &str,
        help: &str,
        kind: &'static str,
        labels: &[(&str, &str)],
        find: impl Fn(&Series) -> Option<T>,
        make: impl FnOnce() -> (Series, T),
    ) -> T {
        let labels = self.labels(labels);
        let mut families = self.families.lock().unwrap_or_else(|p| p.into_inner());
        let family = families.entry(name.to_string()).or_insert_with(|| Family {
            help: help.to_string(),
            kind,
            series: Vec::new(),
        });
        if let Some(existing) = family
            .series
            .iter()
            .find(|(l, _)| *l == labels)
            .and_then(|(_, s)| find(s))
        {
            return existing;
        }
        let (series, handle) = make();
        family.series.push((labels, series));
        handle
    }

    /// A counter; the same name and labels give the same counter.
    pub fn counter(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Counter {
        self.series(
            name,
            help,
            "counter",
            labels,
            |s| match s {
                Series::Counter(c) => Some(c.clone()),
                _ => None,
            },
            || {
                let c = Counter::default();
                (Series::Counter(c.clone()), c)
            },
        )
    }

    /// A gauge; the same name and labels give the same gauge.
    pub fn gauge(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Gauge {
        self.series(
            name,
            help,
            "gauge",
            labels,
            |s| match s {
                Series::Gauge(g) => Some(g.clone()),
                _ => None,
            },
            || {
                let g = Gauge::default();
                (Series::Gauge(g.clone()), g)
            },
        )
    }

    /// A value computed when scraped (`kind` is `counter` or `gauge`).
    pub fn computed(
        &self,
        name: &str,
        help: &str,
        kind: &'static str,
        f: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        self.series(
            name,
            help,
            kind,
            &[],
            |_| Some(()),
            || (Series::FloatFn(Box::new(f)), ()),
        );
    }

    /// A histogram with the given upper bucket bounds.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
    ) -> Histogram {
        self.series(
            name,
            help,
            "histogram",
            labels,
            |s| match s {
                Series::Histogram(h) => Some(h.clone()),
                _ => None,
            },
            || {
                let h = Histogram(Arc::new(HistogramState {
                    bounds: bounds.to_vec(),
                    buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
                    count: AtomicU64::new(0),
                    sum_bits: Mutex::new(0.0),
                }));
                (Series::Histogram(h.clone()), h)
            },
        )
    }

    /// Everything in Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let families = self.families.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for (name, family) in families.iter() {
            let _ = writeln!(out, "# HELP {name} {}", family.help);
            let _ = writeln!(out, "# TYPE {name} {}", family.kind);
            for (labels, series) in &family.series {
                match series {
                    Series::Counter(c) => line(&mut out, name, labels, None, c.get() as f64),
                    Series::Gauge(g) => line(&mut out, name, labels, None, g.get() as f64),
                    Series::FloatFn(f) => line(&mut out, name, &self.const_labels, None, f()),
                    Series::Histogram(h) => {
                        let s = &h.0;
                        let mut cumulative = 0;
                        let bucket_name = format!("{name}_bucket");
                        for (i, b) in s.buckets.iter().enumerate() {
                            cumulative += b.load(Ordering::Relaxed);
                            let le = s
                                .bounds
                                .get(i)
                                .map_or("+Inf".to_string(), |b| b.to_string());
                            line(&mut out, &bucket_name, labels, Some(&le), cumulative as f64);
                        }
                        let sum = s.sum_bits.lock().map(|v| *v).unwrap_or(0.0);
                        line(&mut out, &format!("{name}_sum"), labels, None, sum);
                        line(
                            &mut out,
                            &format!("{name}_count"),
                            labels,
                            None,
                            s.count.load(Ordering::Relaxed) as f64,
                        );
                    }
                }
            }
        }
        out
    }
}

fn line(out: &mut String, name: &str, labels: &Labels, le: Option<&str>, value: f64) {
    out.push_str(name);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        for (k, v) in labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(le.map(|le| ("le", le)))
        {
            if !first {
                out.push(',');
            }
            first = false;
            let escaped = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(out, "{k}=\"{escaped}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_go_style_names_without_total() {
        let r = Registry::new(vec![("service_name".into(), "ferrotel".into())]);
        let c = r.counter(
            "otelcol_receiver_accepted_spans",
            "Spans.",
            &[("transport", "grpc"), ("receiver", "otlp")],
        );
        c.add(3);
        r.counter(
            "otelcol_receiver_accepted_spans",
            "Spans.",
            &[("transport", "grpc"), ("receiver", "otlp")],
        )
        .add(2);
        let h = r.histogram(
            "otelcol_processor_batch_batch_send_size",
            "Sizes.",
            &[("processor", "batch")],
            &[10.0, 100.0],
        );
        h.observe(50.0);
        let text = r.render();
        assert!(text.contains("# TYPE otelcol_receiver_accepted_spans counter\n"));
        assert!(text.contains(
            "otelcol_receiver_accepted_spans{receiver=\"otlp\",service_name=\"ferrotel\",transport=\"grpc\"} 5\n"
        ), "{text}");
        assert!(text.contains("otelcol_processor_batch_batch_send_size_bucket{processor=\"batch\",service_name=\"ferrotel\",le=\"100\"} 1"));
        assert!(!text.contains("_total"));
    }
}
