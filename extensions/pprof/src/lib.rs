//! The `pprof` extension, as contrib's `pprofextension` (v0.165): Go's
//! `net/http/pprof` paths on `endpoint` (default `localhost:1777`).
//! `/debug/pprof/profile?seconds=N` (default 30) samples the process's CPU
//! with pprof-rs and answers a gzipped pprof profile that `go tool pprof`
//! reads; `save_to_file` profiles from start to shutdown into a file, as
//! Go does. Go's other profiles come from its runtime (heap, goroutines,
//! blocking, mutexes): ferrotel has no counterpart for them and answers
//! those paths with 501 (other names get Go's 404 `Unknown profile`), so
//! `block_profile_fraction` and `mutex_profile_fraction` are accepted and
//! have no effect.

mod profile;

use ferrotel_core::async_trait;
use ferrotel_core::component::{
    Component, ComponentConfig, ComponentError, CreateSettings, Extension, ExtensionFactory, Host,
    Metadata,
};
use ferrotel_core::config::Invalid;
use ferrotel_core::http_server::{HttpServer, bind, response};
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Samples per second, as Go's CPU profiler takes them.
const FREQUENCY: i32 = 100;

/// Libraries whose frames the sampler must not unwind through.
const BLOCKLIST: [&str; 4] = ["libc", "libgcc", "pthread", "vdso"];

/// `pprof` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `host:port`. Default `localhost:1777`.
    pub endpoint: String,
    /// Accepted; Go's block profile has no counterpart here.
    pub block_profile_fraction: i64,
    /// Accepted; Go's mutex profile has no counterpart here.
    pub mutex_profile_fraction: i64,
    /// Profile the CPU from start to shutdown into this file.
    pub save_to_file: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            endpoint: "localhost:1777".into(),
            block_profile_fraction: 0,
            mutex_profile_fraction: 0,
            save_to_file: String::new(),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), Invalid> {
        if self.endpoint.is_empty() {
            return Err("\"endpoint\" is required when using the \"pprof\" extension".into());
        }
        Ok(())
    }
}

struct PprofFactory;

/// The factory for the `pprof` extension.
pub fn factory() -> impl ExtensionFactory {
    PprofFactory
}

impl ExtensionFactory for PprofFactory {
    type Config = Config;

    fn metadata(&self) -> Metadata {
        ferrotel_core::metadata!()
    }

    fn create(
        &self,
        _set: CreateSettings,
        config: Config,
    ) -> Result<Arc<dyn Extension>, ComponentError> {
        Ok(Arc::new(Pprof {
            config,
            server: Mutex::new(None),
            whole_run: Mutex::new(None),
        }))
    }
}

/// The process has one CPU sampler; a second profile waits for none.
static PROFILING: AtomicBool = AtomicBool::new(false);

/// Holds the sampler for as long as it lives.
struct Sampling;

impl Sampling {
    fn take() -> Option<Sampling> {
        PROFILING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Sampling)
    }
}

impl Drop for Sampling {
    fn drop(&mut self) {
        PROFILING.store(false, Ordering::Release);
    }
}

fn start_sampler() -> Result<pprof::ProfilerGuard<'static>, String> {
    pprof::ProfilerGuardBuilder::default()
        .frequency(FREQUENCY)
        .blocklist(&BLOCKLIST)
        .build()
        .map_err(|e| e.to_string())
}

/// Profiles the CPU for `seconds`; a gzipped pprof profile.
fn cpu_profile(seconds: u64) -> Result<Vec<u8>, String> {
    let _sampling = Sampling::take().ok_or("cpu profiling already in use")?;
    let guard = start_sampler()?;
    std::thread::sleep(Duration::from_secs(seconds));
    let report = guard.report().build().map_err(|e| e.to_string())?;
    profile::encode(&report).map_err(|e| e.to_string())
}

/// The `seconds` query parameter, Go's default 30.
fn seconds(query: Option<&str>) -> u64 {
    query
        .unwrap_or_default()
        .split('&')
        .find_map(|p| p.strip_prefix("seconds="))
        .and_then(|s| s.parse().ok())
        .filter(|s| *s > 0)
        .unwrap_or(30)
}

const INDEX: &str = "<html><head><title>/debug/pprof/</title></head><body>\n/debug/pprof/<br>\n<br>\n<a href=\"profile?seconds=30\">profile</a>: CPU profile. Add ?seconds=N to choose how long.<br>\n<a href=\"cmdline\">cmdline</a>: the command line.<br>\n</body></html>\n";

/// The profile of the whole run, sampled on a thread of its own (the
/// sampler's guard stays on the thread that made it): dropping `stop`
/// ends it, and `done` says whether the file was written.
struct WholeRun {
    stop: std::sync::mpsc::Sender<()>,
    done: std::sync::mpsc::Receiver<Result<(), String>>,
}

