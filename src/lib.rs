//! `appeals`: appeals «Обратиться в организацию» for people who cannot get into the school
//! information system after an ESIA login. See `../shared/DESIGN.md` for the design.

pub mod config;
pub mod domain;
pub mod esia;
pub mod import;
pub mod log;
pub mod mail;
pub mod metrics;
pub mod store;
pub mod web;
pub mod workflow;

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::Metrics;
use config::Settings;
use domain::status_link::StatusLinks;
use esia::client::{EsiaClient, EsiaClientConfig};
use esia::emulator::{Emulator, EmulatorConfig};
use mail::{Transport, Worker};
use web::{AppState, CALLBACK_PATH, EMULATOR_PREFIX, Inner};
use workflow::Workflow;

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    /// Connects and migrates the database, seeds demo data when configured, binds the
    /// listener (port 0 picks a free one) and assembles the router.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let mut db = store::connect(
            settings.database.url.expose(),
            settings.database.max_connections,
        )
        .await
        .context("cannot connect to the database")?;
        let metrics = Arc::new(Metrics::new());
        let (statements, failed) = metrics.statements();
        db.set_metric_callback(move |info| {
            statements.record(info.elapsed);
            if info.failed {
                failed.increment(1);
            }
        });
        let demo = settings
            .demo
            .seed
            .then_some(settings.demo.directory_file.as_path());
        if store::prepare(&db, demo)
            .await
            .context("database migration failed")?
        {
            tracing::info!("demo directory seeded");
        }
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}:{}",
                    settings.server.host, settings.server.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let public_url = match settings.server.public_url.trim_end_matches('/') {
            "" => format!("http://{}:{port}", settings.server.host),
            url => url.to_string(),
        };
        let offset = settings.server.offset();
        let esia_base = match settings.esia.base_url.as_str() {
            "" => format!("{public_url}{EMULATOR_PREFIX}"),
            url => url.to_string(),
        };
        let redirect_uri = format!("{public_url}{CALLBACK_PATH}");
        let signer =
            esia::signer::signer_from_spec(settings.esia.signer.expose()).context("esia.signer")?;
        esia::signer::self_check(&*signer)
            .await
            .context("esia.signer does not sign as ESIA needs")?;
        let keyring =
            esia::signer::Keyring::from_specs(&settings.esia.verifier).context("esia.verifier")?;
        for key in keyring.describe() {
            tracing::info!(key, "ESIA token verifier");
        }
        let esia = EsiaClient::new(EsiaClientConfig {
            base_url: esia_base,
            client_id: settings.esia.client_id.clone(),
            certificate_hash: settings.esia.certificate_hash.clone(),
            redirect_uri: redirect_uri.clone(),
            issuer: settings.esia.issuer.clone(),
            signer: signer.clone(),
            keyring: keyring.clone(),
            timeout: Duration::from_secs(settings.esia.timeout_secs),
            offset,
        })?;
        if settings.esia.emulator {
            tracing::warn!(
                "the built-in ESIA EMULATOR is on: anyone can sign in as anyone, staff included; \
                 never run it for real users (APPEALS_ENV=production turns it off)"
            );
        }
        if settings.mail.transport == config::MailTransportKind::File {
            tracing::warn!(
                "e-mail goes to the development mailbox, readable by anyone at /dev/mailbox"
            );
        }
        let emulator = if settings.esia.emulator {
            let base = format!("{public_url}{EMULATOR_PREFIX}");
            Some(emulator_for(&settings, redirect_uri, base)?.router())
        } else {
            None
        };
        let transport = Arc::new(Transport::from_settings(&settings.mail)?);
        let calendar = production_calendar(&settings)?;
        let state = AppState(Arc::new(Inner {
            workflow: Workflow::new(db, public_url, offset).configured(
                calendar,
                deadline_rules(&settings),
                StatusLinks::new(settings.status_links.key.expose()),
            ),
            settings,
            esia,
            transport,
            metrics,
        }));
        let router = web::router(state.clone(), emulator);
        Ok(Self {
            listener,
            router,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub fn public_url(&self) -> &str {
        self.state.public_url()
    }

    pub fn db(&self) -> &DatabaseConnection {
        self.state.db()
    }

    /// The use cases, for callers that are not HTTP (the CLI, tests, benchmarks).
    pub fn workflow(&self) -> &Workflow {
        &self.state.workflow
    }

    /// A mail worker on this application's database and transport.
    pub fn mail_worker(&self) -> anyhow::Result<Worker> {
        Worker::new(
            self.state.workflow.clone(),
            self.state.transport.clone(),
            &self.state.settings.mail,
            self.state.metrics.clone(),
        )
    }

    /// The retention job every `retention.every_hours`, first soon after the start; a run
    /// on another instance at the same time changes nothing twice.
    fn retention_job(
        &self,
        mut stop: watch::Receiver<bool>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let settings = &self.state.settings.retention;
        if settings.every_hours == 0 {
            return None;
        }
        let every = Duration::from_secs(settings.every_hours * 3600);
        let (wf, terms) = (self.state.workflow.clone(), settings.terms());
        Some(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(
                tokio::time::Instant::now() + Duration::from_secs(60),
                every,
            );
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                match workflow::retention::run(&wf, terms, false).await {
                    Ok(r) => tracing::info!(
                        appeals = r.appeals,
                        events = r.events,
                        mails = r.mails,
                        access_log = r.access_log,
                        consents = r.consents,
                        "retention run"
                    ),
                    Err(e) => tracing::error!(error = %e, "retention run failed"),
                }
            }
        }))
    }

    /// Serves until SIGINT/SIGTERM, with the mail worker beside it. On the signal it takes
    /// no new work; requests in flight and the e-mails being sent get
    /// `mail.shutdown_grace_secs`, unsent e-mails go back to the queue, and it exits.
    pub async fn run_until_stopped(self, with_worker: bool) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.state.settings.mail.shutdown_grace_secs);
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = if with_worker {
            let sessions = store::sessions::DbSessionStore::new(self.state.db().clone());
            Some(tokio::spawn(
                self.mail_worker()?.run(sessions, stop_rx.clone()),
            ))
        } else {
            None
        };
        let retention = self.retention_job(stop_rx.clone());
        let metrics = self.state.metrics.clone();
        let upkeep = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(5));
            loop {
                ticks.tick().await;
                metrics.upkeep();
            }
        });
        // The peer address keys the per-client rate limits.
        let service = self
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let mut server_stop = stop_rx;
        let mut server = tokio::spawn(
            axum::serve(self.listener, service)
                .with_graceful_shutdown(async move {
                    let _ = server_stop.wait_for(|stop| *stop).await;
                })
                .into_future(),
        );
        tokio::select! {
            ended = &mut server => {
                upkeep.abort();
                return ended?.map_err(Into::into);
            }
            _ = shutdown_signal() => {}
        }
        let _ = stop_tx.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        if tokio::time::timeout_at(deadline, &mut server)
            .await
            .is_err()
        {
            tracing::warn!("requests still running at the end of the shutdown grace");
            server.abort();
        }
        if let Some(w) = worker {
            // The worker keeps to the same grace; a little more for handing rows back.
            let _ = tokio::time::timeout_at(deadline + Duration::from_secs(5), w).await;
        }
        if let Some(job) = retention {
            // A run cut short rolls back; the next one picks it up.
            job.abort();
        }
        upkeep.abort();
        tracing::info!("stopped");
        Ok(())
    }
}

