//! The suite's PostgreSQL server. The server at `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) is used when one answers there. Otherwise a
//! throwaway cluster is started, once per test process, with the machine's `initdb` and
//! `pg_ctl` (Debian's `postgresql` packages) in a temporary directory, listening on a free
//! port of 127.0.0.1 only. The test harness has no global teardown, so a watchdog shell
//! started with the cluster waits for this process to end, then stops the server and
//! removes the directory.
//!
//! Only std, and blocking: it runs once, on a blocking thread, behind a `OnceLock`.

use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use super::process::{self, free_port, shell_quote};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Debian installs each major version's binaries in `/usr/lib/postgresql/<version>/bin`.
const LIB_DIR: &str = "/usr/lib/postgresql";
/// `initdb` and `pg_ctl` refuse to run as root: a test process running as root runs them
/// as this account (Debian's `postgresql` package creates it), which owns the cluster.
const CLUSTER_OWNER: &str = "postgres";
/// The cluster's superuser (`initdb -U`), who connects without a password (`-A trust`).
const SUPERUSER: &str = "postgres";

/// The admin URL of the suite's server (`CREATE DATABASE` runs there), resolved once per
/// process. `Err` says that there is no PostgreSQL and what was tried.
pub fn admin_url() -> &'static Result<String, String> {
    static URL: OnceLock<Result<String, String>> = OnceLock::new();
    URL.get_or_init(resolve)
}

fn resolve() -> Result<String, String> {
    let configured = std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    let Some((host, port)) = host_and_port(&configured) else {
        // No TCP host in the URL (a Unix socket): used as it is.
        return Ok(configured);
    };
    if answers(&host, port) {
        return Ok(configured);
    }
    start_cluster().map_err(|why| {
        format!(
            "PostgreSQL is required for the test suite: nothing answers at {configured} \
             (TEST_POSTGRES_URL, default {DEFAULT_URL}), and no throwaway cluster could be \
             started: {why}"
        )
    })
}

/// Host and port of `postgres://[user[:password]@]host[:port][/database][?params]`;
/// `None` when the URL names no TCP host.
fn host_and_port(url: &str) -> Option<(String, u16)> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() || host.starts_with('%') {
        return None;
    }
    let port = match port {
        Some(port) if !port.is_empty() => port.parse().ok()?,
        _ => 5432,
    };
    Some((host.to_string(), port))
}

/// Whether anything accepts a TCP connection at `host:port`.
fn answers(host: &str, port: u16) -> bool {
    (host, port).to_socket_addrs().is_ok_and(|mut addrs| {
        addrs.any(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok())
    })
}

/// Starts the throwaway cluster and returns its admin URL (database `postgres`).
fn start_cluster() -> Result<String, String> {
    let bin = find_bin_dir()?;
    let owner = Owner::detect()?;
    let dir = make_dir(owner.is_other())?;
    // The watchdog comes first, so the directory goes away whatever happens next.
    let pg_ctl = bin.join("pg_ctl");
    let data = dir.join("data");
    spawn_watchdog(&owner, &pg_ctl, &data, &dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("could not restrict {}: {e}", dir.display()))?;
    if let Owner::Other { uid, gid, .. } = owner {
        chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("could not give {} to {CLUSTER_OWNER}: {e}", dir.display()))?;
    }
    init_cluster(&owner, &bin.join("initdb"), &data, &dir)?;
    // A free port may be taken before the server binds it: then another port is tried.
    let mut last_failure = String::new();
    for _ in 0..3 {
        let port = free_port()?;
        match start_server(&owner, &pg_ctl, &data, &dir, port) {
            Ok(()) => return Ok(format!("postgres://{SUPERUSER}@127.0.0.1:{port}/postgres")),
            Err(why) => last_failure = why,
        }
    }
    Err(format!("{last_failure} (3 ports tried)"))
}

