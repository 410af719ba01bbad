//! The appeal flow: confirmation (`/appeals/new`), consent to the processing of personal
//! data (`/appeals/consent`), the form (`/appeals/form`), submission (`POST /appeals`) and
//! the applicant's views of their appeals.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::csrf::{Button, CsrfForm};
use super::error::{AppError, AppResult};
use super::security::html;
use super::session::{ApplicantForm, SignedIn, keep_draft, take_draft};
use super::templates::{Layout, Opt, Terms, flash, opts, plural, ru_date, ru_datetime};
use crate::domain::appeal::{self, ORG_TYPES};
use crate::domain::applicant::LoginRole;
use crate::domain::consent;
use crate::domain::eligibility::Refusal as Ineligible;
use crate::domain::number::AppealNumber;
use crate::domain::status::Status;
use crate::workflow::applicant::{FieldError, Selection, Submission, Summary};
use crate::workflow::{self, Refusal, applicant};

/// Why an applicant cannot file and which remedy to show (`partials/eligibility.html`).
pub(super) struct RefusalView {
    pub message: &'static str,
    pub unconfirmed: bool,
    pub no_kids: bool,
    pub under_14: bool,
}

impl From<Ineligible> for RefusalView {
    fn from(r: Ineligible) -> Self {
        Self {
            message: r.message(),
            unconfirmed: r == Ineligible::Unconfirmed,
            no_kids: r == Ineligible::NoChildren,
            under_14: r == Ineligible::StudentUnder14,
        }
    }
}

/// Whether the signed-in applicant may file; `None` when they may.
pub(super) fn refusal_of(state: &AppState, user: &SignedIn) -> AppResult<Option<RefusalView>> {
    match applicant::check_eligible(&state.workflow, &user.applicant) {
        Ok(()) => Ok(None),
        Err(workflow::Error::Refused(Refusal::Ineligible(r))) => Ok(Some(r.into())),
        Err(e) => Err(e.into()),
    }
}

/// An open appeal on the pages an applicant lands on.
pub struct OpenAppealRow {
    pub number: String,
    pub status: &'static str,
    pub organization: String,
    pub child: String,
    pub needs_reply: bool,
}

