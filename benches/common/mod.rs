//! What the benchmarks share: appeals as the form files them, without the HTTP round trip.

use appeals::domain::applicant::{Applicant, Child, Identity, LoginRole, Snapshot};
use appeals::domain::consent::{self, Consent};
use appeals::domain::names::PersonName;
use appeals::domain::routing::Route;
use appeals::store::appeals::NewAppeal;
use chrono::{NaiveDate, Utc};

/// The `i`-th appeal of a September flood: a parent about one child, at `org` / `class`.
pub fn new_appeal(i: usize, org: i32, class: i32) -> NewAppeal {
    let applicant = Applicant {
        identity: Identity {
            oid: format!("7{i:09}"),
            role: LoginRole::Parent,
            name: PersonName::new("Родителева", &format!("Мама{i}"), "Ивановна"),
            birth_date: NaiveDate::from_ymd_opt(1985, 1, 1).expect("date"),
            snils: None,
            email: Some(format!("parent{i}@example.com")),
            unverified_email: None,
            confirmed: true,
        },
        kids: Vec::new(),
    };
    let child = Child {
        esia_id: i.to_string(),
        name: PersonName::new("Учеников", &format!("Ребёнок{i}"), ""),
        birth_date: NaiveDate::from_ymd_opt(2014, 1, 1).expect("date"),
        snils: None,
    };
    let snapshot = Snapshot::new(&applicant, Some(child), None);
    let now = Utc::now();
    NewAppeal {
        snapshot,
        repeat_reason: None,
        digest_staff: Vec::new(),
        organization_id: org,
        class_id: class,
        comment: Some("Не могу войти в дневник".into()),
        submission_id: uuid::Uuid::new_v4().to_string(),
        route: Route::Organization,
        year: 2026,
        now,
        due_at: now + chrono::Duration::days(30),
        consent: Consent {
            version: consent::VERSION.into(),
            given_at: now,
        },
    }
}
