//! What a parent or student does: opens the form, files an appeal, answers a question,
//! looks at their appeals and the school accounts they are linked to.

use chrono::{DateTime, Datelike, Utc};

use super::change::{Action, perform};
use super::notices;
use super::{Error, Refusal, Result, Workflow};
use crate::domain::appeal::{self, Appeal, Comment, DEFAULT_ORG_TYPE};
use crate::domain::applicant::{Applicant, LoginRole, Snapshot};
use crate::domain::consent::{self, Consent};
use crate::domain::eligibility;
use crate::domain::history::{Entry, EventKind};
use crate::domain::number::AppealNumber;
use crate::domain::status::Status;
use crate::domain::status_link::DAYS_AFTER_ANSWER;
use crate::mail::messages::{self, AppealFacts, StaffNotice};
use crate::store::appeals::{self as appeal_store, Change, Filing, NewAppeal, Submitted};
use crate::store::consents;
use crate::store::directory::{self, OrganizationFilter};
use crate::store::entities::{class, municipality, organization, region};
use crate::store::roster::{self, LinkedAccount};
use crate::store::staff;

/// Eligibility is checked on every step, server-side.
pub fn check_eligible(wf: &Workflow, applicant: &Applicant) -> Result<()> {
    eligibility::check(applicant, wf.today()).map_err(|r| Refusal::Ineligible(r).into())
}

/// When the applicant agreed to the consent text in force, if they did.
pub async fn consent_given(wf: &Workflow, applicant: &Applicant) -> Result<Option<DateTime<Utc>>> {
    check_eligible(wf, applicant)?;
    Ok(consents::given_at(wf.db(), &applicant.oid, consent::VERSION).await?)
}

/// «Даю согласие»: the consent to the processing of personal data, a step of its own
/// before the first appeal (152-ФЗ ст. 9).
pub async fn give_consent(wf: &Workflow, applicant: &Applicant) -> Result<DateTime<Utc>> {
    check_eligible(wf, applicant)?;
    let given_at = consents::give(wf.db(), &applicant.oid, consent::VERSION, Utc::now()).await?;
    tracing::info!(
        version = consent::VERSION,
        "consent to personal-data processing given"
    );
    Ok(given_at)
}

/// The selectors of the form as chosen so far (ids from the page, nothing personal).
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub region_id: Option<i32>,
    pub municipality_id: Option<i32>,
    pub locality: Option<String>,
    pub org_type: Option<String>,
    pub organization_id: Option<i32>,
}

/// The cascade Регион → Муниципальный район → Город/село → Тип ОО → Организация → Класс,
/// consistent with the chosen organization, and the form's one-time submission token.
pub struct FormChoices {
    pub regions: Vec<region::Model>,
    pub region_id: Option<i32>,
    pub municipalities: Vec<municipality::Model>,
    pub municipality_id: Option<i32>,
    pub localities: Vec<String>,
    pub locality: Option<String>,
    pub org_type: String,
    pub organizations: Vec<(organization::Model, String)>,
    pub organization: Option<organization::Model>,
    pub classes: Vec<class::Model>,
    pub submission_id: String,
}

