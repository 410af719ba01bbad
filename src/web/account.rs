//! After sign-in: `/home` (linked accounts), `/no-account` («Запись не найдена») and
//! `/link` («Привязать учетную запись» with a one-time code from the school).

use askama::Template;
use axum::Router;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use super::appeals::{OpenAppealRow, RefusalView, open_appeals, refusal_of};
use super::csrf::CsrfForm;
use super::error::AppResult;
use super::security::html;
use super::session::SignedIn;
use super::templates::Layout;
use crate::workflow::binding::AttemptLimits;
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

async fn link_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    user: SignedIn,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> AppResult<Response> {
    let code = form.code.unwrap_or_default();
    let l = &state.settings.limits;
    let limits = AttemptLimits {
        per_account: l.link_attempts_per_hour,
        per_client: l.link_attempts_per_client_per_hour,
    };
    let client = peer.ip().to_string();
    let refusal =
        match binding::redeem(&state.workflow, &user.applicant.oid, &client, &code, limits).await {
            Ok(()) => return Ok(Redirect::to("/home").into_response()),
            Err(workflow::Error::Refused(r)) => r,
            Err(e) => return Err(e.into()),
        };
    let status = if refusal == Refusal::TooManyCodes {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = LinkPage {
        layout: Layout::new(&user.session).await?,
        error: Some(refusal.message()),
    };
    Ok((status, html(page)?).into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/home", get(home_get))
        .route("/no-account", get(no_account_get))
        .route("/link", get(link_get).post(link_post))
}