/// The applicant's open appeals, newest first.
pub(super) async fn open_appeals(state: &AppState, oid: &str) -> AppResult<Vec<OpenAppealRow>> {
    Ok(applicant::appeals(&state.workflow, oid)
        .await?
        .into_iter()
        .filter(|(a, _)| a.status.is_open())
        .map(|(a, organization)| OpenAppealRow {
            status: a.status.label(),
            child: a.snapshot.child_name().unwrap_or_default(),
            needs_reply: a.status == Status::NeedsInfo,
            organization,
            number: a.number,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "appeals/refusal.html")]
struct RefusalPage {
    layout: Layout,
    refusal: RefusalView,
}

/// Eligibility is checked on every step, server-side: a refusal is a 403 page.
async fn refuse_unless_eligible(state: &AppState, user: &SignedIn) -> AppResult<Option<Response>> {
    match refusal_of(state, user)? {
        None => Ok(None),
        Some(refusal) => Ok(Some(refusal_page(user, refusal).await?)),
    }
}

async fn refusal_page(user: &SignedIn, refusal: RefusalView) -> AppResult<Response> {
    let page = RefusalPage {
        layout: Layout::new(&user.session).await?,
        refusal,
    };
    Ok((StatusCode::FORBIDDEN, html(page)?).into_response())
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

#[derive(Template)]
#[template(path = "appeals/consent.html")]
struct ConsentPage {
    layout: Layout,
    fio: String,
    operator: String,
    operator_address: String,
    is_parent: bool,
    /// The retention term as words: «3 года».
    retention: String,
    version: &'static str,
    /// When the person agreed to this wording already: the page only shows it again.
    given: Option<String>,
}

async fn consent_get(State(state): State<AppState>, user: SignedIn) -> AppResult<Response> {
    if let Some(refusal) = refuse_unless_eligible(&state, &user).await? {
        return Ok(refusal);
    }
    let given = applicant::consent_given(&state.workflow, &user.applicant).await?;
    let c = &state.settings.consent;
    Ok(html(ConsentPage {
        layout: Layout::new(&user.session).await?,
        fio: user.applicant.name.full(),
        operator: c.operator.clone(),
        operator_address: c.operator_address.clone(),
        is_parent: user.applicant.role == LoginRole::Parent,
        retention: plural(
            state.settings.retention.appeal_years.into(),
            "год",
            "года",
            "лет",
        ),
        version: consent::VERSION,
        given: given.map(|t| ru_datetime(t, state.workflow.offset())),
    })?
    .into_response())
}

/// «Даю согласие», then the form (with what was typed before, if anything was kept).
async fn consent_post(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(Button {}): CsrfForm<Button>,
) -> AppResult<Response> {
    match applicant::give_consent(&state.workflow, &user.applicant).await {
        Ok(_) => Ok(Redirect::to("/appeals/form").into_response()),
        Err(workflow::Error::Refused(Refusal::Ineligible(r))) => {
            refusal_page(&user, r.into()).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether the person agreed to the consent wording in force: the form is only for them.
async fn consented(state: &AppState, user: &SignedIn) -> AppResult<bool> {
    Ok(applicant::consent_given(&state.workflow, &user.applicant)
        .await?
        .is_some())
}

/// Sends the person to the consent first; what they typed waits for the form.
async fn ask_consent(user: &SignedIn, typed: Option<AppealForm>) -> AppResult<Response> {
    if let Some(form) = typed {
        keep_draft(&user.session, &user.applicant.oid, form).await?;
    }
    Ok(Redirect::to("/appeals/consent").into_response())
}

/// The cascade of selectors as the query string carries it (ids only: no personal data
/// in URLs).
#[derive(Debug, Default, Deserialize)]
struct SelectionQuery {
    region_id: Option<String>,
    municipality_id: Option<String>,
    locality: Option<String>,
    org_type: Option<String>,
    organization_id: Option<String>,
}

fn parse_id(s: &Option<String>) -> Option<i32> {
    s.as_deref().and_then(|v| v.trim().parse().ok())
}

impl SelectionQuery {
    fn parse(&self) -> Selection {
        Selection {
            region_id: parse_id(&self.region_id),
            municipality_id: parse_id(&self.municipality_id),
            locality: self.locality.clone(),
            org_type: self.org_type.clone(),
            organization_id: parse_id(&self.organization_id),
        }
    }
}

/// Every value of the appeal form as posted (selectors included), kept through «Показать»,
/// errors, «Изменить» and an expired sign-in.
#[derive(Debug, Default, Deserialize, Serialize)]
struct AppealForm {
    region_id: Option<String>,
    municipality_id: Option<String>,
    locality: Option<String>,
    org_type: Option<String>,
    organization_id: Option<String>,
    child_id: Option<String>,
    class_id: Option<String>,
    comment: Option<String>,
    submission_id: Option<String>,
    repeat_reason: Option<String>,
    confirm: Option<String>,
    contact_email: Option<String>,
}

impl AppealForm {
    fn selection(&self) -> Selection {
        SelectionQuery {
            region_id: self.region_id.clone(),
            municipality_id: self.municipality_id.clone(),
            locality: self.locality.clone(),
            org_type: self.org_type.clone(),
            organization_id: self.organization_id.clone(),
        }
        .parse()
    }

    fn input(&self) -> applicant::AppealForm {
        applicant::AppealForm {
            child_id: self.child_id.clone(),
            org_type: self.org_type.clone(),
            organization_id: parse_id(&self.organization_id),
            class_id: parse_id(&self.class_id),
            comment: self.comment.clone().unwrap_or_default(),
            submission_id: self.submission_id.clone().unwrap_or_default(),
            repeat_reason: self.repeat_reason.clone().unwrap_or_default(),
            confirmed: self.confirm.as_deref() == Some("1"),
            contact_email: self.contact_email.clone().unwrap_or_default(),
        }
    }

    /// The values «Проверьте данные» carries to «Отправить» and «Изменить».
    fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        [
            ("region_id", &self.region_id),
            ("municipality_id", &self.municipality_id),
            ("locality", &self.locality),
            ("org_type", &self.org_type),
            ("organization_id", &self.organization_id),
            ("child_id", &self.child_id),
            ("class_id", &self.class_id),
            ("comment", &self.comment),
            ("submission_id", &self.submission_id),
            ("repeat_reason", &self.repeat_reason),
            ("contact_email", &self.contact_email),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
    }
}

/// The message under each field of the form.
#[derive(Default)]
struct FieldErrors {
    child_id: Option<String>,
    organization_id: Option<String>,
    class_id: Option<String>,
    comment: Option<String>,
    repeat_reason: Option<String>,
    contact_email: Option<String>,
}

impl FieldErrors {
    fn of(errors: &[FieldError]) -> Self {
        let find = |f: &str| {
            errors
                .iter()
                .find(|e| e.field == f)
                .map(|e| e.message.clone())
        };
        Self {
            child_id: find("child_id"),
            organization_id: find("organization_id"),
            class_id: find("class_id"),
            comment: find("comment"),
            repeat_reason: find("repeat_reason"),
            contact_email: find("contact_email"),
        }
    }
}

#[derive(Template)]
#[template(path = "appeals/form.html")]
struct FormPage {
    layout: Layout,
    fio: String,
    birth_date: String,
    email: String,
    /// ESIA has no verified e-mail: the form asks for one.
    ask_email: bool,
    contact_email: String,
    role_label: &'static str,
    is_parent: bool,
    kids: Vec<Opt>,
    regions: Vec<Opt>,
    municipalities: Vec<Opt>,
    localities: Vec<Opt>,
    org_types: Vec<Opt>,
    organizations: Vec<Opt>,
    classes: Vec<Opt>,
    comment: String,
    comment_max: usize,
    submission_id: String,
    /// The summary on top; `fe` the same, field by field.
    errors: Vec<FieldError>,
    fe: FieldErrors,
    /// Open appeals about the same child here: a second one needs a reason.
    already_open: Vec<String>,
    repeat_reason: String,
}

async fn form_page(
    state: &AppState,
    user: &SignedIn,
    values: AppealForm,
    errors: Vec<FieldError>,
    already_open: Vec<String>,
) -> AppResult<FormPage> {
    let a = &user.applicant;
    let sel = values.selection();
    let c = applicant::form_choices(&state.workflow, a, sel, values.submission_id.clone()).await?;
    let region_sel = c.region_id.map(|r| r.to_string());
    let muni_sel = c.municipality_id.map(|m| m.to_string());
    let org_sel = c.organization.as_ref().map(|o| o.id.to_string());
    Ok(FormPage {
        layout: Layout::new(&user.session).await?,
        fio: a.name.full(),
        birth_date: ru_date(a.birth_date),
        email: a.email.clone().unwrap_or_default(),
        ask_email: a.email.is_none(),
        contact_email: values
            .contact_email
            .clone()
            .or_else(|| a.unverified_email.clone())
            .unwrap_or_default(),
        role_label: a.role.label(),
        is_parent: a.role == LoginRole::Parent,
        kids: opts(&a.kids, values.child_id.as_deref(), |k| {
            (
                k.esia_id.clone(),
                format!("{} ({})", k.name.full(), ru_date(k.birth_date)),
            )
        }),
        regions: opts(c.regions, region_sel.as_deref(), |r| {
            (r.id.to_string(), r.name.clone())
        }),
        municipalities: opts(c.municipalities, muni_sel.as_deref(), |m| {
            (m.id.to_string(), m.name.clone())
        }),
        localities: opts(c.localities, c.locality.as_deref(), |l| {
            (l.clone(), l.clone())
        }),
        org_types: opts(ORG_TYPES, Some(c.org_type.as_str()), |(c, l)| {
            (c.to_string(), l.to_string())
        }),
        organizations: opts(c.organizations, org_sel.as_deref(), |(o, _)| {
            (o.id.to_string(), o.name.clone())
        }),
        classes: opts(c.classes, values.class_id.as_deref(), |c| {
            (c.id.to_string(), c.name.clone())
        }),
        comment: values.comment.unwrap_or_default(),
        comment_max: appeal::COMMENT_MAX_CHARS,
        submission_id: c.submission_id,
        fe: FieldErrors::of(&errors),
        errors,
        already_open,
        repeat_reason: values.repeat_reason.unwrap_or_default(),
    })
}

async fn form_get(
    State(state): State<AppState>,
    user: SignedIn,
    Query(sel): Query<SelectionQuery>,
) -> AppResult<Response> {
    if let Some(refusal) = refuse_unless_eligible(&state, &user).await? {
        return Ok(refusal);
    }
    if !consented(&state, &user).await? {
        return ask_consent(&user, None).await;
    }
    let kept = take_draft::<AppealForm>(&user.session, &user.applicant.oid).await?;
    if kept.is_some() {
        flash(
            &user.session,
            "Форма заполнена тем, что вы ввели раньше. Проверьте и отправьте.",
        )
        .await?;
    }
    let values = match kept {
        // The kept form gets a new submission token: the old one belonged to the old sign-in.
        Some(draft) => AppealForm {
            submission_id: None,
            confirm: None,
            ..draft
        },
        None => AppealForm {
            region_id: sel.region_id,
            municipality_id: sel.municipality_id,
            locality: sel.locality,
            org_type: sel.org_type,
            organization_id: sel.organization_id,
            ..Default::default()
        },
    };
    let page = form_page(&state, &user, values, Vec::new(), Vec::new()).await?;
    Ok(html(page)?.into_response())
}

/// «Показать» and «Изменить»: the form again for the chosen selectors, every value kept
/// (posted, so the child and the comment never travel in a URL).
async fn form_post(
    State(state): State<AppState>,
    ApplicantForm { user, form }: ApplicantForm<AppealForm>,
) -> AppResult<Response> {
    if let Some(refusal) = refuse_unless_eligible(&state, &user).await? {
        return Ok(refusal);
    }
    if !consented(&state, &user).await? {
        return ask_consent(&user, Some(form)).await;
    }
    let page = form_page(&state, &user, form, Vec::new(), Vec::new()).await?;
    Ok(html(page)?.into_response())
}

#[derive(Template)]
#[template(path = "appeals/check.html")]
struct CheckPage {
    layout: Layout,
    fio: String,
    email: String,
    summary: Summary,
    fields: Vec<(&'static str, String)>,
}

async fn submit_post(
    State(state): State<AppState>,
    ApplicantForm { user, form }: ApplicantForm<AppealForm>,
) -> AppResult<Response> {
    let input = form.input();
    let outcome = match applicant::submit(&state.workflow, &user.applicant, &input).await {
        Ok(outcome) => outcome,
        Err(workflow::Error::Refused(Refusal::Ineligible(r))) => {
            return refusal_page(&user, r.into()).await;
        }
        Err(e) => return Err(e.into()),
    };
    let (values, errors, already_open) = match outcome {
        Submission::Registered(number) => {
            state.metrics.appeal_submitted();
            return Ok(Redirect::to(&format!("/appeals/{number}")).into_response());
        }
        Submission::Repeated(number) => {
            return Ok(Redirect::to(&format!("/appeals/{number}")).into_response());
        }
        Submission::NeedsConsent => return ask_consent(&user, Some(form)).await,
        Submission::Check(summary) => {
            let page = CheckPage {
                layout: Layout::new(&user.session).await?,
                fio: user.applicant.name.full(),
                email: match &user.applicant.email {
                    Some(e) => e.clone(),
                    None => format!(
                        "{} (указан вами, не из Госуслуг)",
                        input.contact_email.trim()
                    ),
                },
                fields: form.hidden_fields(),
                summary,
            };
            return Ok(html(page)?.into_response());
        }
        Submission::StaleForm => (
            AppealForm {
                submission_id: None,
                ..form
            },
            vec![FieldError {
                field: "",
                message: "Форма устарела. Проверьте данные и отправьте её ещё раз.".into(),
            }],
            Vec::new(),
        ),
        Submission::Invalid(errors) => (form, errors, Vec::new()),
        Submission::AlreadyOpen(numbers) => (form, Vec::new(), numbers),
    };
    let page = form_page(&state, &user, values, errors, already_open).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html(page)?).into_response())
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
    terms: Terms,
    comment: Option<String>,
    email: Option<String>,
    history: Vec<HistoryRow>,
    is_new: bool,
    /// The latest answer for the current status: resolution, reason or question.
    answer: Option<String>,
    needs_reply: bool,
    reply_max: usize,
}

fn number_of(raw: &str) -> AppResult<AppealNumber> {
    AppealNumber::parse(raw).ok_or(AppError::NotFound)
}

async fn show_get(
    State(state): State<AppState>,
    user: SignedIn,
    Path(number): Path<String>,
) -> AppResult<Html<String>> {
    let v = applicant::appeal(&state.workflow, &user.applicant.oid, &number_of(&number)?).await?;
    let offset = state.workflow.offset();
    let a = v.appeal;
    Ok(html(AppealPage {
        layout: Layout::new(&user.session).await?,
        status: a.status.label(),
        organization: v.organization,
        class_name: v.class_name,
        subject: a.snapshot.subject_name().full(),
        terms: Terms::of(&a, state.workflow.deadlines()),
        comment: a.comment,
        email: a.snapshot.identity.email,
        history: v
            .history
            .iter()
            .map(|e| HistoryRow {
                at: ru_datetime(e.created_at, offset),
                text: e.text(),
            })
            .collect(),
        is_new: a.status == Status::New,
        answer: v.answer,
        needs_reply: a.status == Status::NeedsInfo,
        reply_max: appeal::COMMENT_MAX_CHARS,
        number: a.number,
    })?)
}

#[derive(Deserialize)]
struct ReplyForm {
    text: Option<String>,
}

/// The applicant answers the question staff asked (status «Требуются сведения»).
async fn reply_post(
    State(state): State<AppState>,
    user: SignedIn,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> AppResult<Response> {
    let number = number_of(&number)?;
    let text = form.text.unwrap_or_default();
    applicant::reply(&state.workflow, &user.applicant.oid, &number, &text).await?;
    Ok(Redirect::to(&format!("/appeals/{number}")).into_response())
}

pub struct AppealRow {
    pub number: String,
    pub created: String,
    pub organization: String,
    pub status: &'static str,
    pub child: String,
}

#[derive(Template)]
#[template(path = "appeals/mine.html")]
struct MyAppealsPage {
    layout: Layout,
    appeals: Vec<AppealRow>,
}

async fn mine_get(State(state): State<AppState>, user: SignedIn) -> AppResult<Html<String>> {
    let offset = state.workflow.offset();
    let appeals = applicant::appeals(&state.workflow, &user.applicant.oid)
        .await?
        .into_iter()
        .map(|(a, organization)| AppealRow {
            created: ru_datetime(a.created_at, offset),
            organization,
            status: a.status.label(),
            child: a.snapshot.child_name().unwrap_or_else(|| "—".into()),
            number: a.number,
        })
        .collect();
    Ok(html(MyAppealsPage {
        layout: Layout::new(&user.session).await?,
        appeals,
    })?)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/appeals/new", get(new_get))
        .route("/appeals/consent", get(consent_get).post(consent_post))
        .route("/appeals/form", get(form_get).post(form_post))
        .route("/appeals", post(submit_post))
        .route("/appeals/{number}", get(show_get))
        .route("/appeals/{number}/reply", post(reply_post))
        .route("/my/appeals", get(mine_get))
}
