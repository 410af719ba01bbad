//! Faults under load: parents keep filing appeals while the process is killed or
//! stopped, the SMTP server goes away or falls silent, the database connections are cut,
//! or two instances start together on an empty database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::sync::Mutex;

use crate::Size;
use crate::instance::{Backend, Db, Instance, Launch, Ledger};
use crate::report::Row;
use crate::smtp::Sink;
use crate::web::{Filing, Outcome, PARENT, Site};

/// How long the outbox may take to settle after a fault (retries start after 1 s and
/// double).
const MAIL_SETTLES: Duration = Duration::from_secs(60);

/// One scenario's world: a database, an SMTP sink and an instance of the service.
pub struct Rig {
    pub db: Db,
    pub sink: Sink,
    pub launch: Launch,
    pub app: Instance,
    pub site: Site,
}

impl Rig {
    pub async fn start(backend: Backend, label: &str) -> Result<Rig, String> {
        Self::start_with(backend, label, |l| l).await
    }

    pub async fn start_with(
        backend: Backend,
        label: &str,
        settings: impl FnOnce(Launch) -> Launch,
    ) -> Result<Rig, String> {
        let db = Db::create(backend, label).await?;
        let sink = Sink::start().await?;
        let launch = settings(Launch::new(sink.port));
        let app = Instance::start(&db, &launch, "app").await?;
        let site = Site::new(&app.url);
        Ok(Rig {
            db,
            sink,
            launch,
            app,
            site,
        })
    }

    /// Starts the service again on the same database and port.
    pub async fn restart(&mut self, name: &str) -> Result<(), String> {
        self.app = Instance::spawn(&self.db, &self.launch, name, self.app.port)?;
        self.app.ready(Duration::from_secs(60)).await
    }

    /// Stops the instance and removes the scenario's files, keeping the logs (and saying
    /// where) when the scenario failed.
    pub async fn finish(mut self, row: &mut Row) {
        let _ = self.app.terminate(Duration::from_secs(15)).await;
        finish_db(self.db, row).await;
    }
}

pub async fn finish_db(db: Db, row: &mut Row) {
    let keep = !row.passed();
    if keep {
        row.note(format!("logs kept in {}", db.dir.display()));
    }
    db.drop(keep).await;
}

/// What a crowd of parents saw while filing.
#[derive(Default)]
pub struct Load {
    pub requests: AtomicU64,
    pub server_errors: AtomicU64,
    pub unavailable: AtomicU64,
    pub acknowledged: Mutex<Vec<String>>,
}

