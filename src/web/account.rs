//! After sign-in: `/home` (linked accounts), `/no-account` («Запись не найдена») and
//! `/link` («Привязать учетную запись» with a one-time code from the school).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use super::appeals::{OpenAppealRow, RefusalView, open_appeals, refusal_of};
use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::security::html;
use super::session::SignedIn;
use super::templates::Layout;
use crate::workflow::{self, Refusal, applicant, binding};

pub struct AccountRow {
    pub organization: String,
    pub role: &'static str,
    pub person: String,
}

#[derive(Template)]
#[template(path = "account/home.html")]
struct HomePage {
    layout: Layout,
    name: String,
    accounts: Vec<AccountRow>,
    open_appeals: Vec<OpenAppealRow>,
}

async fn home_get(State(state): State<AppState>, user: SignedIn) -> AppResult<Response> {
    let linked = applicant::linked_accounts(&state.workflow, &user.applicant.oid).await?;
    if linked.is_empty() {
        return Ok(Redirect::to("/no-account").into_response());
    }
    let accounts = linked
        .into_iter()
        .map(|a| AccountRow {
            organization: a.organization.name,
            role: a.person.role.label(),
            person: a.person.name.full(),
        })
        .collect();
    let page = HomePage {
        layout: Layout::new(&user.session).await?,
        name: user.applicant.name.full(),
        accounts,
        open_appeals: open_appeals(&state, &user.applicant.oid).await?,
    };
    Ok(html(page)?.into_response())
}

#[derive(Template)]
#[template(path = "account/no_account.html")]
struct NoAccountPage {
    layout: Layout,
    open_appeals: Vec<OpenAppealRow>,
    /// Why this person cannot file: shown here, instead of a button that cannot work.
    refusal: Option<RefusalView>,
}

async fn no_account_get(State(state): State<AppState>, user: SignedIn) -> AppResult<Html<String>> {
    Ok(html(NoAccountPage {
        open_appeals: open_appeals(&state, &user.applicant.oid).await?,
        refusal: refusal_of(&state, &user)?,
        layout: Layout::new(&user.session).await?,
    })?)
}

#[derive(Template)]
#[template(path = "account/link.html")]
struct LinkPage {
    layout: Layout,
    error: Option<String>,
}

async fn link_get(user: SignedIn) -> AppResult<Html<String>> {
    Ok(html(LinkPage {
        layout: Layout::new(&user.session).await?,
        error: None,
    })?)
}

#[derive(Deserialize)]
struct LinkForm {
    code: Option<String>,
}

/// Wrong codes a session may try before it has to sign in again: a code has ~50 bits,
/// and this keeps guessing pointless.
const MAX_LINK_FAILURES: u32 = 5;
const LINK_FAILURES: &str = "link_failures";

async fn link_post(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> AppResult<Response> {
    let failures: u32 = user.session.get(LINK_FAILURES).await?.unwrap_or(0);
    if failures >= MAX_LINK_FAILURES {
        return Err(AppError::Forbidden(
            "Слишком много неверных кодов. Выйдите, войдите через Госуслуги снова и проверьте код у сотрудника школы.".into(),
        ));
    }
    let code = form.code.unwrap_or_default();
    let refusal = match binding::redeem(&state.workflow, &user.applicant.oid, &code).await {
        Ok(()) => {
            user.session.remove::<u32>(LINK_FAILURES).await?;
            return Ok(Redirect::to("/home").into_response());
        }
        Err(workflow::Error::Refused(r)) => r,
        Err(e) => return Err(e.into()),
    };
    if refusal == Refusal::CodeUnknown {
        user.session.insert(LINK_FAILURES, failures + 1).await?;
    }
    let page = LinkPage {
        layout: Layout::new(&user.session).await?,
        error: Some(refusal.message()),
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html(page)?).into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/home", get(home_get))
        .route("/no-account", get(no_account_get))
        .route("/link", get(link_get).post(link_post))
}
