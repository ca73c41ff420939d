//! The real `wenji` binary as a child process: `wenji(..)` builds a command over a test's folder and
//! database; `ServerProcess` runs `wenji serve` with its log captured to a file, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// `wenji` with its folders inside `dir` and the database `db`, nothing inherited from the environment.
pub fn wenji(dir: &Path, db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wenji"));
    c.env("WENJI_DATABASE_URL", db)
        .env("WENJI_FORMS_DIR", dir.join("forms"))
        .env("WENJI_DATA_DIR", dir.join("data"))
        .env("WENJI_EXPORTS_DIR", dir.join("exports"))
        .env_remove("WENJI_SECRET")
        .env_remove("WENJI_PUBLIC_URL")
        .env_remove("WENJI_BIND")
        .env_remove("WENJI_LOG");
    c
}

/// A running `wenji serve`.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    pub log_path: PathBuf,
}

impl ServerProcess {
    /// Starts `wenji serve` on a free port with `env` set, and waits until `/healthz` answers.
    pub async fn start(dir: &Path, db: &str, env: &[(&str, &str)]) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log_path = dir.join(format!("server-{port}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let child = wenji(dir, db)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = ServerProcess { child, base: format!("http://127.0.0.1:{port}"), log_path };
        let deadline = Instant::now() + Duration::from_secs(60);
        let c = reqwest::Client::new();
        loop {
            if let Ok(r) = c.get(format!("{}/healthz", server.base)).send().await
                && r.status() == 200
            {
                return server;
            }
            assert!(Instant::now() < deadline, "wenji serve did not start: {}", server.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Sends SIGTERM, as systemd and docker do to stop a service.
    pub fn terminate(&self) {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill -TERM failed");
    }

    /// Waits up to `limit` for the process to end on its own.
    pub async fn exit_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "wenji serve still runs {limit:?} after SIGTERM: {}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