/// What the form offers for `sel`; `submission_id` is the token of a form shown again,
/// a new one is issued otherwise.
pub async fn form_choices(
    wf: &Workflow,
    applicant: &Applicant,
    sel: Selection,
    submission_id: Option<String>,
) -> Result<FormChoices> {
    let db = wf.db();
    let mut org_type = sel
        .org_type
        .filter(|t| appeal::is_org_type(t))
        .unwrap_or(DEFAULT_ORG_TYPE.into());
    let mut region_id = sel.region_id;
    let mut municipality_id = sel.municipality_id;
    let mut locality = sel.locality.filter(|l| !l.is_empty());
    // A chosen organization fixes the selectors above it, so they always agree with it.
    let organization = match sel.organization_id {
        Some(id) => directory::organization(db, id).await?,
        None => None,
    };
    if let Some(org) = &organization {
        municipality_id = Some(org.municipality_id);
        locality = Some(org.locality.clone());
        org_type = org.org_type.clone();
        region_id = directory::municipality(db, org.municipality_id)
            .await?
            .map(|m| m.region_id);
    }
    let regions = directory::regions(db).await?;
    if region_id.is_none() && regions.len() == 1 {
        region_id = Some(regions[0].id);
    }
    let municipalities = match region_id {
        Some(r) => directory::municipalities(db, r).await?,
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
                directory::localities(db, m).await?,
                directory::organizations(db, &filter).await?,
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    let classes = match &organization {
        Some(org) => directory::classes(db, org.id).await?,
        None => Vec::new(),
    };
    let submission_id = match submission_id.filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => appeal_store::issue_submission_token(db, &applicant.oid, Utc::now()).await?,
    };
    Ok(FormChoices {
        regions,
        region_id,
        municipalities,
        municipality_id,
        localities,
        locality,
        org_type,
        organizations,
        organization,
        classes,
        submission_id,
    })
}

/// The form as sent.
#[derive(Debug, Default, Clone)]
pub struct AppealForm {
    pub child_id: Option<String>,
    pub org_type: Option<String>,
    pub organization_id: Option<i32>,
    pub class_id: Option<i32>,
    pub comment: String,
    pub submission_id: String,
    /// Why another appeal is needed while one about the same child is open.
    pub repeat_reason: String,
    /// The applicant saw «Проверьте данные» and pressed «Отправить».
    pub confirmed: bool,
    /// The address to answer to, asked for when ESIA has no verified one.
    pub contact_email: String,
}

/// What is wrong with one field of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field (`child_id`, `organization_id`, `class_id`, `comment`,
    /// `repeat_reason`).
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// What the applicant checks before sending.
pub struct Summary {
    pub child: Option<String>,
    pub organization: String,
    pub class_name: String,
    pub comment: Option<String>,
    pub repeat_reason: Option<String>,
}

pub enum Submission {
    /// A new appeal: its number.
    Registered(String),
    /// The appeal this form already filed (a repeated POST): its number.
    Repeated(String),
    /// The form's token is not this person's or was used up: show the form again.
    StaleForm,
    /// No consent to the wording in force: ask for it, then show the form again.
    NeedsConsent,
    /// What to correct, one message per problem.
    Invalid(Vec<FieldError>),
    /// Everything is in order: «Проверьте данные» before it is sent.
    Check(Summary),
    /// Appeals about this child at this organization are open (their numbers): a second
    /// one is filed only with a reason.
    AlreadyOpen(Vec<String>),
}