/// The first directory holding both `initdb` and `pg_ctl`: PATH, then
/// `/usr/lib/postgresql/*/bin`, highest version first.
fn find_bin_dir() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    let mut versions: Vec<(Vec<u64>, PathBuf)> = std::fs::read_dir(LIB_DIR)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| {
            let version: Vec<u64> = entry
                .file_name()
                .to_string_lossy()
                .split('.')
                .map(|part| part.parse::<u64>().unwrap_or(0))
                .collect();
            (version, entry.path().join("bin"))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    candidates.extend(versions.into_iter().map(|(_, bin)| bin));
    candidates
        .into_iter()
        .find(|dir| is_executable(&dir.join("initdb")) && is_executable(&dir.join("pg_ctl")))
        .ok_or_else(|| {
            format!(
                "no initdb with a pg_ctl beside it on PATH or in {LIB_DIR}/*/bin \
                 (install Debian's `postgresql` package)"
            )
        })
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|program| is_executable(program))
}

/// Who runs `initdb` and `pg_ctl`: this process's user, or `CLUSTER_OWNER` when this
/// process runs as root.
enum Owner {
    Me,
    Other { uid: u32, gid: u32, via: Switch },
}

/// How root runs a program as `CLUSTER_OWNER`.
enum Switch {
    Runuser(PathBuf),
    Su(PathBuf),
}

impl Owner {
    fn detect() -> Result<Owner, String> {
        if id(&["-u"]) != Some(0) {
            return Ok(Owner::Me);
        }
        let (Some(uid), Some(gid)) = (id(&["-u", CLUSTER_OWNER]), id(&["-g", CLUSTER_OWNER]))
        else {
            return Err(format!(
                "the tests run as root, which initdb refuses, and there is no \
                 `{CLUSTER_OWNER}` user to run it as (Debian's `postgresql` package creates it)"
            ));
        };
        let via = if let Some(runuser) = find_program("runuser") {
            Switch::Runuser(runuser)
        } else if let Some(su) = find_program("su") {
            Switch::Su(su)
        } else {
            return Err(format!(
                "the tests run as root, which initdb refuses, and neither runuser nor su \
                 is there to run it as `{CLUSTER_OWNER}`"
            ));
        };
        Ok(Owner::Other { uid, gid, via })
    }

    fn is_other(&self) -> bool {
        matches!(self, Owner::Other { .. })
    }

    /// The command line that runs `program args` as the owner.
    fn argv(&self, program: &Path, args: &[String]) -> Vec<String> {
        let mut direct = vec![program.display().to_string()];
        direct.extend_from_slice(args);
        match self {
            Owner::Me => direct,
            Owner::Other {
                via: Switch::Runuser(runuser),
                ..
            } => {
                let mut argv = vec![
                    runuser.display().to_string(),
                    "-u".into(),
                    CLUSTER_OWNER.into(),
                    "--".into(),
                ];
                argv.extend(direct);
                argv
            }
            Owner::Other {
                via: Switch::Su(su),
                ..
            } => vec![
                su.display().to_string(),
                CLUSTER_OWNER.into(),
                "-s".into(),
                "/bin/sh".into(),
                "-c".into(),
                format!("exec {}", shell_line(&direct)),
            ],
        }
    }

    /// Runs `program args` as the owner in `cwd` (a directory the owner may enter) and
    /// waits for it, its output captured.
    fn run(&self, program: &Path, args: &[String], cwd: &Path) -> Result<Output, String> {
        let argv = self.argv(program, args);
        Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(cwd)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("could not run {}: {e}", shell_line(&argv)))
    }
}

/// `id ARGS` as a number.
fn id(args: &[&str]) -> Option<u32> {
    let out = Command::new("id")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

/// A new directory for the cluster, named after this process.
fn make_dir(other_owner: bool) -> Result<PathBuf, String> {
    let base = cluster_base(other_owner);
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "appeals-pg-{}-{:08x}",
            std::process::id(),
            stamp.wrapping_add(attempt)
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("could not create {}: {e}", dir.display())),
        }
    }
    Err(format!(
        "could not create a directory in {}",
        base.display()
    ))
}

