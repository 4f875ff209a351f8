//! The Go collector (the oracle `tests/go-oracle/build.sh` builds) run on
//! a config, to put the same input through Go and ferrotel.

use crate::{oracle_bin, wait_until};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running Go collector with its scratch directory; killed on drop.
pub struct GoCollector {
    child: Child,
    dir: tempfile::TempDir,
}

impl GoCollector {
    /// Writes `config` (with `{dir}` replaced by the scratch directory) and
    /// starts the oracle on it, waiting until `port` accepts connections.
    /// Its stderr goes to `go.log` in the scratch directory.
    pub fn start(config: &str, port: u16) -> GoCollector {
        GoCollector::start_with_args(config, port, &[])
    }

    /// [`GoCollector::start`] with more arguments (`--feature-gates=...`).
    pub fn start_with_args(config: &str, port: u16, args: &[&str]) -> GoCollector {
        let dir = tempfile::tempdir().unwrap();
        let config = config.replace("{dir}", &dir.path().display().to_string());
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("go.log")).unwrap();
        let child = Command::new(oracle_bin())
            .args(args)
            .arg(format!("--config={}", path.display()))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let go = GoCollector { child, dir };
        assert!(
            wait_until(Duration::from_secs(20), || {
                std::net::TcpStream::connect(&addr).is_ok()
            }),
            "the Go collector did not start:\n{}",
            go.log()
        );
        go
    }

    /// The scratch directory `{dir}` stood for.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the collector wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("go.log")).unwrap_or_default()
    }
}

impl Drop for GoCollector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
