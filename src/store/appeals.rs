//! Appeals, their history and numbering. Submitting writes the appeal, its history, its
//! number and its e-mail in one transaction: an acknowledged number is never lost.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, Set, Statement,
};

use super::entities::{appeal, appeal_access, appeal_event, submission_token};
use super::outbox::{self, NewMessage};
use super::roster::{Linked, NewPerson};
use super::{corrupt, is_postgres};
use crate::domain::appeal::Appeal;
use crate::domain::applicant::Snapshot;
use crate::domain::consent::Consent;
use crate::domain::history::{Actor, Entry, EventKind};
use crate::domain::names::PersonName;
use crate::domain::number::AppealNumber;
use crate::domain::routing::Route;
use crate::domain::status::Status;
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};

/// The typed appeal of a row. A value the application cannot read is an error naming the
/// row, never another value (a corrupt status read as «new» would permit transitions).
pub(crate) fn typed(m: appeal::Model) -> Result<Appeal, DbErr> {
    let status = Status::parse(&m.status).ok_or_else(|| corrupt("appeals", m.id, "status"))?;
    // The snapshot holds personal data: only the position of the fault is reported.
    let snapshot: Snapshot = serde_json::from_str(&m.snapshot).map_err(|e| {
        corrupt(
            "appeals",
            m.id,
            &format!(
                "snapshot unreadable at line {} column {}",
                e.line(),
                e.column()
            ),
        )
    })?;
    Ok(Appeal {
        id: m.id,
        number: m.number,
        applicant_oid: m.applicant_oid,
        snapshot,
        subject_key: m.subject_key,
        organization_id: m.organization_id,
        class_id: m.class_id,
        comment: m.comment,
        status,
        assigned_staff_id: m.assigned_staff_id,
        version: m.version,
        created_at: m.created_at,
        due_at: m.due_at,
        roster_match: m.roster_match_id,
        extension: m
            .extended_at
            .map(|at| (at, m.extension_reason.unwrap_or_default())),
        answered_at: m.answered_at,
        consent: m
            .consent_version
            .zip(m.consent_given_at)
            .map(|(version, given_at)| Consent { version, given_at }),
    })
}

fn typed_all(rows: Vec<appeal::Model>) -> Result<Vec<Appeal>, DbErr> {
    rows.into_iter().map(typed).collect()
}

fn typed_entry(m: appeal_event::Model) -> Result<Entry, DbErr> {
    let kind = EventKind::parse(&m.kind).ok_or_else(|| corrupt("appeal_events", m.id, "kind"))?;
    let actor = Actor::parse(&m.actor).ok_or_else(|| corrupt("appeal_events", m.id, "actor"))?;
    let to_status = match m.to_status.as_deref() {
        None => None,
        Some(s) => {
            Some(Status::parse(s).ok_or_else(|| corrupt("appeal_events", m.id, "to_status"))?)
        }
    };
    Ok(Entry {
        kind,
        to_status,
        actor,
        actor_staff_id: m.actor_staff_id,
        message: m.message,
        created_at: m.created_at,
    })
}

pub struct NewAppeal {
    pub snapshot: Snapshot,
    /// Why the applicant files again while an appeal about the same child is open.
    pub repeat_reason: Option<String>,
    /// Digest subscribers to queue the appeal for, in the same transaction.
    pub digest_staff: Vec<i32>,
    pub organization_id: i32,
    pub class_id: i32,
    pub comment: Option<String>,
    pub submission_id: String,
    pub route: Route,
    pub year: i32,
    pub now: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub consent: Consent,
}

pub enum Submitted {
    Created(Appeal),
    /// The same `submission_id` was used before: the first appeal, never a second.
    Repeated(Appeal),
}

/// Hands out per-year appeal numbers. PostgreSQL uses one sequence per year, so
/// concurrent submissions do not queue on a counter row (DESIGN.md: 7.0k vs 1.4k tx/s);
/// SQLite serializes writers anyway and uses the `appeal_counters` row.
#[derive(Default)]
pub struct Numbering {
    known_sequences: Mutex<HashSet<i32>>,
}

