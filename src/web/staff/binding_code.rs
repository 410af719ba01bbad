//! `/staff/roster/{id}/binding-code`: «Привязать учетную запись» — a one-time code for a
//! roster person, shown once.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use serde::Deserialize;

use crate::domain::number::AppealNumber;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::error::{AppError, AppResult};
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::Layout;
use crate::workflow::binding;

#[derive(Template)]
#[template(path = "staff/code.html")]
struct CodePage {
    layout: Layout,
    code: String,
    person: String,
    number: String,
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    number: Option<String>,
}

pub(super) async fn post(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> AppResult<Html<String>> {
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let from_appeal = form.number.as_deref().and_then(AppealNumber::parse);
    let issued = binding::issue(&state.workflow, &user.actor, id, from_appeal.as_ref()).await?;
    Ok(html(CodePage {
        layout: Layout::staff(&user.session).await?,
        code: issued.code,
        person: issued.person.full(),
        number: issued.number.map(|n| n.to_string()).unwrap_or_default(),
    })?)
}