impl Load {
    fn answered(&self, status: StatusCode) {
        if status == StatusCode::SERVICE_UNAVAILABLE {
            self.unavailable.fetch_add(1, Ordering::Relaxed);
        } else if status.is_server_error() {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Copies the counts into a row (503 counted as unexpected unless `unavailable_ok`).
    pub async fn add_to(&self, row: &mut Row, ledger: &Ledger, unavailable_ok: bool) {
        let numbers = self.acknowledged.lock().await.clone();
        row.requests += self.requests.load(Ordering::Relaxed);
        row.acknowledged += numbers.len() as u64;
        row.found += ledger.complete(&numbers).await as u64;
        row.server_errors += self.server_errors.load(Ordering::Relaxed);
        let unavailable = self.unavailable.load(Ordering::Relaxed);
        if unavailable_ok {
            if unavailable > 0 {
                row.note(format!(
                    "{unavailable} × 503 while the database was cut off"
                ));
            }
        } else {
            row.server_errors += unavailable;
        }
        let mut distinct = numbers.clone();
        distinct.sort();
        distinct.dedup();
        row.duplicates += (numbers.len() - distinct.len()) as u64;
    }
}

/// `clients` parents filing until `stop` flips, each in a browser of their own that
/// signs in again when the service has lost its session (after a restart).
pub fn crowd(
    site: &Site,
    filing: &Filing,
    clients: usize,
    load: &Arc<Load>,
    stop: &Arc<AtomicBool>,
) -> tokio::task::JoinSet<()> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (site, filing, load, stop) = (site.clone(), filing.clone(), load.clone(), stop.clone());
        set.spawn(async move {
            let mut who = None;
            while !stop.load(Ordering::Relaxed) {
                let browser = match &who {
                    Some(b) => b,
                    None => {
                        load.requests.fetch_add(3, Ordering::Relaxed);
                        match site.person("parent", PARENT).await {
                            Ok(b) => who.insert(b),
                            Err(_) => {
                                tokio::time::sleep(Duration::from_millis(100)).await;
                                continue;
                            }
                        }
                    }
                };
                load.requests.fetch_add(2, Ordering::Relaxed);
                match filing.file(&site, browser).await {
                    Outcome::Acknowledged(number) => load.acknowledged.lock().await.push(number),
                    Outcome::Answered(status) => {
                        load.answered(status);
                        if status == StatusCode::UNAUTHORIZED {
                            who = None;
                        }
                    }
                    Outcome::NoAnswer => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
    }
    set
}

async fn run_crowd_for(site: &Site, filing: &Filing, clients: usize, secs: u64, load: &Arc<Load>) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut set = crowd(site, filing, clients, load, &stop);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    while set.join_next().await.is_some() {}
}

/// Load, a fault while it runs, recovery, then the books: `fault` gets the rig and the
/// round number.
async fn under_load<F>(
    backend: Backend,
    size: Size,
    label: &str,
    unavailable_ok: bool,
    mut fault: F,
) -> Result<Row, String>
where
    F: AsyncFnMut(&mut Rig, &mut Row) -> Result<(), String>,
{
    let mut rig = Rig::start(backend, label).await?;
    let filing = Filing::of_demo(&rig.site).await?;
    let load = Arc::new(Load::default());
    let mut row = Row::default();
    for _ in 0..size.rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let mut set = crowd(&rig.site, &filing, size.clients, &load, &stop);
        tokio::time::sleep(Duration::from_secs(size.load_secs)).await;
        fault(&mut rig, &mut row).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        stop.store(true, Ordering::Relaxed);
        while set.join_next().await.is_some() {}
    }
    let ledger = Ledger::open(&rig.db).await?;
    load.add_to(&mut row, &ledger, unavailable_ok).await;
    row.check(row.acknowledged > 0, || "no appeal was acknowledged".into());
    row.account_mail(&ledger, &rig.sink, MAIL_SETTLES).await;
    ledger.close().await;
    rig.finish(&mut row).await;
    Ok(row)
}

pub async fn kill_under_load(backend: Backend, size: Size) -> Result<Row, String> {
    under_load(backend, size, "kill", false, async |rig, row| {
        rig.app.kill().await;
        row.kills += 1;
        rig.restart("after-kill").await
    })
    .await
}

pub async fn terminate_under_load(backend: Backend, size: Size) -> Result<Row, String> {
    under_load(backend, size, "term", false, async |rig, row| {
        // Grace 5 s for the mail in flight, plus the requests in flight.
        let took = rig.app.terminate(Duration::from_secs(15)).await?;
        row.note(format!("exited {:.1} s after SIGTERM", took.as_secs_f64()));
        row.check(took < Duration::from_secs(8), || {
            format!("took {:.1} s to stop", took.as_secs_f64())
        });
        rig.restart("after-term").await
    })
    .await
}

pub async fn connections_cut(backend: Backend, size: Size) -> Result<Row, String> {
    if backend == Backend::Sqlite {
        return Ok(Row::skipped("no server connections to cut"));
    }
    under_load(backend, size, "cut", true, async |rig, row| {
        let mut cut = 0;
        for _ in 0..3 {
            cut += rig.db.terminate_backends().await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        row.note(format!("{cut} connections cut in 3 cuts"));
        Ok(())
    })
    .await
}

/// Mail owed while the SMTP server is away (refusing connections, or accepting them and
/// never answering) is delivered once it is back, each message once.
async fn smtp_outage(backend: Backend, size: Size, silent: bool) -> Result<Row, String> {
    let mut rig = Rig::start(backend, if silent { "silent" } else { "smtp" }).await?;
    let filing = Filing::of_demo(&rig.site).await?;
    if silent {
        rig.sink.set_silent(true);
    } else {
        rig.sink.down();
    }
    let load = Arc::new(Load::default());
    run_crowd_for(&rig.site, &filing, size.clients, size.load_secs, &load).await;
    // Long enough for the first sends to time out (3 s) and be retried.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let ledger = Ledger::open(&rig.db).await?;
    let stuck = ledger
        .count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending' AND attempts > 0")
        .await;
    let mut row = Row::default();
    row.note(format!(
        "{stuck} mails failed at least once during the outage"
    ));
    row.check(stuck > 0, || "no send failed during the outage".into());
    if silent {
        rig.sink.set_silent(false);
    } else {
        rig.sink.up().await?;
    }
    load.add_to(&mut row, &ledger, false).await;
    row.account_mail(&ledger, &rig.sink, MAIL_SETTLES).await;
    ledger.close().await;
    rig.finish(&mut row).await;
    Ok(row)
}

pub async fn smtp_down_then_up(backend: Backend, size: Size) -> Result<Row, String> {
    smtp_outage(backend, size, false).await
}

pub async fn smtp_silent(backend: Backend, size: Size) -> Result<Row, String> {
    smtp_outage(backend, size, true).await
}

/// Two instances started at the same moment on an empty database both come up, the demo
/// is seeded once, and with both mail workers on one outbox no mail goes out twice.
pub async fn two_instances(backend: Backend, size: Size) -> Result<Row, String> {
    let db = Db::create(backend, "two").await?;
    let sink = Sink::start().await?;
    let launch = Launch::new(sink.port);
    let ports = (crate::process::free_port()?, crate::process::free_port()?);
    let mut first = Instance::spawn(&db, &launch, "first", ports.0)?;
    let mut second = Instance::spawn(&db, &launch, "second", ports.1)?;
    let mut row = Row::default();
    let (a, b) = tokio::join!(
        first.ready(Duration::from_secs(60)),
        second.ready(Duration::from_secs(60))
    );
    row.check(a.is_ok() && b.is_ok(), || {
        format!("not both up: {a:?} / {b:?}")
    });
    let ledger = Ledger::open(&db).await?;
    let regions = ledger.count("SELECT COUNT(*) AS n FROM regions").await;
    let staff = ledger.count("SELECT COUNT(*) AS n FROM staff").await;
    row.note(format!(
        "{regions} region, {staff} staff records after both started"
    ));
    row.check(regions == 1, || {
        format!("demo seeded into {regions} regions")
    });
    let load = Arc::new(Load::default());
    if a.is_ok() && b.is_ok() {
        let (one, two) = (Site::new(&first.url), Site::new(&second.url));
        let filing = Filing::of_demo(&one).await?;
        let clients = size.clients.div_ceil(2);
        tokio::join!(
            run_crowd_for(&one, &filing, clients, size.load_secs, &load),
            run_crowd_for(&two, &filing, clients, size.load_secs, &load)
        );
    }
    load.add_to(&mut row, &ledger, false).await;
    row.account_mail(&ledger, &sink, MAIL_SETTLES).await;
    ledger.close().await;
    let _ = first.terminate(Duration::from_secs(15)).await;
    let _ = second.terminate(Duration::from_secs(15)).await;
    finish_db(db, &mut row).await;
    Ok(row)
}

/// One message hangs on the SMTP server (its connection stalls after RCPT): the others
/// go out beside it before its send times out, and it goes out on the retry.
pub async fn one_slow_message(backend: Backend, size: Size) -> Result<Row, String> {
    // A send gives up after 10 s here: room to look while the hung one still hangs.
    let mut rig =
        Rig::start_with(backend, "slow", |l| l.with("mail.send_timeout_secs", "10")).await?;
    let filing = Filing::of_demo(&rig.site).await?;
    let parent = rig.site.person("parent", PARENT).await?;
    rig.sink.stall_next(1);
    let load = Arc::new(Load::default());
    let filed = size.clients * 3;
    for _ in 0..filed {
        load.requests.fetch_add(2, Ordering::Relaxed);
        match filing.file(&rig.site, &parent).await {
            Outcome::Acknowledged(number) => load.acknowledged.lock().await.push(number),
            Outcome::Answered(status) => load.answered(status),
            Outcome::NoAnswer => {}
        }
    }
    let ledger = Ledger::open(&rig.db).await?;
    let mut row = Row::default();
    let owed = (filed * 2) as i64;
    let mut beside = 0;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        beside = ledger
            .count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent'")
            .await;
        if beside >= owed - 1 {
            break;
        }
    }
    row.note(format!(
        "{beside} of {owed} mails sent while one hung on the server"
    ));
    row.check(beside == owed - 1, || {
        format!(
            "only {beside} of {} other mails went out beside the hung one",
            owed - 1
        )
    });
    load.add_to(&mut row, &ledger, false).await;
    row.account_mail(&ledger, &rig.sink, MAIL_SETTLES).await;
    ledger.close().await;
    rig.sink.down();
    rig.finish(&mut row).await;
    Ok(row)
}
