//! Who among the staff hears about an appeal, and when: an e-mail now, or the hourly
//! digest for those who chose it (September floods).

use chrono::{DateTime, Utc};

use super::{Result, Workflow};
use crate::domain::appeal::Appeal;
use crate::domain::routing::{self, Route};
use crate::mail::messages::{self, StaffNotice};
use crate::store::entities::{organization, staff as staff_entity};
use crate::store::outbox::NewMessage;
use crate::store::{directory, staff};

/// Staff subscribers hear about new appeals at most this often.
pub const DIGEST_INTERVAL_MINUTES: i64 = 60;

/// Staff to tell about an appeal routed to an organization.
pub struct Recipients {
    /// E-mailed at once.
    pub now: Vec<String>,
    /// Queued for their digest.
    digest: Vec<staff_entity::Model>,
}

impl Recipients {
    pub fn digest_ids(&self) -> Vec<i32> {
        self.digest.iter().map(|s| s.id).collect()
    }

    /// Everybody, digest subscribers included, for news that does not wait for a digest.
    pub fn everyone(self) -> Vec<String> {
        self.now
            .into_iter()
            .chain(self.digest.into_iter().map(|s| s.email))
            .collect()
    }

    /// «Новое обращение» e-mails for those told at once.
    pub fn new_appeal_notices(
        &self,
        wf: &Workflow,
        a: &Appeal,
        organization: &str,
        class_name: &str,
    ) -> std::result::Result<Vec<NewMessage>, askama::Error> {
        self.now
            .iter()
            .map(|to| {
                messages::staff_notice(
                    StaffNotice::New,
                    to,
                    a,
                    organization,
                    class_name,
                    wf.public_url(),
                )
            })
            .collect()
    }
}

/// Where an appeal to `org` goes (DESIGN.md, «Who uses it») and who is told.
pub async fn route_and_recipients(
    wf: &Workflow,
    org: &organization::Model,
) -> Result<(Route, Recipients)> {
    let db = wf.db();
    let facts = staff::routing_facts(db, org.id, org.municipality_id).await?;
    let route = routing::route(facts.responsible, facts.municipal);
    let people = match route {
        Route::Organization => staff::responsible_of(db, org.id).await?,
        Route::Municipality | Route::Region => {
            let region = directory::municipality(db, org.municipality_id)
                .await?
                .map(|m| m.region_id);
            staff::operators_for(db, org.municipality_id, region.unwrap_or_default()).await?
        }
    };
    let (digest, now): (Vec<_>, Vec<_>) = people
        .into_iter()
        .filter(|s| !s.email.is_empty())
        .partition(|s| s.notify_digest);
    Ok((
        route,
        Recipients {
            now: now.into_iter().map(|s| s.email).collect(),
            digest,
        },
    ))
}

/// Queues a digest for every subscriber whose interval has passed and who has queued
/// appeals; several instances running this at once send each digest once.
pub async fn queue_digests(wf: &Workflow, now: DateTime<Utc>) -> Result<usize> {
    let mut queued = 0;
    for s in staff::digest_subscribers(wf.db()).await? {
        let due = s
            .digest_sent_at
            .is_none_or(|t| now - t >= chrono::Duration::minutes(DIGEST_INTERVAL_MINUTES));
        if !due {
            continue;
        }
        let sent = staff::take_digest(wf.db(), &s, now, |numbers| {
            Ok::<_, super::Error>(messages::staff_digest(&s.email, numbers, wf.public_url())?)
        })
        .await?;
        if sent {
            queued += 1;
        }
    }
    Ok(queued)
}
