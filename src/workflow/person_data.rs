//! A person's data on request (152-ФЗ ст. 14): everything stored about them — their
//! appeals with the ESIA snapshots and histories, who on the staff opened them, the
//! school records with their СНИЛС or e-mail and the ESIA links — gathered into one
//! document for the operator to hand over.

use chrono::Utc;
use sea_orm::DbErr;
use serde_json::{Value, json};

use super::Workflow;
use crate::domain::snils::Snils;
use crate::store::consents;
use crate::store::person_data as store;

/// The document and how many records of each kind it holds.
pub struct Gathered {
    pub document: Value,
    pub appeals: usize,
    pub roster_records: usize,
    pub links: usize,
    pub access_log: usize,
}

pub async fn gather(
    wf: &Workflow,
    snils: Option<&Snils>,
    email: Option<&str>,
) -> Result<Gathered, DbErr> {
    let db = wf.db();
    let digits = snils.map(Snils::digits);
    let appeals = store::appeals(db, digits, email).await?;
    let ids: Vec<i64> = appeals.iter().map(|a| a.id).collect();
    let events = store::events(db, &ids).await?;
    let access = store::access_log(db, &ids).await?;
    let roster = store::roster_records(db, digits, email).await?;
    let mut oids: Vec<String> = appeals.iter().map(|a| a.applicant_oid.clone()).collect();
    oids.dedup();
    let roster_ids: Vec<i32> = roster.iter().map(|r| r.id).collect();
    let links = store::links(db, &oids, &roster_ids).await?;
    let consents = consents::of_people(db, &oids).await?;
    let document = json!({
        "requested_at": Utc::now(),
        "by": {"snils": snils.map(ToString::to_string), "email": email},
        "appeals": appeals.iter().map(|a| json!({
            "number": a.number,
            "registered_at": a.created_at,
            "status": a.status,
            "organization_id": a.organization_id,
            "class_id": a.class_id,
            "esia_snapshot": serde_json::from_str::<Value>(&a.snapshot).unwrap_or(Value::Null),
            "comment": a.comment,
            "due_at": a.due_at,
            "answered_at": a.answered_at,
            "anonymized_at": a.anonymized_at,
            "consent": a.consent_version.as_ref().map(|v| json!({
                "version": v, "given_at": a.consent_given_at,
            })),
            "history": events.iter().filter(|e| e.appeal_id == a.id).map(|e| json!({
                "at": e.created_at, "kind": e.kind, "status": e.to_status,
                "by": e.actor, "text": e.message,
            })).collect::<Vec<_>>(),
            "opened_by_staff": access.iter().filter(|l| l.appeal_id == a.id).map(|l| json!({
                "at": l.created_at, "staff_id": l.staff_id, "action": l.action,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "school_records": roster.iter().map(|r| json!({
            "organization_id": r.organization_id, "role": r.role,
            "last_name": r.last_name, "first_name": r.first_name, "middle_name": r.middle_name,
            "birth_date": r.birth_date, "snils": r.snils, "email": r.email, "phone": r.phone,
            "archived_at": r.archived_at,
        })).collect::<Vec<_>>(),
        "consents": consents.iter().map(|c| json!({
            "esia_oid": c.applicant_oid, "version": c.version, "given_at": c.given_at,
        })).collect::<Vec<_>>(),
        "esia_links": links.iter().map(|l| json!({
            "esia_oid": l.esia_oid, "roster_person_id": l.roster_person_id,
            "method": l.method, "at": l.created_at,
        })).collect::<Vec<_>>(),
    });
    Ok(Gathered {
        appeals: appeals.len(),
        roster_records: roster.len(),
        links: links.len(),
        access_log: access.len(),
        document,
    })
}