/// The `holidays-ru` calendar with the region's corrections (`deadlines.calendar_overrides`).
pub fn production_calendar(settings: &Settings) -> anyhow::Result<domain::calendar::Calendar> {
    let path = &settings.deadlines.calendar_overrides;
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "deadlines.calendar_overrides: cannot read {}",
            path.display()
        )
    })?;
    domain::calendar::Calendar::with_overrides(&text)
        .map_err(|e| anyhow::anyhow!("deadlines.calendar_overrides {}: {e}", path.display()))
}

pub fn deadline_rules(settings: &Settings) -> domain::deadlines::Rules {
    let d = &settings.deadlines;
    domain::deadlines::Rules {
        registration: d.registration,
        forwarding: d.forwarding,
        answer: d.answer,
        extension: d.extension,
    }
}

/// The emulator for `redirect_uri`, serving at `base_url` (its REST links point there).
pub fn emulator_for(
    settings: &Settings,
    redirect_uri: String,
    base_url: String,
) -> anyhow::Result<Arc<Emulator>> {
    Emulator::new(EmulatorConfig {
        base_url,
        extra_scopes: settings.emulator.extra_scopes.clone(),
        client_id: settings.esia.client_id.clone(),
        certificate_hash: settings.esia.certificate_hash.clone(),
        redirect_uri,
        issuer: settings.esia.issuer.clone(),
        signing_key: settings.emulator.signing_key.expose().to_string(),
        client_public_key: settings.emulator.client_public_key.clone(),
        personas_file: settings.emulator.personas_file.clone(),
        code_ttl_secs: settings.emulator.code_ttl_secs,
    })
    .context("ESIA emulator")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