fn sequence_name(year: i32) -> String {
    format!("appeal_number_{year}")
}

impl Numbering {
    async fn ensure(&self, db: &impl ConnectionTrait, year: i32) -> Result<(), DbErr> {
        if !is_postgres(db) || self.known_sequences.lock().is_ok_and(|k| k.contains(&year)) {
            return Ok(());
        }
        let sql = format!("CREATE SEQUENCE IF NOT EXISTS {}", sequence_name(year));
        // Two instances creating the same sequence at once may collide in the catalog;
        // the loser simply finds it there on the second try.
        if db.execute_unprepared(&sql).await.is_err() {
            db.execute_unprepared(&sql).await?;
        }
        if let Ok(mut k) = self.known_sequences.lock() {
            k.insert(year);
        }
        Ok(())
    }

    /// `count` new sequence numbers of `year`, ascending, in one statement.
    async fn take(
        &self,
        txn: &DatabaseTransaction,
        year: i32,
        count: usize,
    ) -> Result<Vec<i64>, DbErr> {
        let backend = txn.get_database_backend();
        let count = i64::try_from(count).map_err(|e| DbErr::Custom(e.to_string()))?;
        if is_postgres(txn) {
            let rows = txn
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "SELECT nextval('{}') AS n FROM generate_series(1, $1::bigint)",
                        sequence_name(year)
                    ),
                    [count.into()],
                ))
                .await?;
            let mut taken = rows
                .iter()
                .map(|r| r.try_get::<i64>("", "n"))
                .collect::<Result<Vec<_>, _>>()?;
            taken.sort_unstable();
            return Ok(taken);
        }
        let last = txn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                "INSERT INTO appeal_counters (year, last_value) VALUES (?1, ?2) ON CONFLICT (year) \
                 DO UPDATE SET last_value = last_value + ?2 RETURNING last_value AS n",
                [year.into(), count.into()],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("numbering returned no row".into()))?
            .try_get::<i64>("", "n")?;
        Ok((last - count + 1..=last).collect())
    }
}

pub async fn by_submission(
    db: &impl ConnectionTrait,
    submission_id: &str,
) -> Result<Option<Appeal>, DbErr> {
    appeal::Entity::find()
        .filter(appeal::Column::SubmissionId.eq(submission_id))
        .one(db)
        .await?
        .map(typed)
        .transpose()
}

/// One appeal to register, with the e-mails it sends. `mails` makes them from the
/// registered appeal (its id and number) and may be called again if its group is filed
/// anew one filing at a time.
pub struct Filing {
    pub new: NewAppeal,
    pub mails: Box<MakeMails>,
}

pub type MakeMails = dyn Fn(&Appeal) -> Vec<NewMessage> + Send + Sync;

