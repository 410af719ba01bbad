//! The school roster (people the school information system knows) and the links between
//! ESIA identities and roster persons.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};

use super::entities::{
    binding_code, esia_link, organization, roster_correction, roster_guardian, roster_person,
};
use super::{Sql, corrupt};
use crate::domain::matching::RosterCandidate;
use crate::domain::names::PersonName;
use crate::domain::roster::{Before, Contacts, Entry, Person, RosterRole};

fn typed(m: roster_person::Model) -> Result<Person, DbErr> {
    let role = RosterRole::parse(&m.role).ok_or_else(|| corrupt("roster_persons", m.id, "role"))?;
    Ok(Person {
        id: m.id,
        organization_id: m.organization_id,
        role,
        name: PersonName::new(&m.last_name, &m.first_name, &m.middle_name),
        birth_date: m.birth_date,
        snils: m.snils,
        class_id: m.class_id,
        contacts: Contacts {
            gender: m.gender,
            email: m.email,
            phone: m.phone,
        },
    })
}

pub struct LinkedAccount {
    pub person: Person,
    pub organization: organization::Model,
}

pub async fn linked_accounts(
    db: &impl ConnectionTrait,
    oid: &str,
) -> Result<Vec<LinkedAccount>, DbErr> {
    let links = esia_link::Entity::find()
        .filter(esia_link::Column::EsiaOid.eq(oid))
        .order_by_asc(esia_link::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(links.len());
    for link in links {
        let Some(person) = roster_person::Entity::find_by_id(link.roster_person_id)
            .one(db)
            .await?
        else {
            continue;
        };
        let Some(organization) = organization::Entity::find_by_id(person.organization_id)
            .one(db)
            .await?
        else {
            continue;
        };
        out.push(LinkedAccount {
            person: typed(person)?,
            organization,
        });
    }
    Ok(out)
}

/// Roster persons with exactly this normalized name and birth date: the only ones the
/// automatic match can pick (the index `ix_roster_match` serves this).
pub async fn match_candidates(
    db: &impl ConnectionTrait,
    name_norm: &str,
    birth_date: NaiveDate,
) -> Result<Vec<RosterCandidate>, DbErr> {
    Ok(roster_person::Entity::find()
        .filter(roster_person::Column::NameNorm.eq(name_norm))
        .filter(roster_person::Column::BirthDate.eq(birth_date))
        .filter(roster_person::Column::ArchivedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|p| RosterCandidate {
            id: p.id,
            organization_id: p.organization_id,
            name_norm: p.name_norm,
            birth_date: p.birth_date,
            snils: p.snils,
            passport: p.passport,
        })
        .collect())
}

/// What linking an ESIA account to a roster record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linked {
    New,
    /// The account was linked to this record already (two logins racing, a repeat).
    AlreadyYours,
    /// Another account signs in with this record: one account per record.
    TakenByAnother,
}

/// Links an ESIA identity to a roster person, unless another account has it (the unique
/// index `ux_esia_links_person` decides races). A new link ends the record's outstanding
/// binding codes: a code issued before is no way for a second account onto it.
pub async fn link(
    db: &impl ConnectionTrait,
    oid: &str,
    roster_person_id: i32,
    method: &str,
    now: DateTime<Utc>,
) -> Result<Linked, DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    // No conflict target: the pair and the one-account-per-record index both end in
    // «nothing inserted», without aborting the caller's transaction.
    sql.push("INSERT INTO esia_links (esia_oid, roster_person_id, method, created_at) VALUES (")
        .bind(oid)
        .push(", ")
        .bind(roster_person_id)
        .push(", ")
        .bind(method)
        .push(", ")
        .bind(now)
        .push(") ON CONFLICT DO NOTHING");
    if db.execute_raw(sql.build()).await?.rows_affected() == 1 {
        binding_code::Entity::update_many()
            .col_expr(
                binding_code::Column::UsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(binding_code::Column::RosterPersonId.eq(roster_person_id))
            .filter(binding_code::Column::UsedAt.is_null())
            .exec(db)
            .await?;
        return Ok(Linked::New);
    }
    let mine = linked_oids(db, roster_person_id)
        .await?
        .iter()
        .any(|o| o == oid);
    Ok(if mine {
        Linked::AlreadyYours
    } else {
        Linked::TakenByAnother
    })
}