/// «Отправить»: the appeal with its snapshot, history, number and e-mails, in one
/// transaction; the same form sent twice files one appeal.
pub async fn submit(wf: &Workflow, applicant: &Applicant, form: &AppealForm) -> Result<Submission> {
    check_eligible(wf, applicant)?;
    let db = wf.db();
    // A form token is a UUID; anything else is no token of ours (and never reaches SQL).
    if uuid::Uuid::parse_str(&form.submission_id).is_err() {
        return Ok(Submission::StaleForm);
    }
    // A repeat of a submission that already went through is answered with its appeal.
    if let Some(existing) = appeal_store::by_submission(db, &form.submission_id).await? {
        return Ok(if existing.applicant_oid == applicant.oid {
            Submission::Repeated(existing.number)
        } else {
            Submission::StaleForm
        });
    }
    let token_owner = appeal_store::submission_token_owner(db, &form.submission_id).await?;
    if token_owner.as_deref() != Some(applicant.oid.as_str()) {
        return Ok(Submission::StaleForm);
    }
    // The form opens only after the consent; a new wording since then is asked for first.
    let Some(given_at) = consents::given_at(db, &applicant.oid, consent::VERSION).await? else {
        return Ok(Submission::NeedsConsent);
    };
    let (snapshot, organization, class, comment) = match check_form(wf, applicant, form).await? {
        Ok(checked) => checked,
        Err(errors) => return Ok(Submission::Invalid(errors)),
    };
    let open =
        appeal_store::open_about(db, &applicant.oid, organization.id, &snapshot.subject_key())
            .await?;
    let repeat_reason = if open.is_empty() {
        None
    } else {
        match Comment::parse(&form.repeat_reason).map(Comment::into_inner) {
            Ok(Some(reason)) => Some(reason),
            Ok(None) => {
                return Ok(Submission::AlreadyOpen(
                    open.into_iter().map(|a| a.number).collect(),
                ));
            }
            Err(e) => {
                return Ok(Submission::Invalid(vec![FieldError::new(
                    "repeat_reason",
                    e.to_string(),
                )]));
            }
        }
    };
    if !form.confirmed {
        return Ok(Submission::Check(Summary {
            child: snapshot.child_name(),
            organization: organization.name,
            class_name: class.name,
            comment,
            repeat_reason,
        }));
    }
    let now = Utc::now();
    let (route, recipients) = notices::route_and_recipients(wf, &organization).await?;
    let new = NewAppeal {
        snapshot,
        repeat_reason,
        digest_staff: recipients.digest_ids(),
        organization_id: organization.id,
        class_id: class.id,
        comment,
        submission_id: form.submission_id.clone(),
        route,
        year: now.with_timezone(&wf.offset()).year(),
        now,
        due_at: wf.deadlines().answer_due(now),
        consent: Consent {
            version: consent::VERSION.to_string(),
            given_at,
        },
    };
    let (org, class_name, links) = (organization.name, class.name, wf.clone());
    let mails = move |a: &Appeal| {
        let mut out = Vec::new();
        if let Some(facts) = AppealFacts::new(
            a,
            &org,
            &class_name,
            links.public_url(),
            links.status_links(),
        ) {
            out.push(messages::registered(&facts));
        }
        match recipients.new_appeal_notices(&links, a, &org, &class_name) {
            Ok(notices) => out.extend(notices.into_iter().map(Ok)),
            Err(e) => out.push(Err(e)),
        }
        out.into_iter()
            // The appeal is registered all the same; only an e-mail could not be
            // rendered. Never lose the appeal over it, but make it loud.
            .filter_map(|m| {
                m.map_err(|e| tracing::error!(error = %e, "e-mail not rendered"))
                    .ok()
            })
            .collect()
    };
    let submitted =
        wf.0.registrar
            .file(Filing {
                new,
                mails: Box::new(mails),
            })
            .await?;
    let (appeal, outcome): (Appeal, fn(String) -> Submission) = match submitted {
        Submitted::Created(a) => {
            tracing::info!(
                appeal_id = a.id,
                route = route.as_str(),
                "appeal registered"
            );
            (a, Submission::Registered)
        }
        Submitted::Repeated(a) => (a, Submission::Repeated),
    };
    if appeal.applicant_oid != applicant.oid {
        return Err(Error::NotFound);
    }
    Ok(outcome(appeal.number))
}

type Checked = (Snapshot, organization::Model, class::Model, Option<String>);

/// An e-mail address typed in the form.
fn contact_email(text: &str) -> std::result::Result<String, &'static str> {
    use validator::ValidateEmail;
    let email = text.trim();
    if email.is_empty() {
        return Err(
            "Укажите e-mail: в профиле Госуслуг нет подтверждённого адреса, а номер \
                    обращения и ответ приходят на почту.",
        );
    }
    if email.chars().count() > 254 || !email.validate_email() {
        return Err("Проверьте адрес электронной почты: например, ivanova@mail.ru.");
    }
    Ok(email.to_string())
}

