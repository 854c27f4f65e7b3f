//! Starting the real `guildmark serve` binary for a benchmark (shared by the benches
//! that drive a node over HTTP).

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};

/// A node on a fresh data directory and a loopback port; stopped on drop.
pub struct NodeProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    _data: tempfile::TempDir,
}

impl NodeProcess {
    /// Starts `guildmark serve` with `extra` arguments (e.g. `--demo`).
    pub fn start(extra: &[&str]) -> NodeProcess {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_guildmark"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data.path().join("data"))
            .args(extra)
            .env("GUILDMARK_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the node");
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let base = lines
            .by_ref()
            .map(|l| l.unwrap())
            .find_map(|l| {
                l.strip_prefix("listening on ")
                    .map(|r| r.split_whitespace().next().unwrap().to_owned())
            })
            .expect("the node's address");
        // Keep draining stdout so the node never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        NodeProcess {
            child,
            base,
            _data: data,
        }
    }
}

impl NodeProcess {
    /// The node's process id.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The node's data directory.
    #[allow(dead_code)] // not every bench looks at it
    pub fn data(&self) -> std::path::PathBuf {
        self._data.path().join("data")
    }

    /// Stops the node with SIGTERM and starts it again on the same data directory.
    #[allow(dead_code)]
    pub fn restart(&mut self, extra: &[&str]) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let mut child = Command::new(env!("CARGO_BIN_EXE_guildmark"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(self.data())
            .args(extra)
            .env("GUILDMARK_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the node again");
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        self.base = lines
            .by_ref()
            .map(|l| l.unwrap())
            .find_map(|l| {
                l.strip_prefix("listening on ")
                    .map(|r| r.split_whitespace().next().unwrap().to_owned())
            })
            .expect("the node's address");
        std::thread::spawn(move || for _ in lines {});
        self.child = child;
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
