//! Helper processes the stories start (a PostgreSQL cluster, chromedriver) and how they
//! go away: the test harness has no global teardown, so a watchdog shell waits for this
//! process to end and then cleans up.

use std::net::TcpListener;
use std::process::{Command, Stdio};

pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

/// Runs the shell line `cleanup` once this test process has ended. The watchdog runs as
/// this process's user (so `kill -0` may probe this process), in its own process group (so
/// a Ctrl-C of the tests does not kill it), with its standard streams on /dev/null (so it
/// holds none of the test harness's pipes).
pub fn when_tests_end(cleanup: &str) -> Result<(), String> {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {cleanup}",
        pid = std::process::id(),
    );
    detached_shell(&script).map_err(|e| format!("could not start the watchdog shell: {e}"))
}

/// Starts `script` in a shell of its own, detached from the harness.
pub fn detached_shell(script: &str) -> std::io::Result<()> {
    use std::os::unix::process::CommandExt;
    Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(|_detached| ())
}

pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