/// Registers a group of appeals in one transaction: their numbers, the appeals, their
/// history, their e-mails and digest entries, one statement per table (see
/// [`super::registrar`]). All or none: a group that fails is not partly committed. A form
/// token already used, before or earlier in the group (a second press), answers with the
/// first appeal. The outcomes come in the order of `filings`.
pub async fn submit_group(
    db: &DatabaseConnection,
    numbering: &Numbering,
    filings: &[Filing],
) -> Result<Vec<Submitted>, DbErr> {
    let mut years: Vec<i32> = filings.iter().map(|f| f.new.year).collect();
    years.sort_unstable();
    years.dedup();
    for &year in &years {
        numbering.ensure(db, year).await?;
    }
    let txn = super::begin_write(db).await?;
    let tokens = filings.iter().map(|f| f.new.submission_id.clone());
    let earlier = appeal::Entity::find()
        .filter(appeal::Column::SubmissionId.is_in(tokens))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| Ok((m.submission_id.clone(), typed(m)?)))
        .collect::<Result<HashMap<_, _>, DbErr>>()?;
    let mut seen = HashSet::new();
    let fresh: Vec<&Filing> = filings
        .iter()
        .filter(|f| {
            !earlier.contains_key(&f.new.submission_id) && seen.insert(&f.new.submission_id)
        })
        .collect();
    let mut numbers = Vec::with_capacity(years.len());
    for year in years {
        let count = fresh.iter().filter(|f| f.new.year == year).count();
        if count > 0 {
            numbers.push((year, numbering.take(&txn, year, count).await?.into_iter()));
        }
    }
    let mut rows = Vec::with_capacity(fresh.len());
    for f in &fresh {
        let seq = numbers
            .iter_mut()
            .find(|(year, _)| *year == f.new.year)
            .and_then(|(_, taken)| taken.next())
            .ok_or_else(|| DbErr::Custom("numbering returned too few numbers".into()))?;
        rows.push(appeal_row(&f.new, seq)?);
    }
    // RETURNING's order is not promised: each appeal is found by its form token.
    let registered = appeal::Entity::insert_many(rows)
        .exec_with_returning(&txn)
        .await?
        .into_iter()
        .map(|m| Ok((m.submission_id.clone(), typed(m)?)))
        .collect::<Result<HashMap<_, _>, DbErr>>()?;
    let (mut history, mut mails, mut digest) = (Vec::new(), Vec::new(), Vec::new());
    for f in &fresh {
        let (a, at) = (registered_as(&registered, f)?, f.new.now);
        history.extend(registration_events(&f.new).map(|e| event_row(a.id, None, e, at)));
        mails.extend(mails_of(f, a).into_iter().map(|m| (m, at)));
        digest.extend(f.new.digest_staff.iter().map(|&staff| (staff, a.id, at)));
    }
    super::insert_in_chunks(&txn, history).await?;
    outbox::enqueue_each(&txn, mails).await?;
    super::staff::queue_for_digest(&txn, digest).await?;
    txn.commit().await?;
    let mut created = HashSet::new();
    filings
        .iter()
        .map(|f| {
            let token = &f.new.submission_id;
            if let Some(first) = earlier.get(token) {
                return Ok(Submitted::Repeated(first.clone()));
            }
            let a = registered_as(&registered, f)?.clone();
            Ok(if created.insert(token) {
                Submitted::Created(a)
            } else {
                Submitted::Repeated(a)
            })
        })
        .collect()
}

fn registered_as<'a>(
    registered: &'a HashMap<String, Appeal>,
    f: &Filing,
) -> Result<&'a Appeal, DbErr> {
    registered
        .get(&f.new.submission_id)
        .ok_or_else(|| DbErr::Custom("a registered appeal did not come back".into()))
}

/// The e-mails of a registered appeal. A panic while rendering them (a template bug)
/// costs those e-mails, loudly, never the appeals of the group.
fn mails_of(f: &Filing, a: &Appeal) -> Vec<NewMessage> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (f.mails)(a))).unwrap_or_else(|_| {
        tracing::error!(
            appeal_id = a.id,
            "e-mails of a registration not rendered: panic"
        );
        Vec::new()
    })
}

fn appeal_row(new: &NewAppeal, seq: i64) -> Result<appeal::ActiveModel, DbErr> {
    let s = &new.snapshot;
    Ok(appeal::ActiveModel {
        number: Set(AppealNumber::new(new.year, seq).to_string()),
        applicant_oid: Set(s.oid.clone()),
        applicant_role: Set(s.role.as_str().to_string()),
        snapshot: Set(serde_json::to_string(s).map_err(|e| DbErr::Json(e.to_string()))?),
        applicant_email: Set(s.email.clone().unwrap_or_default()),
        search_norm: Set(s.search_text()),
        subject_key: Set(s.subject_key()),
        child_esia_id: Set(s.child.as_ref().map(|c| c.esia_id.clone())),
        organization_id: Set(new.organization_id),
        class_id: Set(new.class_id),
        comment: Set(new.comment.clone()),
        status: Set(Status::New.as_str().to_string()),
        route: Set(new.route.as_str().to_string()),
        assigned_staff_id: Set(None),
        submission_id: Set(new.submission_id.clone()),
        version: Set(1),
        created_at: Set(new.now),
        updated_at: Set(new.now),
        due_at: Set(new.due_at),
        consent_version: Set(Some(new.consent.version.clone())),
        consent_given_at: Set(Some(new.consent.given_at)),
        ..Default::default()
    })
}