/// The temporary directory, or `/tmp` when its path is too long for the Unix socket path
/// (at most 107 bytes), has characters pg_ctl's shell-parsed `-o` could trip on, or may not
/// be entered by another owner.
fn cluster_base(other_owner: bool) -> PathBuf {
    let tmp = std::env::temp_dir();
    let plain = tmp.to_str().is_some_and(|s| {
        s.len() <= 60
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
    });
    let enterable =
        !other_owner || std::fs::metadata(&tmp).is_ok_and(|m| m.permissions().mode() & 0o001 != 0);
    if plain && enterable {
        tmp
    } else {
        PathBuf::from("/tmp")
    }
}

/// Stops the cluster and removes its directory once the tests end.
fn spawn_watchdog(owner: &Owner, pg_ctl: &Path, data: &Path, dir: &Path) -> Result<(), String> {
    let stop = owner.argv(
        pg_ctl,
        &[
            "-D".into(),
            data.display().to_string(),
            "-m".into(),
            "immediate".into(),
            "-w".into(),
            "-t".into(),
            "30".into(),
            "stop".into(),
        ],
    );
    process::when_tests_end(&format!(
        "{}; rm -rf {}",
        shell_line(&stop),
        shell_quote(&dir.display().to_string())
    ))
}

/// `initdb` with trust authentication for `SUPERUSER`, in C.UTF-8 like Debian's clusters,
/// or in C where that locale is missing.
fn init_cluster(owner: &Owner, initdb: &Path, data: &Path, dir: &Path) -> Result<(), String> {
    let mut failures = Vec::new();
    for locale in ["C.UTF-8", "C"] {
        let args: Vec<String> = vec![
            "-D".into(),
            data.display().to_string(),
            "-A".into(),
            "trust".into(),
            "-U".into(),
            SUPERUSER.into(),
            "-E".into(),
            "UTF8".into(),
            format!("--locale={locale}"),
            "--no-sync".into(),
        ];
        let out = owner.run(initdb, &args, dir)?;
        if out.status.success() {
            return Ok(());
        }
        failures.push(format!(
            "`{}` failed: {}",
            shell_line(&owner.argv(initdb, &args)),
            output_text(&out)
        ));
        let _ = std::fs::remove_dir_all(data);
    }
    Err(failures.join("; "))
}

/// `pg_ctl start`, waiting until the server accepts connections. The server listens on
/// 127.0.0.1:`port` and on a socket in `dir`, and trades durability for speed.
fn start_server(
    owner: &Owner,
    pg_ctl: &Path,
    data: &Path,
    dir: &Path,
    port: u16,
) -> Result<(), String> {
    let log = dir.join("server.log");
    // Each running test holds a pool of up to 5 connections plus an admin connection.
    let max_connections = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_mul(10)
        .max(100);
    let options = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='{dir}' \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c max_connections={max_connections}",
        dir = dir.display(),
    );
    let args: Vec<String> = vec![
        "-D".into(),
        data.display().to_string(),
        "-l".into(),
        log.display().to_string(),
        "-w".into(),
        "-t".into(),
        "60".into(),
        "-o".into(),
        options,
        "start".into(),
    ];
    let out = owner.run(pg_ctl, &args, dir)?;
    if out.status.success() {
        return Ok(());
    }
    let server_log = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: Vec<&str> = server_log.lines().rev().take(20).collect();
    Err(format!(
        "`{}` failed: {}; the end of {}:\n{}",
        shell_line(&owner.argv(pg_ctl, &args)),
        output_text(&out),
        log.display(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

fn output_text(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{} ({})", text.trim(), out.status)
}

fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|word| shell_quote(word))
        .collect::<Vec<_>>()
        .join(" ")
}
