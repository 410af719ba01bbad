//! The appeal flow: confirmation (`/appeals/new`), the form (`/appeals/form`), submission
//! (`POST /appeals`) and the applicant's views of their appeals.

use std::sync::atomic::Ordering;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, Utc};
use serde::Deserialize;

use super::AppState;
use super::actions::{self, Action};
use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::security::html;
use super::session::SignedIn;
use super::templates::{Layout, Opt, opts, ru_date, ru_datetime};
use crate::domain::appeal::{self, Comment, DEFAULT_ORG_TYPE, ORG_TYPES};
use crate::domain::applicant::{Applicant, LoginRole, Snapshot};
use crate::domain::eligibility::{self, Refusal};
use crate::domain::number::AppealNumber;
use crate::domain::routing;
use crate::domain::status::Status;
use crate::mail::messages::{self, AppealFacts, StaffNotice};
use crate::store::appeals::{self as appeal_store, NewAppeal, Submitted};
use crate::store::appeals::{Applied, Change, RosterChange};
use crate::store::directory::{self, OrganizationFilter};
use crate::store::staff;

#[derive(Template)]
#[template(path = "appeals/refusal.html")]
struct RefusalPage {
    layout: Layout,
    message: &'static str,
    unconfirmed: bool,
    no_kids: bool,
}

/// Eligibility is checked on every step, server-side: a refusal is a 403 page.
async fn refuse_unless_eligible(state: &AppState, user: &SignedIn) -> AppResult<Option<Response>> {
    let Err(refusal) = eligibility::check(&user.applicant, state.today()) else {
        return Ok(None);
    };
    let page = RefusalPage {
        layout: Layout::new(&user.session).await?,
        message: refusal.message(),
        unconfirmed: refusal == Refusal::Unconfirmed,
        no_kids: refusal == Refusal::NoChildren,
    };
    Ok(Some((StatusCode::FORBIDDEN, html(page)?).into_response()))
}

#[derive(Template)]
#[template(path = "appeals/confirm.html")]
struct ConfirmPage {
    layout: Layout,
}

async fn new_get(State(state): State<AppState>, user: SignedIn) -> AppResult<Response> {
    if let Some(refusal) = refuse_unless_eligible(&state, &user).await? {
        return Ok(refusal);
    }
    Ok(html(ConfirmPage {
        layout: Layout::new(&user.session).await?,
    })?
    .into_response())
}

/// The cascade of selectors as the query string carries it (ids only: no personal data
/// in URLs).
#[derive(Debug, Default, Deserialize)]
struct Selection {
    region_id: Option<String>,
    municipality_id: Option<String>,
    locality: Option<String>,
    org_type: Option<String>,
    organization_id: Option<String>,
}

fn parse_id(s: &Option<String>) -> Option<i32> {
    s.as_deref().and_then(|v| v.trim().parse().ok())
}

/// Values of the POST form, echoed back when the form is shown again with errors.
#[derive(Debug, Default, Deserialize)]
struct AppealForm {
    child_id: Option<String>,
    org_type: Option<String>,
    organization_id: Option<String>,
    class_id: Option<String>,
    comment: Option<String>,
    submission_id: Option<String>,
}

#[derive(Template)]
#[template(path = "appeals/form.html")]
struct FormPage {
    layout: Layout,
    fio: String,
    birth_date: String,
    email: String,
    role_label: &'static str,
    is_parent: bool,
    kids: Vec<Opt>,
    regions: Vec<Opt>,
    municipalities: Vec<Opt>,
    localities: Vec<Opt>,
    org_types: Vec<Opt>,
    organizations: Vec<Opt>,
    organization: Option<(i32, String)>,
    org_type: String,
    classes: Vec<Opt>,
    comment: String,
    comment_max: usize,
    submission_id: String,
    errors: Vec<String>,
}