async fn check_form(
    wf: &Workflow,
    a: &Applicant,
    f: &AppealForm,
) -> Result<std::result::Result<Checked, Vec<FieldError>>> {
    let db = wf.db();
    let mut errors = Vec::new();
    let child = match a.role {
        LoginRole::Parent => match f.child_id.as_deref().and_then(|id| a.kid(id)) {
            Some(kid) => Some(kid.clone()),
            None => {
                errors.push(FieldError::new(
                    "child_id",
                    "Выберите ребёнка из списка, полученного с Госуслуг.",
                ));
                None
            }
        },
        _ => None,
    };
    let org_type = f.org_type.as_deref().unwrap_or_default();
    let organization = match f.organization_id {
        Some(id) => directory::organization(db, id).await?,
        None => None,
    };
    let organization = match organization {
        None => {
            errors.push(FieldError::new(
                "organization_id",
                "Выберите организацию из списка.",
            ));
            None
        }
        Some(o) if o.org_type != org_type => {
            errors.push(FieldError::new(
                "organization_id",
                "Выбранная организация не относится к указанному типу организации.",
            ));
            None
        }
        Some(o) => Some(o),
    };
    let class = match f.class_id {
        Some(id) => directory::class(db, id).await?,
        None => None,
    };
    let class = match (class, &organization) {
        (Some(c), Some(o)) if c.organization_id == o.id => Some(c),
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "class_id",
                "Выбранный класс не относится к выбранной организации.",
            ));
            None
        }
        (None, _) => {
            errors.push(FieldError::new("class_id", "Выберите класс из списка."));
            None
        }
        (Some(_), None) => None,
    };
    let comment = match Comment::parse(&f.comment) {
        Ok(c) => c.into_inner(),
        Err(e) => {
            errors.push(FieldError::new("comment", e.to_string()));
            None
        }
    };
    // The number and the answer come by e-mail: without a verified one from ESIA the
    // applicant gives one.
    let typed_email = match &a.email {
        Some(_) => None,
        None => match contact_email(&f.contact_email) {
            Ok(e) => Some(e),
            Err(why) => {
                errors.push(FieldError::new("contact_email", why));
                None
            }
        },
    };
    Ok(match (organization, class) {
        (Some(organization), Some(class)) if errors.is_empty() => {
            let snapshot = Snapshot::new(a, child, typed_email);
            Ok((snapshot, organization, class, comment))
        }
        _ => Err(errors),
    })
}

