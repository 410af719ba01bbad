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
use crate::workflow::review::{self, Assignee, BULK_STATUSES, BulkAction};

#[derive(Template)]
#[template(path = "staff/bulk_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    action: String,
    status_change: bool,
    /// (number, status, whose access).
    appeals: Vec<(String, &'static str, String)>,
    text: String,
    fields: Vec<(&'static str, String)>,
}

/// The bulk form: the ticked numbers and the action.
struct BulkForm {
    numbers: Vec<AppealNumber>,
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
            action: None,
            staff_id: None,
            status: None,
            text: String::new(),
            confirm: false,
        };
        for (k, v) in pairs {
            match k.as_str() {
                "n" => f.numbers.extend(AppealNumber::parse(&v)),
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

    fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> =
            self.numbers.iter().map(|n| ("n", n.to_string())).collect();
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
        let outcome = review::bulk(wf, &user.actor, &form.numbers, &action).await?;
        let mut message = format!("Изменено обращений: {}.", outcome.done.len());
        for (number, reason) in &outcome.refused {
            message.push_str(&format!(" № {number} не изменено: {reason}"));
        }
        flash(&user.session, message).await?;
        return Ok(Redirect::to("/staff/inbox").into_response());
    }
    let appeals = review::bulk_preview(wf, &user.actor, &form.numbers).await?;
    let description = match &action {
        BulkAction::Assign(Assignee::Nobody) => "Снять исполнителя".to_string(),
        BulkAction::Assign(Assignee::Me) => "Назначить исполнителем себя".to_string(),
        BulkAction::Assign(Assignee::Staff(id)) => {
            let name = crate::workflow::staff::colleague_name(wf, *id)
                .await?
                .ok_or(AppError::NotFound)?;
            format!("Назначить исполнителя: {name}")
        }
        BulkAction::Status(to, _) => format!("Перевести в статус «{}»", to.label()),
    };
    let page = ConfirmPage {
        layout: Layout::staff(&user.session).await?,
        action: description,
        status_change: matches!(action, BulkAction::Status(..)),
        appeals: appeals
            .into_iter()
            .map(|a| {
                (
                    a.number.clone(),
                    a.status.label(),
                    a.snapshot.subject_name().full(),
                )
            })
            .collect(),
        text: form.text.clone(),
        fields: form.hidden_fields(),
    };
    Ok(html(page)?.into_response())
}