async fn form_page(
    state: &AppState,
    user: &SignedIn,
    sel: Selection,
    values: AppealForm,
    errors: Vec<String>,
) -> AppResult<FormPage> {
    let a = &user.applicant;
    let mut org_type = sel
        .org_type
        .clone()
        .filter(|t| appeal::is_org_type(t))
        .unwrap_or(DEFAULT_ORG_TYPE.into());
    let mut region_id = parse_id(&sel.region_id);
    let mut municipality_id = parse_id(&sel.municipality_id);
    let mut locality = sel.locality.clone().filter(|l| !l.is_empty());
    // A chosen organization fixes the selectors above it, so they always agree with it.
    let organization = match parse_id(&sel.organization_id) {
        Some(id) => directory::organization(&state.db, id).await?,
        None => None,
    };
    if let Some(org) = &organization {
        municipality_id = Some(org.municipality_id);
        locality = Some(org.locality.clone());
        org_type = org.org_type.clone();
        region_id = directory::municipality(&state.db, org.municipality_id)
            .await?
            .map(|m| m.region_id);
    }
    let regions = directory::regions(&state.db).await?;
    if region_id.is_none() && regions.len() == 1 {
        region_id = Some(regions[0].id);
    }
    let municipalities = match region_id {
        Some(r) => directory::municipalities(&state.db, r).await?,
        None => Vec::new(),
    };
    municipality_id = municipality_id.filter(|m| municipalities.iter().any(|x| x.id == *m));
    let (localities, organizations) = match municipality_id {
        Some(m) => {
            let filter = OrganizationFilter {
                municipality_id: Some(m),
                locality: locality.clone(),
                org_type: Some(org_type.clone()),
                name_contains: None,
            };
            (
                directory::localities(&state.db, m).await?,
                directory::organizations(&state.db, &filter).await?,
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    let classes = match &organization {
        Some(org) => directory::classes(&state.db, org.id).await?,
        None => Vec::new(),
    };
    let region_sel = region_id.map(|r| r.to_string());
    let muni_sel = municipality_id.map(|m| m.to_string());
    let org_sel = organization.as_ref().map(|o| o.id.to_string());
    let submission_id = match values.submission_id.clone().filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => appeal_store::issue_submission_token(&state.db, &a.oid, Utc::now()).await?,
    };
    Ok(FormPage {
        layout: Layout::new(&user.session).await?,
        fio: a.name.full(),
        birth_date: ru_date(a.birth_date),
        email: a.email.clone().unwrap_or_default(),
        role_label: a.role.label(),
        is_parent: a.role == LoginRole::Parent,
        kids: opts(&a.kids, values.child_id.as_deref(), |k| {
            (
                k.esia_id.clone(),
                format!("{} ({})", k.name.full(), ru_date(k.birth_date)),
            )
        }),
        regions: opts(regions, region_sel.as_deref(), |r| {
            (r.id.to_string(), r.name.clone())
        }),
        municipalities: opts(municipalities, muni_sel.as_deref(), |m| {
            (m.id.to_string(), m.name.clone())
        }),
        localities: opts(localities, locality.as_deref(), |l| (l.clone(), l.clone())),
        org_types: opts(ORG_TYPES, Some(org_type.as_str()), |(c, l)| {
            (c.to_string(), l.to_string())
        }),
        organizations: opts(organizations, org_sel.as_deref(), |(o, _)| {
            (o.id.to_string(), o.name.clone())
        }),
        organization: organization.map(|o| (o.id, o.name)),
        org_type,
        classes: opts(classes, values.class_id.as_deref(), |c| {
            (c.id.to_string(), c.name.clone())
        }),
        comment: values.comment.unwrap_or_default(),
        comment_max: appeal::COMMENT_MAX_CHARS,
        submission_id,
        errors,
    })
}

async fn form_get(
    State(state): State<AppState>,
    user: SignedIn,
    Query(sel): Query<Selection>,
) -> AppResult<Response> {
    if let Some(refusal) = refuse_unless_eligible(&state, &user).await? {
        return Ok(refusal);
    }
    Ok(
        html(form_page(&state, &user, sel, AppealForm::default(), Vec::new()).await?)?
            .into_response(),
    )
}

/// A validated submission, ready for the store.
struct Checked {
    snapshot: Snapshot,
    organization: crate::store::entities::organization::Model,
    class: crate::store::entities::class::Model,
    comment: Option<String>,
}

async fn check_form(
    state: &AppState,
    a: &Applicant,
    f: &AppealForm,
) -> AppResult<Result<Checked, Vec<String>>> {
    let mut errors = Vec::new();
    let child = match a.role {
        LoginRole::Parent => match f.child_id.as_deref().and_then(|id| a.kid(id)) {
            Some(kid) => Some(kid.clone()),
            None => {
                errors.push("Выберите ребёнка из списка, полученного с Госуслуг.".to_string());
                None
            }
        },
        _ => None,
    };
    let org_type = f.org_type.as_deref().unwrap_or_default();
    let organization = match parse_id(&f.organization_id) {
        Some(id) => directory::organization(&state.db, id).await?,
        None => None,
    };
    let organization = match organization {
        None => {
            errors.push("Выберите организацию из списка.".to_string());
            None
        }
        Some(o) if o.org_type != org_type => {
            errors.push(
                "Выбранная организация не относится к указанному типу организации.".to_string(),
            );
            None
        }
        Some(o) => Some(o),
    };
    let class = match parse_id(&f.class_id) {
        Some(id) => directory::class(&state.db, id).await?,
        None => None,
    };
    let class = match (class, &organization) {
        (Some(c), Some(o)) if c.organization_id == o.id => Some(c),
        (Some(_), Some(_)) => {
            errors.push("Выбранный класс не относится к выбранной организации.".to_string());
            None
        }
        (None, _) => {
            errors.push("Выберите класс из списка.".to_string());
            None
        }
        (Some(_), None) => None,
    };
    let comment = match Comment::parse(f.comment.as_deref().unwrap_or_default()) {
        Ok(c) => c.into_inner(),
        Err(e) => {
            errors.push(e.to_string());
            None
        }
    };
    Ok(match (organization, class) {
        (Some(organization), Some(class)) if errors.is_empty() => Ok(Checked {
            snapshot: Snapshot::new(a, child),
            organization,
            class,
            comment,
        }),
        _ => Err(errors),
    })
}

async fn submit_post(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(form): CsrfForm<AppealForm>,
) -> AppResult<Response> {
    if let Some(refusal) = refuse_unless_eligible(&state, &user).await? {
        return Ok(refusal);
    }
    let a = &user.applicant;
    let submission_id = form.submission_id.clone().unwrap_or_default();
    if appeal_store::submission_token_owner(&state.db, &submission_id)
        .await?
        .as_deref()
        != Some(a.oid.as_str())
    {
        // A repeat of a submission that already went through is answered with its appeal.
        if let Some(existing) = appeal_store::by_submission(&state.db, &submission_id).await?
            && existing.applicant_oid == a.oid
        {
            return Ok(Redirect::to(&format!("/appeals/{}", existing.number)).into_response());
        }
        let sel = Selection {
            organization_id: form.organization_id.clone(),
            ..Default::default()
        };
        let values = AppealForm {
            submission_id: None,
            ..form
        };
        let errors = vec!["Форма устарела. Проверьте данные и отправьте её ещё раз.".to_string()];
        let page = form_page(&state, &user, sel, values, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html(page)?).into_response());
    }
    let checked = match check_form(&state, a, &form).await? {
        Ok(c) => c,
        Err(errors) => {
            let sel = Selection {
                organization_id: form.organization_id.clone(),
                org_type: form.org_type.clone(),
                ..Default::default()
            };
            let page = form_page(&state, &user, sel, form, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html(page)?).into_response());
        }
    };
    let now = Utc::now();
    let facts = staff::routing_facts(
        &state.db,
        checked.organization.id,
        checked.organization.municipality_id,
    )
    .await?;
    let route = routing::route(facts.responsible, facts.municipal);
    let snapshot_json = serde_json::to_string(&checked.snapshot).map_err(anyhow::Error::from)?;
    let recipients = staff_to_notify(&state, &checked.organization, route).await?;
    let new = NewAppeal {
        applicant_oid: a.oid.clone(),
        applicant_role: a.role.as_str().to_string(),
        snapshot: snapshot_json,
        applicant_email: a.email.clone(),
        search_norm: checked.snapshot.search_text(),
        subject_key: checked.snapshot.subject_key(),
        digest_staff: recipients.digest_ids(),
        child_esia_id: checked.snapshot.child.as_ref().map(|c| c.esia_id.clone()),
        organization_id: checked.organization.id,
        class_id: checked.class.id,
        comment: checked.comment,
        submission_id,
        route,
        year: now.with_timezone(&state.offset).year(),
        now,
        due_at: appeal::answer_due(now),
    };
    let snapshot = &checked.snapshot;
    let mut render_errors = Vec::new();
    let submitted = appeal_store::submit(&state.db, &state.numbering, new, |appeal| {
        let (org, class) = (&checked.organization.name, &checked.class.name);
        let mut out = Vec::new();
        if let Some(facts) = AppealFacts::new(appeal, snapshot, org, class, &state.public_url) {
            out.push(messages::registered(&facts));
        }
        for to in &recipients.now {
            out.push(messages::staff_notice(
                messages::StaffNotice::New,
                to,
                appeal,
                org,
                class,
                &state.public_url,
            ));
        }
        out.into_iter()
            .filter_map(|m| m.map_err(|e| render_errors.push(e)).ok())
            .collect()
    })
    .await?;
    for e in render_errors {
        // The appeal is committed; only an e-mail could not be rendered. Never lose the
        // appeal over it, but make it loud.
        tracing::error!(error = %e, "e-mail not rendered");
    }
    let appeal = match submitted {
        Submitted::Created(appeal) => {
            state
                .metrics
                .appeals_submitted
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                appeal_id = appeal.id,
                route = route.as_str(),
                "appeal registered"
            );
            appeal
        }
        Submitted::Repeated(appeal) => appeal,
    };
    if appeal.applicant_oid != a.oid {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/appeals/{}", appeal.number)).into_response())
}

