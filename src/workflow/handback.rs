//! The fixes staff made through appeals, handed back to the school system: each student
//! whose record, or whose parent's record, staff corrected or added, with the class and
//! parents, so the school can apply them with its «Пакетное обновление».

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use super::Workflow;
use crate::domain::roster::{Person, RosterRole};
use crate::store::{directory, roster};

/// One row of the hand-back file.
pub struct Row {
    pub student: Person,
    pub class: String,
    pub parents: Vec<Person>,
}

pub async fn roster_changes(
    wf: &Workflow,
    organization_id: i32,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<Row>, DbErr> {
    let db = wf.db();
    let mut students: Vec<Person> = Vec::new();
    for person in roster::changed_by_staff(db, organization_id, since).await? {
        let affected = match person.role {
            RosterRole::Student => vec![person],
            _ => roster::children_of(db, &person).await?,
        };
        for s in affected {
            if !students.iter().any(|known| known.id == s.id) {
                students.push(s);
            }
        }
    }
    let classes = directory::classes(db, organization_id).await?;
    let mut rows = Vec::new();
    for student in students {
        let class = classes
            .iter()
            .find(|c| Some(c.id) == student.class_id)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let parents = roster::parents_of(db, &student).await?;
        rows.push(Row {
            student,
            class,
            parents,
        });
    }
    rows.sort_by(|a, b| (&a.class, a.student.name.full()).cmp(&(&b.class, b.student.name.full())));
    Ok(rows)
}