/// The applicant answers the question staff asked (status «Требуются сведения»); the
/// appeal goes back to work and its staff are told.
pub async fn reply(wf: &Workflow, oid: &str, number: &AppealNumber, text: &str) -> Result<()> {
    let db = wf.db();
    let a = appeal_store::for_applicant(db, &number.to_string(), oid)
        .await?
        .ok_or(Error::NotFound)?;
    if a.status != Status::NeedsInfo {
        return Err(Refusal::NoReplyExpected.into());
    }
    let text = Comment::parse(text)
        .map_err(Refusal::Text)?
        .into_inner()
        .ok_or(Refusal::EmptyReply)?;
    let org = directory::organization(db, a.organization_id)
        .await?
        .ok_or(Error::NotFound)?;
    let class = directory::class(db, a.class_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let recipients = match a.assigned_staff_id {
        Some(id) => staff::by_id(db, id)
            .await?
            .filter(|s| s.active)
            .filter(|s| !s.email.is_empty())
            .map(|s| vec![s.email])
            .unwrap_or_default(),
        // An answer is not news for a digest: everybody concerned hears of it now.
        None => notices::route_and_recipients(wf, &org).await?.1.everyone(),
    };
    let mut extra_mail = Vec::new();
    for to in recipients {
        extra_mail.push(messages::staff_notice(
            StaffNotice::Answered,
            &to,
            &a,
            &org.name,
            &class,
            wf.public_url(),
        )?);
    }
    let action = Action {
        text: Some(text),
        by_applicant: true,
        status: Some(Status::InProgress),
        change: Change {
            status: Some(Status::InProgress),
            ..Default::default()
        },
        extra_mail,
        ..Action::new(EventKind::Reply, None)
    };
    match perform(wf, &a, action).await {
        // Staff changed the appeal meanwhile: say so instead of dropping the answer.
        Err(Error::Refused(Refusal::ChangedMeanwhile)) => Err(Refusal::ReplyOvertaken.into()),
        other => other,
    }
}

/// One of the applicant's appeals, as they see it.
pub struct AppealView {
    pub appeal: Appeal,
    pub organization: String,
    pub class_name: String,
    /// The entries the applicant sees (no internal notes).
    pub history: Vec<Entry>,
    /// The latest answer for the current status: resolution, reason or question.
    pub answer: Option<String>,
}

/// The appeal if `oid` filed it; anybody else gets not found, exactly as for a wrong number.
pub async fn appeal(wf: &Workflow, oid: &str, number: &AppealNumber) -> Result<AppealView> {
    let db = wf.db();
    let a = appeal_store::for_applicant(db, &number.to_string(), oid)
        .await?
        .ok_or(Error::NotFound)?;
    let organization = directory::organization(db, a.organization_id).await?;
    let class = directory::class(db, a.class_id).await?;
    let entries = appeal_store::events(db, a.id).await?;
    let answer = entries
        .iter()
        .rev()
        .find(|e| e.kind == EventKind::Status && e.to_status == Some(a.status))
        .and_then(|e| e.message.clone());
    Ok(AppealView {
        organization: organization.map(|o| o.name).unwrap_or_default(),
        class_name: class.map(|c| c.name).unwrap_or_default(),
        history: entries.into_iter().filter(|e| e.kind.is_public()).collect(),
        answer,
        appeal: a,
    })
}

/// What a status link shows: nothing of the snapshot, no history.
pub struct StatusView {
    pub appeal: Appeal,
    pub organization: String,
    /// The latest answer for the current status: resolution, reason or question.
    pub answer: Option<String>,
}

/// The appeal a status link names, while the link lives (the appeal's life and
/// [`DAYS_AFTER_ANSWER`] days after its answer). A forged, foreign or expired token is
/// not found, exactly like a wrong one.
pub async fn status_by_link(wf: &Workflow, token: &str) -> Result<StatusView> {
    let number = wf
        .status_links()
        .and_then(|links| links.verify(token))
        .ok_or(Error::NotFound)?;
    let db = wf.db();
    let a = appeal_store::by_number(db, number)
        .await?
        .ok_or(Error::NotFound)?;
    let ended = a
        .answered_at
        .filter(|_| !a.status.is_open())
        .is_some_and(|t| Utc::now() - t > chrono::Duration::days(DAYS_AFTER_ANSWER));
    if ended {
        return Err(Error::NotFound);
    }
    let organization = directory::organization(db, a.organization_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let answer = appeal_store::events(db, a.id)
        .await?
        .into_iter()
        .rev()
        .find(|e| e.kind == EventKind::Status && e.to_status == Some(a.status))
        .and_then(|e| e.message);
    Ok(StatusView {
        appeal: a,
        organization,
        answer,
    })
}

/// The applicant's appeals, newest first, with their organization's name.
pub async fn appeals(wf: &Workflow, oid: &str) -> Result<Vec<(Appeal, String)>> {
    let db = wf.db();
    let mut out = Vec::new();
    for a in appeal_store::list_for_applicant(db, oid).await? {
        let org = directory::organization(db, a.organization_id)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        out.push((a, org));
    }
    Ok(out)
}

/// The school accounts the ESIA account is linked to.
pub async fn linked_accounts(wf: &Workflow, oid: &str) -> Result<Vec<LinkedAccount>> {
    Ok(roster::linked_accounts(wf.db(), oid).await?)
}