impl WholeRun {
    fn start(path: String) -> Result<WholeRun, String> {
        let sampling = Sampling::take().ok_or("cpu profiling already in use")?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = std::sync::mpsc::channel::<Result<(), String>>();
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _sampling = sampling;
            let guard = match start_sampler() {
                Ok(g) => {
                    let _ = started_tx.send(Ok(()));
                    g
                }
                Err(e) => {
                    let _ = started_tx.send(Err(e));
                    return;
                }
            };
            // Until shutdown drops the sender.
            let _ = stopped.recv();
            let written = guard
                .report()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|r| profile::encode(&r).map_err(|e| e.to_string()))
                .and_then(|body| {
                    std::fs::write(&path, body).map_err(|e| format!("failed to write {path}: {e}"))
                });
            let _ = done_tx.send(written);
        });
        started
            .recv()
            .map_err(|_| "the profiler thread ended".to_string())??;
        Ok(WholeRun { stop, done })
    }

    fn finish(self) -> Result<(), String> {
        drop(self.stop);
        self.done
            .recv()
            .map_err(|_| "the profiler thread ended".to_string())?
    }
}

struct Pprof {
    config: Config,
    server: Mutex<Option<HttpServer>>,
    whole_run: Mutex<Option<WholeRun>>,
}

impl Extension for Pprof {}

#[async_trait]
impl Component for Pprof {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let listener = bind(&self.config.endpoint).await?;
        if !self.config.save_to_file.is_empty() {
            let run = WholeRun::start(self.config.save_to_file.clone())?;
            *self.whole_run.lock().unwrap_or_else(|p| p.into_inner()) = Some(run);
        }
        let server = HttpServer::start(listener, move |req, _| {
            let path = req.uri().path().to_string();
            let query = req.uri().query().map(str::to_string);
            async move {
                match path.as_str() {
                    "/debug/pprof/" | "/debug/pprof" => {
                        response(200, "text/html; charset=utf-8", INDEX)
                    }
                    "/debug/pprof/cmdline" => {
                        let args: Vec<String> = std::env::args().collect();
                        response(200, "text/plain; charset=utf-8", args.join("\0"))
                    }
                    "/debug/pprof/profile" => {
                        let seconds = seconds(query.as_deref());
                        match tokio::task::spawn_blocking(move || cpu_profile(seconds)).await {
                            Ok(Ok(body)) => {
                                let mut r = response(200, "application/octet-stream", body);
                                r.headers_mut().insert(
                                    "content-disposition",
                                    http_value("attachment; filename=\"profile\""),
                                );
                                r
                            }
                            Ok(Err(e)) => response(
                                500,
                                "text/plain; charset=utf-8",
                                format!("Could not enable CPU profiling: {e}\n"),
                            ),
                            Err(e) => response(500, "text/plain; charset=utf-8", format!("{e}\n")),
                        }
                    }
                    // Go's runtime profiles and its symbol and trace
                    // handlers: paths Go serves that ferrotel cannot.
                    "/debug/pprof/allocs"
                    | "/debug/pprof/block"
                    | "/debug/pprof/goroutine"
                    | "/debug/pprof/heap"
                    | "/debug/pprof/mutex"
                    | "/debug/pprof/threadcreate"
                    | "/debug/pprof/symbol"
                    | "/debug/pprof/trace" => response(
                        501,
                        "text/plain; charset=utf-8",
                        "ferrotel serves only the CPU profile (profile) and cmdline\n",
                    ),
                    // Go's pprof handler answers any other name so.
                    p if p.starts_with("/debug/pprof/") => {
                        response(404, "text/plain; charset=utf-8", "Unknown profile\n")
                    }
                    _ => response(404, "text/plain; charset=utf-8", "404 page not found\n"),
                }
            }
        });
        tracing::info!(endpoint = %self.config.endpoint, "Starting net/http/pprof server");
        *self.server.lock().unwrap_or_else(|p| p.into_inner()) = Some(server);
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(s) = server {
            s.shutdown().await;
        }
        let whole_run = self
            .whole_run
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(run) = whole_run {
            tokio::task::spawn_blocking(move || run.finish()).await??;
        }
        Ok(())
    }
}

fn http_value(s: &'static str) -> http::HeaderValue {
    http::HeaderValue::from_static(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_profile_is_a_gzipped_pprof_message_with_samples() {
        // Spin so there is something to sample.
        let stop = Arc::new(AtomicBool::new(false));
        let spin = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                }
                x
            })
        };
        let body = cpu_profile(1).unwrap();
        stop.store(true, Ordering::Relaxed);
        let _ = spin.join();
        assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip");
        assert_eq!(seconds(Some("seconds=5")), 5);
        assert_eq!(seconds(None), 30);
    }
}