/// «Зарегистрировано» by the applicant, then where the routing sent it.
fn registration_events(new: &NewAppeal) -> [Event; 2] {
    [
        Event {
            kind: EventKind::Registered,
            to: Some(Status::New),
            actor: Actor::Applicant,
            actor_staff_id: None,
            message: new
                .repeat_reason
                .as_ref()
                .map(|r| format!("Повторное обращение. Причина: {r}")),
        },
        Event {
            kind: EventKind::Routed,
            to: None,
            actor: Actor::System,
            actor_staff_id: None,
            message: Some(new.route.history_message().to_string()),
        },
    ]
}

/// Appends one history entry; `from` is the status the appeal had before it.
pub async fn record_event(
    db: &impl ConnectionTrait,
    appeal_id: i64,
    from: Option<Status>,
    event: Event,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    event_row(appeal_id, from, event, now)
        .insert(db)
        .await
        .map(|_| ())
}

fn event_row(
    appeal_id: i64,
    from: Option<Status>,
    event: Event,
    now: DateTime<Utc>,
) -> appeal_event::ActiveModel {
    appeal_event::ActiveModel {
        appeal_id: Set(appeal_id),
        kind: Set(event.kind.as_str().to_string()),
        from_status: Set(event.to.and(from).map(|s| s.as_str().to_string())),
        to_status: Set(event.to.map(|s| s.as_str().to_string())),
        actor: Set(event.actor.as_str().to_string()),
        actor_staff_id: Set(event.actor_staff_id),
        message: Set(event.message),
        created_at: Set(now),
        ..Default::default()
    }
}

/// The appeal if `oid` filed it; anybody else gets nothing, exactly as for a wrong number.
pub async fn for_applicant(
    db: &impl ConnectionTrait,
    number: &str,
    oid: &str,
) -> Result<Option<Appeal>, DbErr> {
    appeal::Entity::find()
        .filter(appeal::Column::Number.eq(number))
        .filter(appeal::Column::ApplicantOid.eq(oid))
        .one(db)
        .await?
        .map(typed)
        .transpose()
}

pub async fn list_for_applicant(
    db: &impl ConnectionTrait,
    oid: &str,
) -> Result<Vec<Appeal>, DbErr> {
    let rows = appeal::Entity::find()
        .filter(appeal::Column::ApplicantOid.eq(oid))
        .order_by_desc(appeal::Column::CreatedAt)
        .order_by_desc(appeal::Column::Id)
        .all(db)
        .await?;
    typed_all(rows)
}

