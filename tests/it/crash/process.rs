//! The real `lcm serve` as a child process: started on 127.0.0.1:0, ready once its JSON
//! `serving` log line names the bound address, ended with SIGKILL.

use std::collections::VecDeque;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a (re)start may take before the store counts as not opening.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// What the server logs when its open completed a landing a crash interrupted.
pub const REPLAYED: &str = "completed a landing that was interrupted";
/// Log lines kept for the failure message.
const LOG_TAIL: usize = 30;

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Server {
    /// Starts `lcm serve` on `data_dir` with `flags` and waits until it serves. The
    /// environment is cleared so no `LCM_*` variable of the caller changes the setup.
    pub async fn start(data_dir: &Path, flags: &[&str]) -> Result<Server, String> {
        let mut child = crate::harness::lcm_serve(Command::new(env!("CARGO_BIN_EXE_lcm")), data_dir, flags)
            .spawn()
            .map_err(|e| format!("cannot spawn lcm serve: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        let log = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_TAIL)));
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<SocketAddr, String>>();
        let tail = log.clone();
        // Reads stderr to its end (so the server never blocks on a full pipe); reports the
        // address of the `serving` line, or the exit message.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.is_some() {
                    let found =
                        serving_addr(&line).map(Ok).or_else(|| line.starts_with("lcm: ").then(|| Err(line.clone())));
                    if let Some(found) = found {
                        let _ = tx.take().map(|tx| tx.send(found));
                    }
                }
                let mut tail = tail.lock().unwrap();
                if tail.len() == LOG_TAIL {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
        let started = tokio::time::timeout(START_TIMEOUT, rx).await;
        let mut server = Server { child, addr: SocketAddr::from(([127, 0, 0, 1], 0)), log };
        match started {
            Ok(Ok(Ok(addr))) => {
                server.addr = addr;
                Ok(server)
            }
            Ok(Ok(Err(message))) => Err(format!("lcm serve exited: {message}\n{}", server.log_tail())),
            Ok(Err(_)) => Err(format!("lcm serve ended without serving\n{}", server.log_tail())),
            Err(_) => Err(format!("lcm serve did not serve within {START_TIMEOUT:?}\n{}", server.log_tail())),
        }
    }

    /// Starts `lcm serve` on `data_dir` and SIGKILLs it `after` the spawn, whether it
    /// serves by then or not: a crash during the open, the replay of an interrupted
    /// landing, or just after. Returns whether it had logged `serving`, and whether it
    /// logged that it completed an interrupted landing.
    pub async fn spawn_and_kill(data_dir: &Path, flags: &[&str], after: Duration) -> Result<(bool, bool), String> {
        let mut child = crate::harness::lcm_serve(Command::new(env!("CARGO_BIN_EXE_lcm")), data_dir, flags)
            .spawn()
            .map_err(|e| format!("cannot spawn lcm serve: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr pipe")?;
        let reader = std::thread::spawn(move || {
            // Reads to the end, so the server never blocks on a full pipe.
            std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .fold((false, false), |(s, r), l| (s | serving_addr(&l).is_some(), r | l.contains(REPLAYED)))
        });
        tokio::time::sleep(after).await;
        let _ = child.kill();
        let _ = child.wait();
        Ok(reader.join().unwrap_or((false, false)))
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps the process.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process has ended by itself.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub fn log_tail(&self) -> String {
        self.log.lock().unwrap().iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bound address in the JSON `serving` line, if `line` is that line.
fn serving_addr(line: &str) -> Option<SocketAddr> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let fields = v.get("fields").unwrap_or(&v);
    if fields.get("message")?.as_str()? != "serving" {
        return None;
    }
    fields.get("addr")?.as_str()?.parse().ok()
}
