//! Group commit for registrations. At a September peak many parents press «Отправить» at
//! once; one transaction per appeal makes each wait for its own commit (a WAL flush on
//! PostgreSQL, a file sync on SQLite) and for the counter rows its commit touches. The
//! registrar files the filings that arrive while a group commits as the next group: one
//! transaction, one statement per table, one flush. A caller gets its number only after
//! that commit, so nothing acknowledged is lost; a group the database refuses is filed
//! again one filing at a time, so one bad filing (a second press racing the first) fails
//! or repeats only itself.

use std::sync::{Arc, PoisonError};

use sea_orm::{DatabaseConnection, DbErr, RuntimeErr};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::appeals::{Filing, Numbering, Submitted, submit_group};
use super::{is_connection_lost, is_postgres};

/// The most filings the writers take at once, shared among them: one writer on SQLite
/// takes up to 64 in a group, each of PostgreSQL's four up to 16. A writer takes what is
/// queued when it comes to the queue; with 64 each at 64 clients, the writers freed first
/// took one filing each (2,692 groups of one in five seconds) while the filings that came
/// meanwhile piled up behind one writer into groups of up to 60, all waiting for that one
/// long transaction (p75 34 ms, p99 60 ms). With a quarter each, a burst goes out in four
/// groups at once (in the same half hour: p75 23–29 ms, p99 46–61 ms against 65–68, and
/// 16–36% more appeals a second).
const GROUP: usize = 64;

/// Groups in flight at once. On PostgreSQL four: while one group waits for its commit
/// (the WAL flush, the counter rows) the others run their statements, so both cores work
/// (at 64 clients, one writer: 3,300–3,700 appeals/s; two: 3,000–4,000, p99 40–55 ms;
/// four: 3,500, p99 40–42 ms), and six of the pool's ten connections stay free for pages.
/// SQLite has one writer, so a second group would only wait for the lock.
fn writers(db: &DatabaseConnection) -> usize {
    if is_postgres(db) { 4 } else { 1 }
}

type Job = (Filing, oneshot::Sender<Result<Submitted, DbErr>>);

/// Where registrations go. Its tasks start with the first filing (a workflow built for a
/// command-line tool starts none), start again if the runtime they ran on has ended, and
/// stop when the registrar is dropped.
pub struct Registrar {
    db: DatabaseConnection,
    jobs: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
}

impl Registrar {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            jobs: std::sync::Mutex::new(None),
        }
    }

    /// Registers one appeal; returns once its group is committed, or refused. A caller
    /// that stops waiting (the parent closed the page) does not withdraw the filing: it is
    /// registered and its confirmation e-mailed all the same.
    pub async fn file(&self, filing: Filing) -> Result<Submitted, DbErr> {
        let (reply, answer) = oneshot::channel();
        self.jobs()
            .send((filing, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    fn jobs(&self) -> mpsc::Sender<Job> {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = jobs.as_ref().filter(|tx| !tx.is_closed()) {
            return tx.clone();
        }
        let (tx, rx) = mpsc::channel(GROUP * 4);
        let rx = Arc::new(Mutex::new(rx));
        let numbering = Arc::new(Numbering::default());
        let writers = writers(&self.db);
        for _ in 0..writers {
            tokio::spawn(register(
                self.db.clone(),
                numbering.clone(),
                rx.clone(),
                GROUP / writers,
            ));
        }
        *jobs = Some(tx.clone());
        tx
    }
}

/// A caller got no answer: its group panicked, or the service is stopping. Shown as
/// «Сервис временно недоступен»; the same form sent again is registered once.
fn stopped() -> DbErr {
    DbErr::Conn(RuntimeErr::Internal("the registrar did not answer".into()))
}

async fn register(
    db: DatabaseConnection,
    numbering: Arc<Numbering>,
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    most: usize,
) {
    loop {
        // Whoever holds the queue waits for the next filing and takes what is there, up to
        // its share.
        let mut group = Vec::with_capacity(most);
        if jobs.lock().await.recv_many(&mut group, most).await == 0 {
            return;
        }
        let (filings, replies): (Vec<Filing>, Vec<_>) = group.into_iter().unzip();
        let (db, numbering) = (db.clone(), numbering.clone());
        // A panic while filing fails that group's callers, and this task goes on.
        let filed = tokio::spawn(async move { file_group(&db, &numbering, filings).await }).await;
        match filed {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(_) => {
                for reply in replies {
                    let _ = reply.send(Err(stopped()));
                }
            }
        }
    }
}

/// Files a group in one transaction; if the database refuses it, each filing on its own,
/// so that one filing that cannot be registered fails only itself (and a second press
/// racing its first in a group committing at the same moment is answered with the first
/// appeal). A database that is away fails the whole group at once. The outcomes come in
/// the order of `filings`.
pub async fn file_group(
    db: &DatabaseConnection,
    numbering: &Numbering,
    filings: Vec<Filing>,
) -> Vec<Result<Submitted, DbErr>> {
    let refused = match submit_group(db, numbering, &filings).await {
        Ok(done) => return done.into_iter().map(Ok).collect(),
        Err(refused) => refused,
    };
    if is_connection_lost(&refused) {
        let lost = refused.to_string();
        return filings
            .iter()
            .map(|_| Err(DbErr::Conn(RuntimeErr::Internal(lost.clone()))))
            .collect();
    }
    tracing::warn!(error = %refused, filings = filings.len(), "a group was refused; filing it one by one");
    let mut outcomes = Vec::with_capacity(filings.len());
    for filing in &filings {
        let one = submit_group(db, numbering, std::slice::from_ref(filing))
            .await
            .and_then(|mut done| done.pop().ok_or_else(stopped));
        outcomes.push(one);
    }
    outcomes
}
