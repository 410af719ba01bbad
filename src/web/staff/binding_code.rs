//! `/staff/roster/{id}/binding-code`: «Привязать учетную запись» — a one-time code for a
//! roster person, shown once.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::domain::number::AppealNumber;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::error::{AppError, AppResult};
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::Layout;
use crate::workflow::{self, binding};

use super::appeal::{Form, refused};

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
) -> AppResult<Response> {
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let from_appeal = form.number.as_deref().and_then(AppealNumber::parse);
    let issued = match binding::issue(&state.workflow, &user.actor, id, from_appeal.as_ref()).await
    {
        Ok(issued) => issued,
        // Asked for from an appeal: the refusal shows there, beside the roster records.
        Err(workflow::Error::Refused(r)) => {
            return match &from_appeal {
                Some(number) => refused(&state, &user, number, Form::Link, r, "").await,
                None => Err(r.into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    Ok(html(CodePage {
        layout: Layout::new(&user.session).await?,
        code: issued.code,
        person: issued.person.full(),
        number: issued.number.map(|n| n.to_string()).unwrap_or_default(),
    })?
    .into_response())
}