/// Staff to tell about an appeal routed to `org`: e-mailed now, or queued for the digest
/// of those who asked for one (September floods).
pub(super) struct Recipients {
    pub now: Vec<String>,
    digest: Vec<crate::store::entities::staff::Model>,
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
}

pub(super) async fn staff_to_notify(
    state: &AppState,
    org: &crate::store::entities::organization::Model,
    route: routing::Route,
) -> AppResult<Recipients> {
    let staff = match route {
        routing::Route::Organization => staff::responsible_of(&state.db, org.id).await?,
        routing::Route::Municipality | routing::Route::Region => {
            let region = directory::municipality(&state.db, org.municipality_id)
                .await?
                .map(|m| m.region_id);
            staff::operators_for(&state.db, org.municipality_id, region.unwrap_or_default()).await?
        }
    };
    let (digest, now): (Vec<_>, Vec<_>) = staff
        .into_iter()
        .filter(|s| !s.email.is_empty())
        .partition(|s| s.notify_digest);
    Ok(Recipients {
        now: now.into_iter().map(|s| s.email).collect(),
        digest,
    })
}

pub struct HistoryRow {
    pub at: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "appeals/show.html")]
struct AppealPage {
    layout: Layout,
    number: String,
    status: &'static str,
    organization: String,
    class_name: String,
    subject: String,
    created: String,
    due: String,
    comment: Option<String>,
    email: Option<String>,
    history: Vec<HistoryRow>,
    is_new: bool,
    /// The latest answer for the current status: resolution, reason or question.
    answer: Option<String>,
    needs_reply: bool,
    reply_max: usize,
}

