//! SMTP delivery on connections the service opens and keeps itself. lettre speaks the
//! protocol (EHLO, STARTTLS, AUTH, the message); the sockets are ours because lettre 0.11
//! never sets TCP_NODELAY: with Nagle's algorithm and the server's delayed ACK every
//! message then waits about 40 ms for nothing (21 mails/s measured against a local
//! server; fixed upstream in lettre pull request #1159, not yet released). A connection
//! that failed, or that a timeout abandoned mid-message, is dropped, never reused.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("connecting to the SMTP server: {0}")]
    Connect(std::io::Error),
    #[error(transparent)]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl SmtpError {
    /// The server refused this message for good (5xx): sending it again cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Smtp(e) if e.is_permanent())
    }
}

enum Tls {
    None,
    /// STARTTLS when the server offers it.
    Opportunistic(TlsParameters),
    /// STARTTLS or no mail.
    Required(TlsParameters),
    /// TLS from the first byte (`smtps://`); lettre opens these sockets itself.
    Wrapper(TlsParameters),
}

/// Idle connections kept for the next messages: one per sending slot of the worker.
const KEEP_IDLE: usize = 16;
/// A connection idle longer than this is asked NOOP before it carries a message: servers
/// close idle connections after some minutes (RFC 5321 §4.5.3.2).
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(10);

pub struct SmtpServer {
    host: String,
    port: u16,
    tls: Tls,
    hello: ClientId,
    credentials: Option<Credentials>,
    connect_timeout: Duration,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl SmtpServer {
    /// lettre's URL forms: `smtp://host[:25]`, `smtp://host[:587]?tls=required|opportunistic`,
    /// `smtps://host[:465]`, with `user:password@` and an EHLO name as the path.
    pub fn from_url(url: &str, connect_timeout: Duration) -> Result<Self, String> {
        let url = url::Url::parse(url).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("no host")?.to_string();
        let tls_param = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let params = || TlsParameters::new(host.clone()).map_err(|e| e.to_string());
        let (tls, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("smtp", None) => (Tls::None, 25),
            ("smtp", Some("required")) => (Tls::Required(params()?), 587),
            ("smtp", Some("opportunistic")) => (Tls::Opportunistic(params()?), 587),
            ("smtps", _) => (Tls::Wrapper(params()?), 465),
            (scheme, tls) => {
                return Err(format!("unknown scheme {scheme} or tls={tls:?}"));
            }
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let credentials = url
            .password()
            .map(|p| Credentials::new(decode(url.username()), decode(p)));
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_string()),
        };
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            tls,
            hello,
            credentials,
            connect_timeout,
            idle: Mutex::new(Vec::new()),
        })
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpError> {
        let address = (self.host.as_str(), self.port);
        let mut conn = if let Tls::Wrapper(params) = &self.tls {
            let timeout = Some(self.connect_timeout);
            AsyncSmtpConnection::connect_tokio1(
                address,
                timeout,
                &self.hello,
                Some(params.clone()),
                None,
            )
            .await?
        } else {
            let tcp = tokio::time::timeout(self.connect_timeout, TcpStream::connect(address))
                .await
                .map_err(|_| SmtpError::Connect(std::io::ErrorKind::TimedOut.into()))?
                .map_err(SmtpError::Connect)?;
            tcp.set_nodelay(true).map_err(SmtpError::Connect)?;
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?
        };
        match &self.tls {
            Tls::Opportunistic(params) if conn.can_starttls() => {
                conn.starttls(params.clone(), &self.hello).await?;
            }
            Tls::Required(params) => conn.starttls(params.clone(), &self.hello).await?,
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await?;
        }
        Ok(conn)
    }

    /// An idle connection still worth using, or a new one.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, SmtpError> {
        loop {
            let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            let Some((mut conn, since)) = idle else {
                return self.connect().await;
            };
            if since.elapsed() < CHECK_AFTER_IDLE || conn.test_connected().await {
                return Ok(conn);
            }
            conn.abort().await;
        }
    }

    /// Sends one message. Dropping the future (a timeout) drops its connection with it.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SmtpError> {
        let mut conn = self.checkout().await?;
        // On an error lettre has already closed the connection; it is not kept.
        conn.send(envelope, message).await?;
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < KEEP_IDLE
        {
            idle.push((conn, Instant::now()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_read_as_lettre_reads_them() {
        let t = Duration::from_secs(1);
        let plain = SmtpServer::from_url("smtp://mail.example.org", t).unwrap();
        assert_eq!((plain.port, matches!(plain.tls, Tls::None)), (25, true));
        let submission =
            SmtpServer::from_url("smtp://u%40x:p%3Ass@mail.example.org?tls=required", t).unwrap();
        assert_eq!(submission.port, 587);
        assert!(matches!(submission.tls, Tls::Required(_)));
        assert!(submission.credentials.is_some());
        let wrapped =
            SmtpServer::from_url("smtps://mail.example.org:2465/relay.example", t).unwrap();
        assert_eq!(wrapped.port, 2465);
        assert!(matches!(wrapped.tls, Tls::Wrapper(_)));
        assert!(matches!(wrapped.hello, ClientId::Domain(ref d) if d == "relay.example"));
        assert!(SmtpServer::from_url("http://mail.example.org", t).is_err());
        assert!(SmtpServer::from_url("smtp://mail.example.org?tls=maybe", t).is_err());
        assert!(SmtpServer::from_url("not a url", t).is_err());
    }
}
