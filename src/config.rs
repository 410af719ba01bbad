//! Layered configuration: `config/default.toml` < `config/{APPEALS_ENV}.toml` <
//! `APPEALS__SECTION__KEY` environment variables. Unknown keys are an error, so a typo
//! in a deployment fails at startup instead of silently falling back to a default.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    fn parse(s: &str) -> Result<Self, ConfigError> {
        match s {
            "development" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" => Ok(Self::Production),
            other => Err(ConfigError::Invalid(format!(
                "APPEALS_ENV must be development, test or production, not {other:?}"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// A setting that can hold a password, a private key or a key seed: readable with
/// [`Secret::expose`], printed by `Debug` as `[redacted]`, so a logged or panicking
/// `Settings` never shows it.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str("[redacted]")
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read")]
    Load(#[from] config::ConfigError),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(skip, default = "default_environment")]
    pub environment: Environment,
    pub server: ServerSettings,
    pub limits: LimitSettings,
    pub database: DatabaseSettings,
    pub session: SessionSettings,
    pub esia: EsiaSettings,
    pub emulator: EmulatorSettings,
    pub mail: MailSettings,
    pub demo: DemoSettings,
    pub import: ImportSettings,
    pub deadlines: DeadlineSettings,
    pub status_links: StatusLinkSettings,
    pub retention: RetentionSettings,
    pub consent: ConsentSettings,
}

fn default_environment() -> Environment {
    Environment::Development
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub public_url: String,
    pub request_timeout_secs: u64,
    pub utc_offset_hours: i32,
    /// Serve the ESIA emulator and /dev/mailbox on a non-loopback address.
    pub dev_tools_on_network: bool,
    /// Bearer token /metrics asks for; empty: open.
    pub metrics_token: Secret,
}

impl ServerSettings {
    /// The region's offset from UTC (validated at load to be within ±14 h).
    pub fn offset(&self) -> chrono::FixedOffset {
        chrono::FixedOffset::east_opt(self.utc_offset_hours * 3600)
            .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("UTC"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    pub sign_in_per_minute: u32,
    pub forms_per_minute: u32,
    pub link_attempts_per_hour: u32,
    pub link_attempts_per_client_per_hour: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// May carry the database password.
    pub url: Secret,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    pub idle_timeout_minutes: i64,
    pub absolute_timeout_minutes: i64,
    pub secure_cookie: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EsiaSettings {
    pub base_url: String,
    pub client_id: String,
    pub certificate_hash: String,
    pub issuer: String,
    /// `ed25519:<seed>` carries a private key.
    pub signer: Secret,
    pub verifier: String,
    pub timeout_secs: u64,
    pub emulator: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatorSettings {
    pub signing_key: Secret,
    pub client_public_key: String,
    pub personas_file: PathBuf,
    pub code_ttl_secs: i64,
    /// Scopes of the system's own agreement with ESIA beyond the methodical
    /// recommendations' list: accepted rather than refused with ESIA-007006.
    pub extra_scopes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    Smtp,
    File,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub transport: MailTransportKind,
    /// May carry the SMTP password.
    pub smtp_url: Secret,
    pub from: String,
    pub mailbox_dir: PathBuf,
    pub send_timeout_secs: u64,
    /// On shutdown, how long the sends in flight may take before their rows are handed back.
    pub shutdown_grace_secs: u64,
    pub max_attempts: i32,
    /// Seconds before the first retry of a failed send; each later retry waits twice as long.
    pub retry_first_secs: u64,
    /// The hour (region's time) after which each working day's deadline digest goes out.
    pub deadline_digest_hour: u32,
    pub poll_interval_ms: u64,
}

/// Who processes the applicants' personal data: the operator named in the consent text
/// (152-ФЗ ст. 9 ч. 4).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentSettings {
    pub operator: String,
    pub operator_address: String,
}

/// 152-ФЗ: how long personal data of closed appeals and the staff access log are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    pub appeal_years: u32,
    pub access_log_years: u32,
    /// How often the service runs the retention job itself; 0: only by the command.
    pub every_hours: u64,
}

impl RetentionSettings {
    pub fn terms(&self) -> crate::workflow::retention::Terms {
        crate::workflow::retention::Terms {
            appeal_years: self.appeal_years,
            access_log_years: self.access_log_years,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusLinkSettings {
    /// HMAC key of the status links in e-mails (`/s/{token}`); empty: no links.
    pub key: Secret,
}

/// 59-ФЗ terms and the production calendar's corrections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineSettings {
    /// Decrees on moved days off published after the `holidays-ru` crate's release.
    pub calendar_overrides: PathBuf,
    pub registration: crate::domain::deadlines::Rule,
    pub forwarding: crate::domain::deadlines::Rule,
    pub answer: crate::domain::deadlines::Rule,
    pub extension: crate::domain::deadlines::Rule,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSettings {
    /// The header names of import files (`config/import/*.toml`); a region adds its own.
    pub mapping_dir: PathBuf,
    /// The largest file the admin pages accept.
    pub upload_max_mb: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    pub seed: bool,
    pub directory_file: PathBuf,
}

impl Settings {
    /// Reads the layers from `config_dir` for the environment named by `APPEALS_ENV`
    /// (development when unset) and the process environment.
    pub fn load(config_dir: &Path) -> Result<Self, ConfigError> {
        let env_name = std::env::var("APPEALS_ENV").unwrap_or_else(|_| "development".into());
        let environment = Environment::parse(&env_name)?;
        Self::load_for(config_dir, environment, &[])
    }

    /// Like [`Settings::load`] with an explicit environment and extra overrides that sit
    /// above the environment variables (tests use them instead of mutating the process env).
    pub fn load_for(
        config_dir: &Path,
        environment: Environment,
        overrides: &[(&str, String)],
    ) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from(config_dir.join("default.toml")))
            .add_source(
                config::File::from(config_dir.join(format!("{}.toml", environment.as_str())))
                    .required(false),
            )
            .add_source(
                config::Environment::with_prefix("APPEALS")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            );
        for (key, value) in overrides {
            builder = builder.set_override(*key, value.clone())?;
        }
        let mut settings: Settings = builder.build()?.try_deserialize()?;
        settings.environment = environment;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: &str| Err(ConfigError::Invalid(msg.to_string()));
        let db_url = self.database.url.expose();
        if db_url.is_empty() {
            return invalid("database.url is empty (set APPEALS__DATABASE__URL)");
        }
        if !(db_url.starts_with("sqlite:") || db_url.starts_with("postgres")) {
            return invalid("database.url must start with sqlite: or postgres://");
        }
        if self.environment == Environment::Production {
            if self.esia.emulator {
                return invalid("the ESIA emulator cannot be enabled in production");
            }
            if self.mail.transport != MailTransportKind::Smtp {
                return invalid("production mail must use the smtp transport");
            }
            if !self.session.secure_cookie {
                return invalid("production session cookies must be Secure");
            }
        }
        if self.esia.base_url.is_empty() && !self.esia.emulator {
            return invalid("esia.base_url is empty and the emulator is off");
        }
        if self.esia.signer.expose().is_empty() || self.esia.verifier.is_empty() {
            return invalid("esia.signer and esia.verifier must be set");
        }
        if self.mail.transport == MailTransportKind::Smtp && self.mail.smtp_url.expose().is_empty()
        {
            return invalid("mail.smtp_url is required with the smtp transport");
        }
        let l = &self.limits;
        if [
            l.sign_in_per_minute,
            l.forms_per_minute,
            l.link_attempts_per_hour,
        ]
        .contains(&0)
            || l.link_attempts_per_client_per_hour == 0
        {
            return invalid("limits must be at least 1");
        }
        if self.consent.operator.trim().is_empty()
            || self.consent.operator_address.trim().is_empty()
        {
            return invalid(
                "consent.operator and consent.operator_address must name the operator of the \
                 personal data (the consent text shows them)",
            );
        }
        if self.mail.retry_first_secs < 1 {
            return invalid("mail.retry_first_secs must be at least 1");
        }
        if self.mail.max_attempts < 1 {
            return invalid("mail.max_attempts must be at least 1");
        }
        if !(-12..=14).contains(&self.server.utc_offset_hours) {
            return invalid("server.utc_offset_hours must be between -12 and 14");
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return invalid("mail.from is not an e-mail address");
        }
        let dev_tools = self.esia.emulator || self.mail.transport == MailTransportKind::File;
        if dev_tools && !self.server.dev_tools_on_network && !self.is_loopback_host() {
            return invalid(&format!(
                "the ESIA emulator and the development mailbox serve only on a loopback address, \
                 not on {}: set APPEALS_ENV=production for a real deployment, or \
                 server.dev_tools_on_network = true to show them on the network anyway",
                self.server.host
            ));
        }
        Ok(())
    }

    /// Whether the listen address is this machine only.
    pub fn is_loopback_host(&self) -> bool {
        self.server.host == "localhost"
            || self
                .server
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    pub fn is_development(&self) -> bool {
        self.environment != Environment::Production
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
    }

    #[test]
    fn development_defaults_load() {
        let s = Settings::load_for(&dir(), Environment::Development, &[]).unwrap();
        assert!(s.esia.emulator);
        assert_eq!(s.mail.transport, MailTransportKind::File);
        assert!(s.database.url.expose().starts_with("sqlite:"));
    }

    #[test]
    fn debug_output_redacts_passwords_and_keys() {
        let s = Settings::load_for(
            &dir(),
            Environment::Test,
            &[
                ("database.url", "postgres://app:hunter2@db/appeals".into()),
                ("mail.smtp_url", "smtps://mailer:s3cret@smtp.example".into()),
            ],
        )
        .unwrap();
        let printed = format!("{s:?}");
        for secret in [
            "hunter2",
            "s3cret",
            "bxw//uQKL+keV+jWDmCxj/mWRwS6Q2oYXEo47Bac6so=",
            "rpQSr+Pmd0+tcBXtHb9/RodkN0FMzZ9sxAzOArW3k1c=",
        ] {
            assert!(!printed.contains(secret), "{secret} printed in {printed}");
        }
        assert!(printed.contains("[redacted]"));
        assert_eq!(
            s.mail.smtp_url.expose(),
            "smtps://mailer:s3cret@smtp.example"
        );
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = Settings::load_for(
            &dir(),
            Environment::Development,
            &[("server.prot", "1".into())],
        )
        .unwrap_err();
        let cause = std::error::Error::source(&err)
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(cause.contains("prot"), "{cause}");
    }

    #[test]
    fn dev_tools_serve_only_on_loopback_unless_asked() {
        let on = |host: &str, allow: &str| {
            Settings::load_for(
                &dir(),
                Environment::Development,
                &[
                    ("server.host", host.into()),
                    ("server.dev_tools_on_network", allow.into()),
                ],
            )
        };
        assert!(on("127.0.0.1", "false").is_ok());
        assert!(on("::1", "false").is_ok());
        let err = on("0.0.0.0", "false").unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
        assert!(on("0.0.0.0", "true").is_ok());
    }

    #[test]
    fn production_refuses_the_emulator() {
        let err = Settings::load_for(
            &dir(),
            Environment::Production,
            &[
                ("database.url", "postgres://x@localhost/db".into()),
                ("esia.emulator", "true".into()),
                ("esia.signer", "command:/bin/false".into()),
                ("esia.verifier", "command:/bin/false".into()),
                ("mail.smtp_url", "smtp://localhost:25".into()),
            ],
        )
        .unwrap_err();
        assert!(err.to_string().contains("emulator"), "{err}");
    }

    #[test]
    fn production_needs_the_operator_the_consent_names() {
        let with = |operator: &str| {
            Settings::load_for(
                &dir(),
                Environment::Production,
                &[
                    ("database.url", "postgres://x@localhost/db".into()),
                    ("esia.signer", "command:/bin/false".into()),
                    ("esia.verifier", "command:/bin/false".into()),
                    ("mail.smtp_url", "smtp://localhost:25".into()),
                    ("consent.operator", operator.into()),
                    ("consent.operator_address", "г. Образцовск".into()),
                ],
            )
        };
        let err = with("").unwrap_err();
        assert!(err.to_string().contains("consent.operator"), "{err}");
        assert!(with("Министерство образования").is_ok());
    }
}
