//! JSON API for selectors: organizations by type/municipality/name and their classes.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{AppError, AppResult};
use crate::domain::appeal;
use crate::store::directory::{self, OrganizationFilter};

#[derive(Deserialize)]
struct OrganizationsQuery {
    #[serde(rename = "type")]
    org_type: Option<String>,
    municipality_id: Option<String>,
    locality: Option<String>,
    q: Option<String>,
}

#[derive(Serialize)]
struct OrganizationJson {
    id: i32,
    name: String,
    municipality: String,
    #[serde(rename = "type")]
    org_type: String,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Query texts go into SQL parameters: control characters (NUL included) are refused.
fn plain(s: Option<String>) -> AppResult<Option<String>> {
    match non_empty(s) {
        Some(v) if v.chars().any(char::is_control) => Err(AppError::BadRequest(
            "Запрос содержит недопустимые символы.".into(),
        )),
        v => Ok(v),
    }
}

async fn organizations_get(
    State(state): State<AppState>,
    Query(q): Query<OrganizationsQuery>,
) -> AppResult<Json<Vec<OrganizationJson>>> {
    let org_type = non_empty(q.org_type);
    if org_type.as_deref().is_some_and(|t| !appeal::is_org_type(t)) {
        return Err(AppError::BadRequest(
            "Неизвестный тип организации: допустимы general, preschool, additional, professional."
                .into(),
        ));
    }
    let municipality_id = match non_empty(q.municipality_id) {
        Some(m) => Some(
            m.parse()
                .map_err(|_| AppError::BadRequest("municipality_id должен быть числом.".into()))?,
        ),
        None => None,
    };
    let name = plain(q.q)?;
    if name.as_deref().is_some_and(|n| n.chars().count() > 200) {
        return Err(AppError::BadRequest(
            "Строка поиска длиннее 200 символов.".into(),
        ));
    }
    let filter = OrganizationFilter {
        municipality_id,
        locality: plain(q.locality)?,
        org_type,
        name_contains: name,
    };
    let list = directory::organizations(state.db(), &filter).await?;
    Ok(Json(
        list.into_iter()
            .map(|(o, municipality)| OrganizationJson {
                id: o.id,
                name: o.name,
                municipality,
                org_type: o.org_type,
            })
            .collect(),
    ))
}

#[derive(Serialize)]
struct ClassJson {
    id: i32,
    name: String,
}

async fn classes_get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<ClassJson>>> {
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    directory::organization(state.db(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let classes = directory::classes(state.db(), id).await?;
    Ok(Json(
        classes
            .into_iter()
            .map(|c| ClassJson {
                id: c.id,
                name: c.name,
            })
            .collect(),
    ))
}

#[derive(Serialize)]
struct MunicipalityJson {
    id: i32,
    name: String,
}

async fn municipalities_get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<MunicipalityJson>>> {
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    let list = directory::municipalities(state.db(), id).await?;
    Ok(Json(
        list.into_iter()
            .map(|m| MunicipalityJson {
                id: m.id,
                name: m.name,
            })
            .collect(),
    ))
}

async fn localities_get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<String>>> {
    let id: i32 = id.parse().map_err(|_| AppError::NotFound)?;
    Ok(Json(directory::localities(state.db(), id).await?))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/regions/{id}/municipalities",
            get(municipalities_get),
        )
        .route(
            "/api/v1/municipalities/{id}/localities",
            get(localities_get),
        )
        .route("/api/v1/organizations", get(organizations_get))
        .route("/api/v1/organizations/{id}/classes", get(classes_get))
}
