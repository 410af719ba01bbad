//! After sign-in: `/home` (linked accounts), `/no-account` («Запись не найдена») and
//! `/link` («Привязать учетную запись» with a one-time code from the school).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Deserialize;

use super::AppState;
use super::actions;
use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::security::html;
use super::session::SignedIn;
use super::templates::{Layout, roster_role_label};
use crate::store::roster;

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
}

async fn home_get(State(state): State<AppState>, user: SignedIn) -> AppResult<Response> {
    let linked = roster::linked_accounts(&state.db, &user.applicant.oid).await?;
    if linked.is_empty() {
        return Ok(Redirect::to("/no-account").into_response());
    }
    let accounts = linked
        .into_iter()
        .map(|a| AccountRow {
            organization: a.organization.name,
            role: roster_role_label(&a.person.role),
            person: crate::domain::names::PersonName::new(
                &a.person.last_name,
                &a.person.first_name,
                &a.person.middle_name,
            )
            .full(),
        })
        .collect();
    let page = HomePage {
        layout: Layout::new(&user.session).await?,
        name: user.applicant.name.full(),
        accounts,
    };
    Ok(html(page)?.into_response())
}

#[derive(Template)]
#[template(path = "account/no_account.html")]
struct NoAccountPage {
    layout: Layout,
}

async fn no_account_get(user: SignedIn) -> AppResult<Html<String>> {
    Ok(html(NoAccountPage {
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
    let error = if code.trim().is_empty() {
        "Введите код привязки, выданный в образовательной организации."
    } else if let Some(person) =
        roster::redeem_binding_code(&state.db, &code, &user.applicant.oid, Utc::now()).await?
    {
        user.session.remove::<u32>(LINK_FAILURES).await?;
        let text =
            "Учётная запись Госуслуг связана по коду, выданному организацией. Обращение закрыто.";
        if let Err(e) =
            actions::resolve_after_link(&state, &user.applicant.oid, person.organization_id, text)
                .await
        {
            tracing::error!(error = %e, "open appeals not resolved after a binding code");
        }
        return Ok(Redirect::to("/home").into_response());
    } else {
        user.session.insert(LINK_FAILURES, failures + 1).await?;
        "Код не найден, уже использован или срок его действия истёк."
    };
    let page = LinkPage {
        layout: Layout::new(&user.session).await?,
        error: Some(error.into()),
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html(page)?).into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/home", get(home_get))
        .route("/no-account", get(no_account_get))
        .route("/link", get(link_get).post(link_post))
}