/// History kinds the applicant sees; notes and assignments are internal.
const PUBLIC_EVENTS: [&str; 4] = ["registered", "routed", "status", "reply"];

pub(super) fn event_text(kind: &str, to: Option<&str>, message: Option<String>) -> String {
    let base = match kind {
        "registered" => "Обращение зарегистрировано.".to_string(),
        "status" => format!(
            "Статус изменён: {}.",
            to.and_then(Status::parse).map(Status::label).unwrap_or("—")
        ),
        "reply" => "Ответ заявителя:".to_string(),
        _ => String::new(),
    };
    match message {
        Some(m) if base.is_empty() => m,
        Some(m) => format!("{base} {m}"),
        None => base,
    }
}

async fn show_get(
    State(state): State<AppState>,
    user: SignedIn,
    Path(number): Path<String>,
) -> AppResult<Html<String>> {
    let number = AppealNumber::parse(&number)
        .ok_or(AppError::NotFound)?
        .to_string();
    let appeal = appeal_store::for_applicant(&state.db, &number, &user.applicant.oid)
        .await?
        .ok_or(AppError::NotFound)?;
    let snapshot: Snapshot = serde_json::from_str(&appeal.snapshot).map_err(anyhow::Error::from)?;
    let organization = directory::organization(&state.db, appeal.organization_id).await?;
    let class = directory::class(&state.db, appeal.class_id).await?;
    let events = appeal_store::events(&state.db, appeal.id).await?;
    let status = Status::parse(&appeal.status)
        .ok_or_else(|| anyhow::anyhow!("unknown status in database"))?;
    let answer = events
        .iter()
        .rev()
        .find(|e| e.kind == "status" && e.to_status.as_deref() == Some(status.as_str()))
        .and_then(|e| e.message.clone());
    let history = events
        .into_iter()
        .filter(|e| PUBLIC_EVENTS.contains(&e.kind.as_str()))
        .map(|e| HistoryRow {
            at: ru_datetime(e.created_at, state.offset),
            text: event_text(&e.kind, e.to_status.as_deref(), e.message),
        })
        .collect();
    Ok(html(AppealPage {
        layout: Layout::new(&user.session).await?,
        number: appeal.number,
        status: status.label(),
        organization: organization.map(|o| o.name).unwrap_or_default(),
        class_name: class.map(|c| c.name).unwrap_or_default(),
        subject: snapshot.subject_name().full(),
        created: ru_datetime(appeal.created_at, state.offset),
        due: ru_datetime(appeal.due_at, state.offset),
        comment: appeal.comment,
        email: snapshot.identity.email,
        history,
        is_new: status == Status::New,
        answer,
        needs_reply: status == Status::NeedsInfo,
        reply_max: appeal::COMMENT_MAX_CHARS,
    })?)
}

