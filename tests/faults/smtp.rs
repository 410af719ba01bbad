//! A loopback SMTP server the instances send to, which the scenarios can take down, bring
//! back or make silent (it accepts connections and never answers). It counts every
//! message it accepted by Message-ID, so a lost or doubled e-mail shows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
struct Shared {
    silent: bool,
    /// How many of the next messages hang after RCPT (a slow recipient's mailbox, a
    /// stuck connection), until the sender gives up on them.
    stall_next: usize,
    /// Message-ID → how many times it was accepted.
    accepted: HashMap<String, usize>,
    /// ACK every segment at once (TCP_QUICKACK) instead of the kernel's delayed ACK.
    ack_at_once: bool,
}

pub struct Sink {
    pub port: u16,
    shared: Arc<Mutex<Shared>>,
    server: Option<JoinHandle<()>>,
}

impl Sink {
    pub async fn start() -> Result<Sink, String> {
        let mut sink = Sink {
            port: crate::process::free_port()?,
            shared: Arc::default(),
            server: None,
        };
        sink.up().await?;
        Ok(sink)
    }

    /// Listens again on the same port (after [`Sink::down`]).
    pub async fn up(&mut self) -> Result<(), String> {
        if self.server.is_some() {
            return Ok(());
        }
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .map_err(|e| format!("SMTP sink on port {}: {e}", self.port))?;
        let shared = self.shared.clone();
        self.server = Some(tokio::spawn(async move {
            let mut sessions = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                sessions.spawn(session(stream, shared.clone()));
            }
        }));
        Ok(())
    }

    /// Connections are refused, and the open ones are cut.
    pub fn down(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }

    pub fn set_silent(&self, silent: bool) {
        self.lock().silent = silent;
    }

    /// The next `n` messages hang after their recipient is named.
    pub fn stall_next(&self, n: usize) {
        self.lock().stall_next = n;
    }

    /// A server tuned for throughput: it acknowledges every segment at once, so a client
    /// that leaves Nagle's algorithm on is not held up by the delayed ACK (the mail
    /// benchmark's second server; the fault suite keeps the kernel's delayed ACK).
    #[allow(dead_code)]
    pub fn ack_at_once(&self) {
        self.lock().ack_at_once = true;
    }

    pub fn accepted(&self) -> HashMap<String, usize> {
        self.lock().accepted.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.down();
    }
}

fn silent(shared: &Mutex<Shared>) -> bool {
    shared.lock().map(|s| s.silent).unwrap_or(false)
}

fn take_stall(shared: &Mutex<Shared>) -> bool {
    let Ok(mut s) = shared.lock() else {
        return false;
    };
    let stall = s.stall_next > 0;
    s.stall_next = s.stall_next.saturating_sub(1);
    stall
}

/// One SMTP conversation, just enough of RFC 5321 for lettre.
async fn session(stream: TcpStream, shared: Arc<Mutex<Shared>>) {
    // A silent server holds the connection and says nothing while it stays silent.
    while silent(&shared) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if silent(&shared) {
            return;
        }
        let ack_at_once = shared.lock().is_ok_and(|s| s.ack_at_once);
        if ack_at_once {
            quick_ack(&lines);
        }
        let verb = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if verb.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if verb.starts_with("DATA") {
            if write.write_all(b"354 go on\r\n").await.is_err() {
                return;
            }
            let Some(message_id) = read_message(&mut lines, ack_at_once).await else {
                return;
            };
            if let Ok(mut s) = shared.lock() {
                *s.accepted.entry(message_id).or_default() += 1;
            }
            b"250 accepted\r\n"
        } else if verb.starts_with("RCPT") && take_stall(&shared) {
            std::future::pending::<()>().await;
            return;
        } else if verb.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 ok\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// Linux turns TCP_QUICKACK off again on its own, so it is set after every read.
fn quick_ack(lines: &BufReader<OwnedReadHalf>) {
    use std::os::fd::AsRawFd;
    let stream: &TcpStream = lines.get_ref().as_ref();
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a c_int option of the size given.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Reads the message up to the lone dot and returns its Message-ID (empty when it has
/// none).
async fn read_message(lines: &mut BufReader<OwnedReadHalf>, ack_at_once: bool) -> Option<String> {
    let mut message_id = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        if ack_at_once {
            quick_ack(lines);
        }
        let text = line.trim_end_matches(['\r', '\n']);
        if text == "." {
            return Some(message_id);
        }
        if let Some((name, value)) = text.split_once(':')
            && name.eq_ignore_ascii_case("message-id")
        {
            message_id = value.trim().to_string();
        }
    }
}
