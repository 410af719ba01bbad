//! Imports from the browser: the upload form with the history under it, a run's page
//! (progress while it runs, the preview with «Применить», the report), the report as a
//! file.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::Tabs;
use crate::web::AppState;
use crate::web::csrf::{Button, CsrfForm, is_token};
use crate::web::error::{AppError, AppResult};
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::{Layout, Opt, flash, opts, ru_datetime};
use crate::workflow::admin::{self, Imports, Kind, RunView, Upload};

fn imports(state: &AppState) -> Imports {
    Imports {
        mapping_dir: state.settings.import.mapping_dir.clone(),
    }
}

#[derive(Template)]
#[template(path = "admin/imports.html")]
struct ImportsPage {
    layout: Layout,
    tabs: Tabs,
    kinds: Vec<(&'static str, &'static str)>,
    /// Empty for a school administrator: the roster is their school's.
    organizations: Vec<Opt>,
    max_mb: usize,
    runs: Vec<(RunView, String)>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    user: StaffUser,
) -> AppResult<Html<String>> {
    let wf = &state.workflow;
    let me = &user.actor;
    let runs = admin::history(wf, me).await?;
    let organizations = match me.scope {
        crate::domain::staff::Scope::Organization(_) => Vec::new(),
        _ => opts(admin::organizations(wf, me, None).await?, None, |(o, _)| {
            (o.id.to_string(), o.name.clone())
        }),
    };
    let offset = wf.offset();
    Ok(html(ImportsPage {
        layout: Layout::new(&user.session).await?,
        tabs: Tabs {
            current: "/admin/imports",
        },
        kinds: admin::kinds(me)
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        organizations,
        max_mb: state.settings.import.upload_max_mb,
        runs: runs
            .into_iter()
            .map(|r| {
                let when = ru_datetime(r.run.created_at, offset);
                (r, when)
            })
            .collect(),
    })?)
}

fn unreadable() -> AppError {
    AppError::BadRequest("Не удалось прочитать форму: отправьте файл ещё раз.".into())
}

/// Reads the upload form: the CSRF token first (the form puts it first), then the
/// choices and the file, refused past the size limit.
async fn read_upload(user: &StaffUser, mut form: Multipart, max_bytes: usize) -> AppResult<Upload> {
    let mut upload = Upload {
        kind: String::new(),
        organization_id: None,
        file_name: String::new(),
        data: Vec::new(),
        skip_invalid: false,
        prefer_file: false,
        archive_missing: false,
    };
    let mut token = false;
    while let Some(mut field) = form.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "csrf_token" {
            let sent = field.text().await.map_err(|_| unreadable())?;
            token = is_token(&user.session, &sent).await?;
            continue;
        }
        if !token {
            return Err(AppError::Csrf);
        }
        if name == "file" {
            upload.file_name = field.file_name().unwrap_or_default().to_string();
            while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
                if upload.data.len() + chunk.len() > max_bytes {
                    return Err(AppError::BadRequest(format!(
                        "Файл больше {} МБ: разделите его (например, по параллелям) и загрузите частями.",
                        max_bytes / (1024 * 1024)
                    )));
                }
                upload.data.extend_from_slice(&chunk);
            }
            continue;
        }
        let value = field.text().await.map_err(|_| unreadable())?;
        match name.as_str() {
            "kind" => upload.kind = value,
            "organization" => upload.organization_id = value.parse().ok(),
            "skip_invalid" => upload.skip_invalid = true,
            "prefer_file" => upload.prefer_file = true,
            "archive_missing" => upload.archive_missing = true,
            _ => {}
        }
    }
    if !token {
        return Err(AppError::Csrf);
    }
    Ok(upload)
}

pub(super) async fn upload(
    State(state): State<AppState>,
    user: StaffUser,
    form: Result<Multipart, MultipartRejection>,
) -> AppResult<Redirect> {
    admin::require_admin(&user.actor)?;
    // The upload form is multipart with the token first: anything else carries no token.
    let form = form.map_err(|_| AppError::Csrf)?;
    let max_bytes = state.settings.import.upload_max_mb * 1024 * 1024;
    let upload = read_upload(&user, form, max_bytes).await?;
    let id = admin::start(&state.workflow, &imports(&state), &user.actor, upload).await?;
    Ok(Redirect::to(&format!("/admin/imports/{id}")))
}

#[derive(Template)]
#[template(path = "admin/run.html")]
struct RunPage {
    layout: Layout,
    tabs: Tabs,
    view: RunView,
    started: String,
    /// The report shown: the final one, or the preview while waiting for «Применить».
    text: String,
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i32>,
) -> AppResult<Html<String>> {
    let view = admin::run(&state.workflow, &user.actor, id).await?;
    let text = view
        .run
        .report
        .clone()
        .or_else(|| view.run.preview.clone())
        .unwrap_or_default();
    Ok(html(RunPage {
        layout: Layout::new(&user.session).await?,
        tabs: Tabs {
            current: "/admin/imports",
        },
        started: ru_datetime(view.run.created_at, state.workflow.offset()),
        view,
        text,
    })?)
}

pub(super) async fn apply(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i32>,
    CsrfForm(_): CsrfForm<Button>,
) -> AppResult<Redirect> {
    admin::apply(&state.workflow, &imports(&state), &user.actor, id).await?;
    Ok(Redirect::to(&format!("/admin/imports/{id}")))
}

pub(super) async fn discard(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i32>,
    CsrfForm(_): CsrfForm<Button>,
) -> AppResult<Redirect> {
    admin::discard(&state.workflow, &user.actor, id).await?;
    flash(&user.session, "Загрузка отменена, файл удалён.").await?;
    Ok(Redirect::to("/admin/imports"))
}

/// The report as a text file (the preview when nothing was applied).
pub(super) async fn report(
    State(state): State<AppState>,
    user: StaffUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let view = admin::run(&state.workflow, &user.actor, id).await?;
    let text = view
        .run
        .report
        .or(view.run.preview)
        .ok_or(AppError::NotFound)?;
    let kind = Kind::parse(&view.run.kind).map_or("import", Kind::as_str);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"report-{kind}-{id}.txt\""),
            ),
        ],
        text,
    )
        .into_response())
}
