//! `/staff/inbox/bulk`: one action for the appeals ticked in the inbox (assign, take into
//! work, reject), after a confirmation that lists them.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::number::AppealNumber;
use crate::domain::status::Status;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::error::{AppError, AppResult};
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::{Layout, flash};
use crate::workflow::review::{self, Assignee, BULK_STATUSES, BulkAction, BulkLine};

#[derive(Template)]
#[template(path = "staff/bulk_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    action: String,
    status_change: bool,
    /// (number, status, whose access, assignee).
    appeals: Vec<(String, &'static str, String, String)>,
    text: String,
    fields: Vec<(&'static str, String)>,
}

/// The bulk form: the ticked numbers (with the versions the confirmation showed) and the
/// action.
struct BulkForm {
    numbers: Vec<AppealNumber>,
    versions: Vec<(AppealNumber, i32)>,
    action: Option<String>,
    staff_id: Option<String>,
    status: Option<String>,
    text: String,
    confirm: bool,
}

impl BulkForm {
    fn parse(pairs: Vec<(String, String)>) -> Self {
        let mut f = BulkForm {
            numbers: Vec::new(),
            versions: Vec::new(),
            action: None,
            staff_id: None,
            status: None,
            text: String::new(),
            confirm: false,
        };
        for (k, v) in pairs {
            match k.as_str() {
                "n" => f.numbers.extend(AppealNumber::parse(&v)),
                "v" => f
                    .versions
                    .extend(v.split_once(':').and_then(|(n, version)| {
                        Some((AppealNumber::parse(n)?, version.parse().ok()?))
                    })),
                "action" => f.action = Some(v),
                "staff_id" => f.staff_id = Some(v),
                "status" => f.status = Some(v),
                "text" => f.text = v,
                "confirm" => f.confirm = v == "1",
                _ => {}
            }
        }
        f
    }

    fn action(&self) -> AppResult<BulkAction> {
        let unknown = || AppError::BadRequest("Выберите действие для отмеченных обращений.".into());
        match self.action.as_deref() {
            Some("assign") => Ok(BulkAction::Assign(
                match self.staff_id.as_deref().unwrap_or_default() {
                    "" => Assignee::Nobody,
                    "me" => Assignee::Me,
                    id => Assignee::Staff(id.parse().map_err(|_| unknown())?),
                },
            )),
            Some("status") => {
                let to = self
                    .status
                    .as_deref()
                    .and_then(Status::parse)
                    .filter(|s| BULK_STATUSES.contains(s))
                    .ok_or_else(unknown)?;
                Ok(BulkAction::Status(to, self.text.clone()))
            }
            _ => Err(unknown()),
        }
    }

    /// Each ticked appeal with the version it was confirmed at; a number confirmed without
    /// one has changed hands since and is acted on as read (the refusals say why).
    fn with_versions(&self) -> Vec<(AppealNumber, Option<i32>)> {
        self.numbers
            .iter()
            .map(|n| {
                let v = self.versions.iter().find(|(m, _)| m == n).map(|(_, v)| *v);
                (n.clone(), v)
            })
            .collect()
    }

    fn hidden_fields(&self, lines: &[BulkLine]) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        for l in lines {
            out.push(("n", l.appeal.number.clone()));
            out.push(("v", format!("{}:{}", l.appeal.number, l.appeal.version)));
        }
        for (k, v) in [
            ("action", &self.action),
            ("staff_id", &self.staff_id),
            ("status", &self.status),
        ] {
            if let Some(v) = v {
                out.push((k, v.clone()));
            }
        }
        out.push(("text", self.text.clone()));
        out
    }
}

pub(super) async fn post(
    State(state): State<AppState>,
    user: StaffUser,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = BulkForm::parse(pairs);
    if form.numbers.is_empty() {
        flash(&user.session, "Отметьте обращения в списке.").await?;
        return Ok(Redirect::to("/staff/inbox").into_response());
    }
    let action = form.action()?;
    let wf = &state.workflow;
    if form.confirm {
        let outcome = review::bulk(wf, &user.actor, &form.with_versions(), &action).await?;
        let mut message = format!("Изменено обращений: {}.", outcome.done.len());
        for (number, reason) in &outcome.refused {
            message.push_str(&format!(" № {number} не изменено: {reason}"));
        }
        flash(&user.session, message).await?;
        return Ok(Redirect::to("/staff/inbox").into_response());
    }
    let preview = review::bulk_preview(wf, &user.actor, &form.numbers, &action).await?;
    let description = match &action {
        BulkAction::Assign(Assignee::Nobody) => "Снять исполнителя".to_string(),
        BulkAction::Assign(Assignee::Me) => "Назначить исполнителем себя".to_string(),
        BulkAction::Assign(Assignee::Staff(_)) => match &preview.assignee_name {
            Some(name) => format!("Назначить исполнителя: {name}"),
            None => "Назначить исполнителя".to_string(),
        },
        BulkAction::Status(to, _) => format!("Перевести в статус «{}»", to.label()),
    };
    let page = ConfirmPage {
        layout: Layout::new(&user.session).await?,
        action: description,
        status_change: matches!(action, BulkAction::Status(..)),
        fields: form.hidden_fields(&preview.lines),
        appeals: preview
            .lines
            .into_iter()
            .map(|l| {
                (
                    l.appeal.number.clone(),
                    l.appeal.status.label(),
                    l.appeal.snapshot.subject_name().full(),
                    l.assignee.unwrap_or_else(|| "—".into()),
                )
            })
            .collect(),
        text: form.text.clone(),
    };
    Ok(html(page)?.into_response())
}