/// ESIA identities already linked to a roster person.
pub async fn linked_oids(
    db: &impl ConnectionTrait,
    roster_person_id: i32,
) -> Result<Vec<String>, DbErr> {
    Ok(esia_link::Entity::find()
        .filter(esia_link::Column::RosterPersonId.eq(roster_person_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.esia_oid)
        .collect())
}

/// ESIA identities linked to each of `ids` (one query, for a page of candidates).
pub async fn linked_oids_of(
    db: &impl ConnectionTrait,
    ids: &[i32],
) -> Result<std::collections::HashMap<i32, Vec<String>>, DbErr> {
    let mut out: std::collections::HashMap<i32, Vec<String>> = Default::default();
    if ids.is_empty() {
        return Ok(out);
    }
    for link in esia_link::Entity::find()
        .filter(esia_link::Column::RosterPersonId.is_in(ids.to_vec()))
        .all(db)
        .await?
    {
        out.entry(link.roster_person_id)
            .or_default()
            .push(link.esia_oid);
    }
    Ok(out)
}

/// The persons of `ids` at an organization (others are left out).
pub async fn persons_at(
    db: &impl ConnectionTrait,
    ids: Vec<i32>,
    organization_id: i32,
) -> Result<Vec<Person>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    persons(
        db,
        roster_person::Entity::find()
            .filter(roster_person::Column::Id.is_in(ids))
            .filter(roster_person::Column::OrganizationId.eq(organization_id)),
    )
    .await
}

/// The records a query selects, in id order, typed.
async fn persons(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<roster_person::Entity>,
) -> Result<Vec<Person>, DbErr> {
    query
        .order_by_asc(roster_person::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(typed)
        .collect()
}

/// Students a parent record is tied to, at the parent's organization.
pub async fn children_of(db: &impl ConnectionTrait, parent: &Person) -> Result<Vec<Person>, DbErr> {
    tied(db, parent, roster_guardian::Column::ParentId).await
}

pub async fn parents_of(db: &impl ConnectionTrait, student: &Person) -> Result<Vec<Person>, DbErr> {
    tied(db, student, roster_guardian::Column::StudentId).await
}

/// The people tied to `person` as guardian and child; `side` is the column `person` is in.
async fn tied(
    db: &impl ConnectionTrait,
    person: &Person,
    side: roster_guardian::Column,
) -> Result<Vec<Person>, DbErr> {
    let ids = roster_guardian::Entity::find()
        .filter(side.eq(person.id))
        .all(db)
        .await?
        .into_iter()
        .map(|g| match side {
            roster_guardian::Column::ParentId => g.student_id,
            _ => g.parent_id,
        })
        .collect();
    persons_at(db, ids, person.organization_id).await
}

/// The roster records `oid` signs in with at an organization.
pub async fn records_of(
    db: &impl ConnectionTrait,
    oid: &str,
    organization_id: i32,
) -> Result<Vec<Person>, DbErr> {
    let ids = esia_link::Entity::find()
        .filter(esia_link::Column::EsiaOid.eq(oid))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.roster_person_id)
        .collect();
    persons_at(db, ids, organization_id).await
}

/// The students `oid` now answers for at an organization: their own student record, and
/// the students tied to their parent records.
pub async fn linked_students(
    db: &impl ConnectionTrait,
    oid: &str,
    organization_id: i32,
) -> Result<Vec<Person>, DbErr> {
    let mut out = Vec::new();
    for record in records_of(db, oid, organization_id).await? {
        match record.role {
            RosterRole::Student => out.push(record),
            RosterRole::Parent => out.extend(children_of(db, &record).await?),
            RosterRole::Employee => {}
        }
    }
    Ok(out)
}