pub async fn events(db: &impl ConnectionTrait, appeal_id: i64) -> Result<Vec<Entry>, DbErr> {
    appeal_event::Entity::find()
        .filter(appeal_event::Column::AppealId.eq(appeal_id))
        .order_by_asc(appeal_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(typed_entry)
        .collect()
}

/// A one-time form token: issued with the form, redeemed by the first POST carrying it.
pub async fn issue_submission_token(
    db: &impl ConnectionTrait,
    oid: &str,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let token = uuid::Uuid::new_v4().to_string();
    submission_token::ActiveModel {
        token: Set(token.clone()),
        applicant_oid: Set(oid.to_string()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(token)
}

pub async fn submission_token_owner(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<String>, DbErr> {
    Ok(submission_token::Entity::find_by_id(token.to_string())
        .one(db)
        .await?
        .map(|t| t.applicant_oid))
}

pub async fn delete_submission_tokens_before(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(submission_token::Entity::delete_many()
        .filter(submission_token::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn by_number(db: &impl ConnectionTrait, number: &str) -> Result<Option<Appeal>, DbErr> {
    appeal::Entity::find()
        .filter(appeal::Column::Number.eq(number))
        .one(db)
        .await?
        .map(typed)
        .transpose()
}

/// The numbers of appeals by id, in the order given.
pub async fn numbers_of(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<String>, DbErr> {
    let rows = appeal::Entity::find()
        .filter(appeal::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;
    let by_id: std::collections::HashMap<i64, String> =
        rows.into_iter().map(|a| (a.id, a.number)).collect();
    Ok(ids.iter().filter_map(|id| by_id.get(id).cloned()).collect())
}

/// Other open appeals about the same child at the same organization.
pub async fn open_duplicates(db: &impl ConnectionTrait, a: &Appeal) -> Result<Vec<Appeal>, DbErr> {
    if a.subject_key.is_empty() {
        return Ok(Vec::new());
    }
    let rows = appeal::Entity::find()
        .filter(appeal::Column::OrganizationId.eq(a.organization_id))
        .filter(appeal::Column::SubjectKey.eq(a.subject_key.as_str()))
        .filter(appeal::Column::Status.is_in(Status::open_values()))
        .filter(appeal::Column::Id.ne(a.id))
        .order_by_asc(appeal::Column::CreatedAt)
        .all(db)
        .await?;
    typed_all(rows)
}

/// Open appeals `oid` filed about the same person at an organization.
pub async fn open_about(
    db: &impl ConnectionTrait,
    oid: &str,
    organization_id: i32,
    subject_key: &str,
) -> Result<Vec<Appeal>, DbErr> {
    let rows = appeal::Entity::find()
        .filter(appeal::Column::ApplicantOid.eq(oid))
        .filter(appeal::Column::OrganizationId.eq(organization_id))
        .filter(appeal::Column::SubjectKey.eq(subject_key))
        .filter(appeal::Column::Status.is_in(Status::open_values()))
        .order_by_asc(appeal::Column::Id)
        .all(db)
        .await?;
    typed_all(rows)
}

/// Open appeals at an organization.
pub async fn open_at(
    db: &impl ConnectionTrait,
    organization_id: i32,
) -> Result<Vec<Appeal>, DbErr> {
    let rows = appeal::Entity::find()
        .filter(appeal::Column::OrganizationId.eq(organization_id))
        .filter(appeal::Column::Status.is_in(Status::open_values()))
        .order_by_asc(appeal::Column::Id)
        .all(db)
        .await?;
    typed_all(rows)
}

/// Marks (or unmarks) an appeal whose applicant matches a roster record exactly.
pub async fn mark_roster_match(
    db: &impl ConnectionTrait,
    appeal_id: i64,
    person: Option<i32>,
) -> Result<(), DbErr> {
    appeal::Entity::update_many()
        .col_expr(appeal::Column::RosterMatchId, Expr::value(person))
        .filter(appeal::Column::Id.eq(appeal_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Open appeals `oid` filed about an organization (they resolve when the account links).
pub async fn open_of_applicant_at(
    db: &impl ConnectionTrait,
    oid: &str,
    organization_id: i32,
) -> Result<Vec<Appeal>, DbErr> {
    let rows = appeal::Entity::find()
        .filter(appeal::Column::ApplicantOid.eq(oid))
        .filter(appeal::Column::OrganizationId.eq(organization_id))
        .filter(appeal::Column::Status.is_in(Status::open_values()))
        .all(db)
        .await?;
    typed_all(rows)
}

/// One history entry.
pub struct Event {
    pub kind: EventKind,
    pub to: Option<Status>,
    pub actor: Actor,
    pub actor_staff_id: Option<i32>,
    pub message: Option<String>,
}

/// What a staff action changes on the appeal row.
#[derive(Default)]
pub struct Change {
    pub status: Option<Status>,
    pub organization_id: Option<i32>,
    pub assigned_staff_id: Option<Option<i32>>,
    /// The answer term extended to this date, for this reason.
    pub extension: Option<(DateTime<Utc>, String)>,
}

/// Roster work done in the same transaction as the appeal change.
pub enum RosterChange {
    None,
    /// Correct a roster person to the ESIA data and link the applicant to it; a parent is
    /// also tied to the listed record of the appeal's child.
    Fix {
        person_id: i32,
        name: PersonName,
        birth_date: NaiveDate,
        snils: Option<String>,
        oid: String,
        tie_student: Option<i32>,
    },
    /// Add the applicant (and, when missing, the child) to the roster and link.
    Create {
        applicant: NewPerson,
        student: StudentRecord,
        oid: String,
    },
}

pub enum StudentRecord {
    None,
    Existing(i32),
    New(NewPerson),
}

/// What an action leaves behind besides the row change: history, e-mails, digest items.
pub struct Effects {
    pub events: Vec<Event>,
    pub mail: Vec<NewMessage>,
    pub digest_staff: Vec<i32>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// Somebody changed the appeal first (optimistic lock on `version`).
    Conflict,
    /// The roster record got another ESIA account first: nothing was changed.
    Taken,
}

/// Applies a staff action: the appeal row (only if nobody changed it since `a` was read),
/// the roster, the history entry and the e-mails — all in one transaction.
pub async fn apply(
    db: &DatabaseConnection,
    a: &Appeal,
    change: Change,
    roster: RosterChange,
    effects: Effects,
    now: DateTime<Utc>,
) -> Result<Applied, DbErr> {
    let Effects {
        events,
        mail,
        digest_staff,
    } = effects;
    let txn = super::begin_write(db).await?;
    let mut update = appeal::Entity::update_many()
        .col_expr(
            appeal::Column::Version,
            Expr::col(appeal::Column::Version).add(1),
        )
        .col_expr(appeal::Column::UpdatedAt, Expr::value(now));
    if let Some(s) = change.status {
        update = update.col_expr(appeal::Column::Status, Expr::value(s.as_str()));
        if matches!(s, Status::Resolved | Status::Rejected) {
            update = update.col_expr(appeal::Column::AnsweredAt, Expr::value(now));
        }
    }
    if let Some((due, reason)) = change.extension {
        update = update
            .col_expr(appeal::Column::DueAt, Expr::value(due))
            .col_expr(appeal::Column::ExtendedAt, Expr::value(now))
            .col_expr(appeal::Column::ExtensionReason, Expr::value(reason));
    }
    if let Some(o) = change.organization_id {
        // A roster match belongs to the school the appeal leaves.
        update = update
            .col_expr(appeal::Column::OrganizationId, Expr::value(o))
            .col_expr(
                appeal::Column::RosterMatchId,
                Expr::value(Option::<i32>::None),
            );
    }
    if let Some(staff) = change.assigned_staff_id {
        update = update.col_expr(appeal::Column::AssignedStaffId, Expr::value(staff));
    }
    let updated = update
        .filter(appeal::Column::Id.eq(a.id))
        .filter(appeal::Column::Version.eq(a.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(Applied::Conflict);
    }
    let actor_staff_id = events.first().and_then(|e| e.actor_staff_id);
    match roster {
        RosterChange::None => {}
        RosterChange::Fix {
            person_id,
            name,
            birth_date,
            snils,
            oid,
            tie_student,
        } => {
            let before = super::roster::person(&txn, person_id)
                .await?
                .ok_or_else(|| DbErr::RecordNotFound(format!("roster person {person_id}")))?;
            // ESIA without a СНИЛС says nothing about it: the school's value stays.
            let snils = snils.or(before.snils.clone());
            let was = &before.name;
            let audit = Event {
                kind: EventKind::Roster,
                to: None,
                actor: Actor::Staff,
                actor_staff_id,
                message: Some(format!(
                    "Запись № {person_id} в списке исправлена: было «{}, {}, СНИЛС {}», стало «{}, {}, СНИЛС {}».",
                    was.full(),
                    before.birth_date.format("%d.%m.%Y"),
                    before.snils.as_deref().unwrap_or("—"),
                    name.full(),
                    birth_date.format("%d.%m.%Y"),
                    snils.as_deref().unwrap_or("—"),
                )),
            };
            // «Связать и закрыть» on an exact match changes nothing: no correction then.
            if before.name.norm() != name.norm()
                || before.birth_date != birth_date
                || before.snils != snils
            {
                super::roster::record_correction(&txn, &before, now).await?;
            }
            super::roster::fix_person(&txn, person_id, &name, birth_date, snils).await?;
            if let Some(student_id) = tie_student {
                super::roster::tie_guardian(&txn, person_id, student_id).await?;
            }
            if super::roster::link(&txn, &oid, person_id, "staff", now).await?
                == Linked::TakenByAnother
            {
                txn.rollback().await?;
                return Ok(Applied::Taken);
            }
            let change = super::audit::Change {
                staff_id: actor_staff_id,
                organization_id: Some(a.organization_id),
                roster_person_id: Some(person_id),
                action: "roster.corrected",
                detail: format!(
                    "По обращению № {}: {}",
                    a.number,
                    audit.message.clone().unwrap_or_default()
                ),
                ..Default::default()
            };
            super::audit::record(&txn, change, now).await?;
            record_event(&txn, a.id, None, audit, now).await?;
        }
        RosterChange::Create {
            applicant,
            student,
            oid,
        } => {
            let parent_id = super::roster::create_person(&txn, &applicant).await?;
            let (student_id, student_added) = match student {
                StudentRecord::None => (None, false),
                StudentRecord::Existing(id) => (Some(id), false),
                StudentRecord::New(p) => {
                    (Some(super::roster::create_person(&txn, &p).await?), true)
                }
            };
            if let Some(student_id) = student_id {
                super::roster::tie_guardian(&txn, parent_id, student_id).await?;
            }
            // A record just created has no other account.
            super::roster::link(&txn, &oid, parent_id, "staff", now).await?;
            let added = std::iter::once(parent_id).chain(student_id.filter(|_| student_added));
            for id in added {
                let change = super::audit::Change {
                    staff_id: actor_staff_id,
                    organization_id: Some(a.organization_id),
                    roster_person_id: Some(id),
                    action: "roster.added_by_staff",
                    detail: format!("Добавлен в список по обращению № {}", a.number),
                    ..Default::default()
                };
                super::audit::record(&txn, change, now).await?;
            }
        }
    }
    for event in events {
        record_event(&txn, a.id, Some(a.status), event, now).await?;
    }
    outbox::enqueue_all(&txn, mail, now).await?;
    let digest: Vec<_> = digest_staff.iter().map(|&s| (s, a.id, now)).collect();
    super::staff::queue_for_digest(&txn, digest).await?;
    txn.commit().await?;
    Ok(Applied::Done)
}

/// An internal note: history for staff only, never shown to the applicant.
pub async fn add_note(
    db: &impl ConnectionTrait,
    appeal_id: i64,
    staff_id: i32,
    text: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let note = Event {
        kind: EventKind::Note,
        to: None,
        actor: Actor::Staff,
        actor_staff_id: Some(staff_id),
        message: Some(text),
    };
    record_event(db, appeal_id, None, note, now).await
}

/// 152-ФЗ: who looked at which appeal's personal data, and when.
pub async fn log_access(
    db: &impl ConnectionTrait,
    appeal_id: i64,
    staff_id: i32,
    action: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    appeal_access::ActiveModel {
        appeal_id: Set(appeal_id),
        staff_id: Set(staff_id),
        action: Set(action.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}
