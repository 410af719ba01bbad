//! `/`: the entry screen with the three role buttons (seed 000).

use askama::Template;
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use tower_sessions::Session;

use super::AppState;
use super::error::AppResult;
use super::security::html;
use super::templates::Layout;

#[derive(Template)]
#[template(path = "entry.html")]
struct EntryPage {
    layout: Layout,
}

async fn entry_get(session: Session) -> AppResult<Html<String>> {
    Ok(html(EntryPage {
        layout: Layout::new(&session).await?,
    })?)
}

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(entry_get))
}