pub async fn person(db: &impl ConnectionTrait, id: i32) -> Result<Option<Person>, DbErr> {
    roster_person::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(typed)
        .transpose()
}

fn code_hash(code: &str) -> String {
    let normalized: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!(
        "{:x}",
        Sha256::digest(normalized.to_ascii_uppercase().as_bytes())
    )
}

/// Without look-alike letters and digits, so a code read aloud over the phone survives.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Issues a one-time code for «Привязать учетную запись»; only its hash is stored.
pub async fn issue_binding_code(
    db: &impl ConnectionTrait,
    roster_person_id: i32,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let raw: String = (0..10)
        .map(|_| CODE_ALPHABET[rand::random_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    binding_code::ActiveModel {
        roster_person_id: Set(roster_person_id),
        code_hash: Set(code_hash(&raw)),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(format!("{}-{}", &raw[..5], &raw[5..]))
}

/// Counts an attempt at a binding code by `oid` from `client` and returns how many each has
/// made since `since`, this one included. The row is written before anything is checked,
/// so parallel attempts all count.
pub async fn count_link_attempt(
    db: &impl ConnectionTrait,
    oid: &str,
    client: &str,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
) -> Result<(u64, u64), DbErr> {
    let mut insert = Sql::new(db.get_database_backend());
    insert
        .push("INSERT INTO link_attempts (esia_oid, client, created_at) VALUES (")
        .bind(oid)
        .push(", ")
        .bind(client)
        .push(", ")
        .bind(now)
        .push(")");
    db.execute_raw(insert.build()).await?;
    let mut count = Sql::new(db.get_database_backend());
    count
        .push("SELECT (SELECT COUNT(*) FROM link_attempts WHERE esia_oid = ")
        .bind(oid)
        .push(" AND created_at >= ")
        .bind(since)
        .push(") AS by_person, (SELECT COUNT(*) FROM link_attempts WHERE client = ")
        .bind(client)
        .push(" AND created_at >= ")
        .bind(since)
        .push(") AS by_client");
    let row = db
        .query_one_raw(count.build())
        .await?
        .ok_or_else(|| DbErr::Custom("attempt count returned no row".into()))?;
    Ok((
        row.try_get::<i64>("", "by_person")?.max(0) as u64,
        row.try_get::<i64>("", "by_client")?.max(0) as u64,
    ))
}

/// What entering a binding code did.
pub enum Redeemed {
    Linked(Person),
    /// The record signs in with another account now: the code is spent, nothing linked.
    Taken,
    /// No such code, used, or expired.
    Unknown,
}

/// Spends a binding code and links the identity in one transaction: a code works once, and
/// never for a record that another account got meanwhile.
pub async fn redeem_binding_code(
    db: &DatabaseConnection,
    code: &str,
    oid: &str,
    now: DateTime<Utc>,
) -> Result<Redeemed, DbErr> {
    let txn = super::begin_write(db).await?;
    let found = binding_code::Entity::find()
        .filter(binding_code::Column::CodeHash.eq(code_hash(code)))
        .filter(binding_code::Column::UsedAt.is_null())
        .filter(binding_code::Column::ExpiresAt.gt(now))
        .one(&txn)
        .await?;
    let Some(found) = found else {
        return Ok(Redeemed::Unknown);
    };
    // Conditional update: of two concurrent redemptions only one sees a row change.
    let spent = binding_code::Entity::update_many()
        .col_expr(
            binding_code::Column::UsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(binding_code::Column::Id.eq(found.id))
        .filter(binding_code::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Ok(Redeemed::Unknown);
    }
    let outcome = match link(&txn, oid, found.roster_person_id, "code", now).await? {
        Linked::TakenByAnother => Redeemed::Taken,
        Linked::New | Linked::AlreadyYours => match person(&txn, found.roster_person_id).await? {
            Some(p) => Redeemed::Linked(p),
            None => Redeemed::Unknown,
        },
    };
    txn.commit().await?;
    Ok(outcome)
}

/// A roster person to create from an appeal's ESIA snapshot.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub organization_id: i32,
    pub role: RosterRole,
    pub name: PersonName,
    pub birth_date: NaiveDate,
    pub snils: Option<String>,
    pub class_id: Option<i32>,
}

pub async fn create_person(db: &impl ConnectionTrait, p: &NewPerson) -> Result<i32, DbErr> {
    insert_person(db, p, &Contacts::default()).await
}

async fn insert_person(
    db: &impl ConnectionTrait,
    p: &NewPerson,
    contacts: &Contacts,
) -> Result<i32, DbErr> {
    let mut row = keyed(sea_orm::NotSet, &p.name, p.birth_date, p.snils.clone());
    row.organization_id = Set(p.organization_id);
    row.role = Set(p.role.as_str().to_string());
    row.passport = Set(None);
    row.class_id = Set(p.class_id);
    row.gender = Set(contacts.gender.clone());
    row.email = Set(contacts.email.clone());
    row.phone = Set(contacts.phone.clone());
    row.insert(db).await.map(|r| r.id)
}

/// A roster row's identifying columns: the name (with its normalized form, which must
/// always follow it), birth date and СНИЛС.
fn keyed(
    id: sea_orm::ActiveValue<i32>,
    name: &PersonName,
    birth_date: NaiveDate,
    snils: Option<String>,
) -> roster_person::ActiveModel {
    roster_person::ActiveModel {
        id,
        last_name: Set(name.last.clone()),
        first_name: Set(name.first.clone()),
        middle_name: Set(name.middle.clone()),
        birth_date: Set(birth_date),
        snils: Set(snils),
        name_norm: Set(name.norm()),
        ..Default::default()
    }
}

/// Remembers a person's key before staff correct it, so a later import that still has
/// the old values is recognised (see `workflow::import::roster`).
pub async fn record_correction(
    db: &impl ConnectionTrait,
    before: &Person,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    roster_correction::ActiveModel {
        roster_person_id: Set(before.id),
        name_norm_before: Set(before.name.norm()),
        birth_date_before: Set(before.birth_date),
        snils_before: Set(before.snils.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// The person at an organization whose key staff corrected away from `name_norm` and
/// `birth_date`, if any.
pub async fn corrected_from(
    db: &impl ConnectionTrait,
    organization_id: i32,
    name_norm: &str,
    birth_date: NaiveDate,
) -> Result<Option<Person>, DbErr> {
    let corrections = roster_correction::Entity::find()
        .filter(roster_correction::Column::NameNormBefore.eq(name_norm))
        .filter(roster_correction::Column::BirthDateBefore.eq(birth_date))
        .all(db)
        .await?;
    for c in corrections {
        if let Some(p) = person(db, c.roster_person_id).await?
            && p.organization_id == organization_id
        {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// Overwrites a roster person's identifying data with what ESIA says.
pub async fn fix_person(
    db: &impl ConnectionTrait,
    id: i32,
    name: &PersonName,
    birth_date: NaiveDate,
    snils: Option<String>,
) -> Result<(), DbErr> {
    keyed(Set(id), name, birth_date, snils)
        .update(db)
        .await
        .map(|_| ())
}

pub async fn tie_guardian(
    db: &impl ConnectionTrait,
    parent_id: i32,
    student_id: i32,
) -> Result<(), DbErr> {
    let exists = roster_guardian::Entity::find_by_id((parent_id, student_id))
        .one(db)
        .await?
        .is_some();
    if !exists {
        roster_guardian::ActiveModel {
            parent_id: Set(parent_id),
            student_id: Set(student_id),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Roster persons of one role at one organization, archived ones left out: the pool the
/// domain ranks candidates from. A typo can sit in any part of a name, so no SQL prefilter would be safe; a school
/// roster is a few thousand rows at most.
pub async fn of_organization(
    db: &impl ConnectionTrait,
    organization_id: i32,
    role: RosterRole,
) -> Result<Vec<Person>, DbErr> {
    persons(
        db,
        roster_person::Entity::find()
            .filter(roster_person::Column::OrganizationId.eq(organization_id))
            .filter(roster_person::Column::Role.eq(role.as_str()))
            .filter(roster_person::Column::ArchivedAt.is_null()),
    )
    .await
}

/// Archives people a roster file left out, or brings one back (`None`).
pub async fn set_archived(
    db: &impl ConnectionTrait,
    ids: &[i32],
    at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    for chunk in ids.chunks(500) {
        roster_person::Entity::update_many()
            .col_expr(
                roster_person::Column::ArchivedAt,
                sea_orm::sea_query::Expr::value(at),
            )
            .filter(roster_person::Column::Id.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The archived people of an organization.
pub async fn archived_ids(
    db: &impl ConnectionTrait,
    organization_id: i32,
) -> Result<Vec<i32>, DbErr> {
    student_ids(db, organization_id, true).await
}

/// Ids of an organization's students, archived or not: only the ids, so that a school
/// of 100,000 is a few hundred kilobytes.
pub async fn student_ids(
    db: &impl ConnectionTrait,
    organization_id: i32,
    archived: bool,
) -> Result<Vec<i32>, DbErr> {
    let archived_at = roster_person::Column::ArchivedAt;
    roster_person::Entity::find()
        .select_only()
        .column(roster_person::Column::Id)
        .filter(roster_person::Column::OrganizationId.eq(organization_id))
        .filter(roster_person::Column::Role.eq(RosterRole::Student.as_str()))
        .filter(if archived {
            archived_at.is_not_null()
        } else {
            archived_at.is_null()
        })
        .into_tuple()
        .all(db)
        .await
}

/// The student record of `name_norm`/`birth_date` at an organization, if there is one.
pub async fn find_student(
    db: &impl ConnectionTrait,
    organization_id: i32,
    name_norm: &str,
    birth_date: NaiveDate,
) -> Result<Option<Person>, DbErr> {
    roster_person::Entity::find()
        .filter(roster_person::Column::OrganizationId.eq(organization_id))
        .filter(roster_person::Column::Role.eq(RosterRole::Student.as_str()))
        .filter(roster_person::Column::NameNorm.eq(name_norm))
        .filter(roster_person::Column::BirthDate.eq(birth_date))
        .one(db)
        .await?
        .map(typed)
        .transpose()
}

/// A parent at an organization: by СНИЛС when the file gives one, else (or when no one
/// has it yet: the file now adds it) by ФИО and birth date among parents without another
/// СНИЛС.
pub async fn find_parent(
    db: &impl ConnectionTrait,
    organization_id: i32,
    e: &Entry,
) -> Result<Option<Person>, DbErr> {
    let parents = || {
        roster_person::Entity::find()
            .filter(roster_person::Column::OrganizationId.eq(organization_id))
            .filter(roster_person::Column::Role.eq(RosterRole::Parent.as_str()))
    };
    if let Some(snils) = &e.snils
        && let Some(found) = parents()
            .filter(roster_person::Column::Snils.eq(snils.digits()))
            .one(db)
            .await?
    {
        return typed(found).map(Some);
    }
    let Some(born) = e.birth_date else {
        return Ok(None);
    };
    parents()
        .filter(roster_person::Column::NameNorm.eq(e.name.norm()))
        .filter(roster_person::Column::BirthDate.eq(born))
        .filter(roster_person::Column::Snils.is_null())
        .one(db)
        .await?
        .map(typed)
        .transpose()
}

/// Whoever at an organization has this СНИЛС.
pub async fn snils_holder(
    db: &impl ConnectionTrait,
    organization_id: i32,
    snils_digits: &str,
) -> Result<Option<Person>, DbErr> {
    roster_person::Entity::find()
        .filter(roster_person::Column::OrganizationId.eq(organization_id))
        .filter(roster_person::Column::Snils.eq(snils_digits))
        .one(db)
        .await?
        .map(typed)
        .transpose()
}

/// The keys a person had before each staff correction, oldest first.
pub async fn corrections_of(
    db: &impl ConnectionTrait,
    person_id: i32,
) -> Result<Vec<Before>, DbErr> {
    Ok(roster_correction::Entity::find()
        .filter(roster_correction::Column::RosterPersonId.eq(person_id))
        .order_by_asc(roster_correction::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| Before {
            name_norm: c.name_norm_before,
            birth_date: c.birth_date_before,
            snils: c.snils_before,
        })
        .collect())
}

/// Adds a person of a roster file; returns the id.
pub async fn add_entry(
    db: &impl ConnectionTrait,
    organization_id: i32,
    role: RosterRole,
    e: &Entry,
    birth_date: NaiveDate,
    class_id: Option<i32>,
) -> Result<i32, DbErr> {
    let person = NewPerson {
        organization_id,
        role,
        name: e.name.clone(),
        birth_date,
        snils: e.snils.as_ref().map(|s| s.digits().to_string()),
        class_id,
    };
    insert_person(db, &person, &e.contacts).await
}

/// Rewrites a roster person with the values an import decided on.
pub async fn update_person(db: &impl ConnectionTrait, p: &Person) -> Result<(), DbErr> {
    let mut row = keyed(Set(p.id), &p.name, p.birth_date, p.snils.clone());
    row.class_id = Set(p.class_id);
    row.gender = Set(p.contacts.gender.clone());
    row.email = Set(p.contacts.email.clone());
    row.phone = Set(p.contacts.phone.clone());
    row.update(db).await.map(|_| ())
}

/// People of an organization whom staff corrected or added through appeals (since
/// `since`, or ever): a correction is recorded, an addition is a record linked by staff.
pub async fn changed_by_staff(
    db: &impl ConnectionTrait,
    organization_id: i32,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<Person>, DbErr> {
    let mut corrections = roster_correction::Entity::find();
    let mut links = esia_link::Entity::find().filter(esia_link::Column::Method.eq("staff"));
    if let Some(since) = since {
        corrections = corrections.filter(roster_correction::Column::CreatedAt.gte(since));
        links = links.filter(esia_link::Column::CreatedAt.gte(since));
    }
    let mut ids: Vec<i32> = corrections
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.roster_person_id)
        .collect();
    ids.extend(links.all(db).await?.into_iter().map(|l| l.roster_person_id));
    ids.sort_unstable();
    ids.dedup();
    persons_at(db, ids, organization_id).await
}

/// Roster persons of an organization for the admin list, archived ones included (with
/// when): by a part of the name, or a СНИЛС, or all of them, at most `limit`.
pub async fn listed(
    db: &impl ConnectionTrait,
    organization_id: i32,
    query: Option<&str>,
    limit: u64,
) -> Result<Vec<(Person, Option<DateTime<Utc>>)>, DbErr> {
    let mut q = roster_person::Entity::find()
        .filter(roster_person::Column::OrganizationId.eq(organization_id));
    if let Some(text) = query {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        q = if digits.len() == 11 {
            q.filter(roster_person::Column::Snils.eq(digits))
        } else {
            q.filter(
                roster_person::Column::NameNorm.contains(crate::domain::names::normalize(text)),
            )
        };
    }
    q.order_by_asc(roster_person::Column::NameNorm)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let archived = m.archived_at;
            typed(m).map(|p| (p, archived))
        })
        .collect()
}

/// When a person was archived, if they are.
pub async fn archived_at(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(roster_person::Entity::find_by_id(id)
        .one(db)
        .await?
        .and_then(|m| m.archived_at))
}

/// The ESIA accounts a person signs in with, oldest link first.
pub async fn links_of(
    db: &impl ConnectionTrait,
    roster_person_id: i32,
) -> Result<Vec<esia_link::Model>, DbErr> {
    esia_link::Entity::find()
        .filter(esia_link::Column::RosterPersonId.eq(roster_person_id))
        .order_by_asc(esia_link::Column::Id)
        .all(db)
        .await
}
