//! `/admin`: what school administrators and operators load and look after — imports
//! (upload → preview → «Применить», progress, history with reports), the directory,
//! staff and roster lists of their scope, a roster person's page, and the audit log.
//! Signed in as staff through ESIA like the inbox; every use case checks the scope.

mod imports;
mod lists;
mod person_data;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;

async fn admin_root() -> Redirect {
    Redirect::to("/admin/imports")
}

/// `?q=` of the list pages.
#[derive(Deserialize, Default)]
struct Search {
    #[serde(default)]
    q: Option<String>,
}

impl Search {
    fn text(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty())
    }
}

/// The tabs of every admin page; `current` is the one shown.
struct Tabs {
    current: &'static str,
}

impl Tabs {
    const ALL: [(&'static str, &'static str); 4] = [
        ("/admin/imports", "Загрузка данных"),
        ("/admin/organizations", "Организации"),
        ("/admin/staff", "Сотрудники"),
        ("/admin/audit", "Журнал изменений"),
    ];

    fn links(&self) -> Vec<(&'static str, &'static str, bool)> {
        Self::ALL
            .iter()
            .map(|(href, label)| (*href, *label, *href == self.current))
            .collect()
    }
}

pub fn router(upload_max_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_root))
        .route("/admin/imports", get(imports::list).post(imports::upload))
        .route("/admin/imports/{id}", get(imports::show))
        .route("/admin/imports/{id}/apply", post(imports::apply))
        .route("/admin/imports/{id}/discard", post(imports::discard))
        .route("/admin/imports/{id}/report", get(imports::report))
        .route("/admin/organizations", get(lists::organizations))
        .route("/admin/organizations/{id}/roster", get(lists::roster))
        .route("/admin/roster/{id}", get(lists::person))
        .route("/admin/staff", get(lists::staff))
        .route("/admin/audit", get(lists::audit))
        .route("/admin/person-data", get(person_data::get))
        // The upload form's other fields and the multipart framing come on top of the file.
        .layer(DefaultBodyLimit::max(upload_max_bytes + 64 * 1024))
}
