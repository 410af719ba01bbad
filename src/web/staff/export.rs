//! `/staff/inbox/export`: the inbox with its current filters as a spreadsheet (XLSX or
//! CSV), every appeal the filters select, read a page at a time: CSV goes out as it is
//! written, XLSX is written in rust_xlsxwriter's constant-memory mode. The applicant is
//! named by ФИО only.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::inbox::InboxParams;
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::session::StaffUser;
use crate::workflow::Workflow;
use crate::workflow::inbox::{self, InboxFilter};
use crate::workflow::staff::StaffActor;

const HEADERS: [&str; 10] = [
    "Номер",
    "Зарегистрировано",
    "Срок ответа",
    "Статус",
    "Организация",
    "Класс",
    "Ребёнок",
    "Заявитель",
    "Исполнитель",
    "Дней до ответа",
];

/// `?format=`, beside the inbox's own filters in the same query.
#[derive(Deserialize)]
pub(super) struct Format {
    format: Option<String>,
}

/// One appeal as a row of the export.
fn row(r: &crate::store::inbox::InboxRow, wf: &Workflow) -> [String; 10] {
    let a = &r.appeal;
    let offset = wf.offset();
    let day =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&offset).format("%d.%m.%Y").to_string();
    [
        a.number.clone(),
        a.created_at
            .with_timezone(&offset)
            .format("%d.%m.%Y %H:%M")
            .to_string(),
        day(a.due_at),
        a.status.label().to_string(),
        r.organization.clone(),
        r.class_name.clone(),
        a.snapshot
            .child
            .as_ref()
            .map(|c| c.name.full())
            .unwrap_or_default(),
        a.snapshot.name.full(),
        r.assignee.as_ref().map(|n| n.full()).unwrap_or_default(),
        a.answered_at
            .map(|t| (t - a.created_at).num_days().to_string())
            .unwrap_or_default(),
    ]
}

/// The next page of rows, advancing `filter` past it; `None` once the last page is out.
async fn next_rows(
    wf: &Workflow,
    actor: &StaffActor,
    filter: &mut Option<InboxFilter>,
) -> crate::workflow::Result<Option<Vec<[String; 10]>>> {
    let Some(f) = filter.take() else {
        return Ok(None);
    };
    let (rows, next) = inbox::export_page(wf, actor, f.clone()).await?;
    *filter = next.map(|cursor| InboxFilter {
        cursor: Some(cursor),
        ..f
    });
    Ok(Some(rows.iter().map(|r| row(r, wf)).collect()))
}

pub(super) async fn get(
    State(state): State<AppState>,
    user: StaffUser,
    Query(p): Query<InboxParams>,
    Query(f): Query<Format>,
) -> AppResult<Response> {
    let filter = p.parse(user.actor.id())?;
    let today = state.workflow.today().format("%Y-%m-%d");
    match f.format.as_deref().unwrap_or("xlsx") {
        "csv" => Ok(csv(
            state,
            user.actor,
            filter,
            &format!("obrashcheniya-{today}.csv"),
        )),
        "xlsx" => {
            xlsx(
                &state,
                &user.actor,
                filter,
                &format!("obrashcheniya-{today}.xlsx"),
            )
            .await
        }
        _ => Err(AppError::BadRequest(
            "Формат выгрузки: xlsx или csv.".into(),
        )),
    }
}

fn attachment(content_type: &'static str, name: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// UTF-8 with a BOM and `;`, as a Russian Excel opens it; sent a page at a time.
fn csv(state: AppState, actor: StaffActor, filter: InboxFilter, name: &str) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let encode = |rows: &[[String; 10]]| {
            let mut w = csv::WriterBuilder::new()
                .delimiter(b';')
                .from_writer(Vec::new());
            for r in rows {
                let _ = w.write_record(r);
            }
            w.into_inner().unwrap_or_default()
        };
        let mut head = b"\xEF\xBB\xBF".to_vec();
        head.extend(encode(&[HEADERS.map(String::from)]));
        if tx.send(Ok(Bytes::from(head))).await.is_err() {
            return;
        }
        let mut filter = Some(filter);
        loop {
            match next_rows(&state.workflow, &actor, &mut filter).await {
                Ok(Some(rows)) => {
                    if tx.send(Ok(Bytes::from(encode(&rows)))).await.is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(error = %e, "inbox export failed");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    attachment("text/csv; charset=utf-8", name, Body::from_stream(stream))
}

/// Rows go to temporary files as they are written (constant-memory mode); the finished
/// workbook is one compressed file.
async fn xlsx(
    state: &AppState,
    actor: &StaffActor,
    filter: InboxFilter,
    name: &str,
) -> AppResult<Response> {
    let failed = |e: rust_xlsxwriter::XlsxError| AppError::Unexpected(e.into());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory().map_err(failed)?;
    let mut next_row = 0u32;
    let mut write = |cells: &[String]| -> Result<(), rust_xlsxwriter::XlsxError> {
        for (c, v) in cells.iter().enumerate() {
            sheet.write_string(next_row, c as u16, v)?;
        }
        next_row += 1;
        Ok(())
    };
    write(&HEADERS.map(String::from)).map_err(failed)?;
    let mut filter = Some(filter);
    while let Some(rows) = next_rows(&state.workflow, actor, &mut filter).await? {
        for r in &rows {
            write(r).map_err(failed)?;
        }
    }
    let bytes = book.save_to_buffer().map_err(failed)?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        name,
        Body::from(bytes),
    ))
}