#[derive(Deserialize)]
struct ReplyForm {
    text: Option<String>,
}

/// The applicant answers the question staff asked (status «Требуются сведения»); the
/// appeal goes back to work and its staff are told.
async fn reply_post(
    State(state): State<AppState>,
    user: SignedIn,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> AppResult<Response> {
    let number = AppealNumber::parse(&number)
        .ok_or(AppError::NotFound)?
        .to_string();
    let a = appeal_store::for_applicant(&state.db, &number, &user.applicant.oid)
        .await?
        .ok_or(AppError::NotFound)?;
    if a.status != Status::NeedsInfo.as_str() {
        return Err(AppError::BadRequest(
            "Сейчас по этому обращению ответ не требуется.".into(),
        ));
    }
    let text = match Comment::parse(form.text.as_deref().unwrap_or_default()) {
        Ok(c) => c
            .into_inner()
            .ok_or_else(|| AppError::BadRequest("Напишите ответ на вопрос сотрудника.".into()))?,
        Err(e) => return Err(AppError::BadRequest(e.to_string())),
    };
    let org = directory::organization(&state.db, a.organization_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let class = directory::class(&state.db, a.class_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let recipients = match a.assigned_staff_id {
        Some(id) => staff::by_id(&state.db, id)
            .await?
            .filter(|s| s.active)
            .filter(|s| !s.email.is_empty())
            .map(|s| vec![s.email])
            .unwrap_or_default(),
        None => {
            let facts = staff::routing_facts(&state.db, org.id, org.municipality_id).await?;
            // An answer is not news for a digest: everybody concerned hears of it now.
            staff_to_notify(
                &state,
                &org,
                routing::route(facts.responsible, facts.municipal),
            )
            .await?
            .everyone()
        }
    };
    let mut extra_mail = Vec::new();
    for to in recipients {
        extra_mail.push(messages::staff_notice(
            StaffNotice::Answered,
            &to,
            &a,
            &org.name,
            &class,
            &state.public_url,
        )?);
    }
    let action = Action {
        kind: "reply",
        status: Some(Status::InProgress),
        text: Some(text),
        actor_staff_id: None,
        by_applicant: true,
        change: Change {
            status: Some(Status::InProgress),
            ..Default::default()
        },
        roster: RosterChange::None,
        forwarded_to: None,
        extra_mail,
        extra_events: Vec::new(),
        digest_staff: Vec::new(),
    };
    match actions::perform(&state, &a, action).await? {
        Applied::Done => Ok(Redirect::to(&format!("/appeals/{number}")).into_response()),
        // Staff changed the appeal meanwhile: say so instead of dropping the answer.
        Applied::Conflict => Err(AppError::Conflict(
            "Пока вы писали ответ, сотрудник изменил обращение. Откройте его заново: ваш текст не сохранён, скопируйте его перед обновлением.".into(),
        )),
    }
}

pub struct AppealRow {
    pub number: String,
    pub created: String,
    pub organization: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "appeals/mine.html")]
struct MyAppealsPage {
    layout: Layout,
    appeals: Vec<AppealRow>,
}

async fn mine_get(State(state): State<AppState>, user: SignedIn) -> AppResult<Html<String>> {
    let list = appeal_store::list_for_applicant(&state.db, &user.applicant.oid).await?;
    let mut appeals = Vec::with_capacity(list.len());
    for a in list {
        let org = directory::organization(&state.db, a.organization_id).await?;
        appeals.push(AppealRow {
            number: a.number,
            created: ru_datetime(a.created_at, state.offset),
            organization: org.map(|o| o.name).unwrap_or_default(),
            status: Status::parse(&a.status).map(Status::label).unwrap_or("—"),
        });
    }
    Ok(html(MyAppealsPage {
        layout: Layout::new(&user.session).await?,
        appeals,
    })?)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/appeals/new", get(new_get))
        .route("/appeals/form", get(form_get))
        .route("/appeals", post(submit_post))
        .route("/appeals/{number}", get(show_get))
        .route("/appeals/{number}/reply", post(reply_post))
        .route("/my/appeals", get(mine_get))
}
