//! 152-ФЗ retention: a closed appeal past the term keeps its dates, status, organization
//! and class, and nothing of the person — no ФИО, СНИЛС, e-mail or ESIA id anywhere in the
//! database; the staff access log is pruned after its own term.

use sea_orm::{ConnectionTrait, Statement};

use crate::staff_workplace::{file_as, staff_on};
use crate::support::TestApp;

/// What the database may not hold of the mother once her appeal is anonymised (her
/// patronymic, СНИЛС in both forms, e-mail, ESIA id).
const HERS: [&str; 6] = [
    "Петровна",
    "петровна",
    "134-587-260",
    "13458726076",
    "m.ivanova@example.com",
    "1000451732",
];

/// Every text column of every table (but the sessions of people signed in now) that
/// holds `needle`, as `table.column`.
async fn holders(app: &TestApp, needle: &str) -> Vec<String> {
    let db = &app.db;
    let backend = db.get_database_backend();
    let columns: Vec<(String, String)> = if app.is_postgres() {
        db.query_all_raw(Statement::from_string(
            backend,
            "SELECT table_name, column_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')",
        ))
        .await
        .expect("columns")
        .iter()
        .map(|r| {
            (
                r.try_get("", "table_name").unwrap(),
                r.try_get("", "column_name").unwrap(),
            )
        })
        .collect()
    } else {
        let tables = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT name FROM sqlite_master WHERE type = 'table'",
            ))
            .await
            .expect("tables");
        let mut all = Vec::new();
        for t in tables {
            let table: String = t.try_get("", "name").unwrap();
            let cols = db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("PRAGMA table_info({table})"),
                ))
                .await
                .expect("columns");
            for c in cols {
                let kind: String = c.try_get("", "type").unwrap_or_default();
                if kind.to_lowercase().contains("text") || kind.to_lowercase().contains("char") {
                    all.push((table.clone(), c.try_get("", "name").unwrap()));
                }
            }
        }
        all
    };
    let mut found = Vec::new();
    for (table, column) in columns.into_iter().filter(|(t, _)| t != "sessions") {
        let like = if app.is_postgres() { "$1" } else { "?" };
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!("SELECT 1 AS hit FROM {table} WHERE \"{column}\" LIKE {like}"),
                [format!("%{needle}%").into()],
            ))
            .await
            .expect("scan");
        if !rows.is_empty() {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

story!(
    a_closed_appeal_past_the_term_keeps_nothing_of_the_person,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        app.drain_mail().await;
        let (staff, _) = staff_on(&app, &number).await;
        app.staff_action(
            &staff,
            &number,
            "status",
            &[
                ("status", "rejected"),
                ("resolution", "Обращение не по адресу"),
            ],
        )
        .await;
        app.drain_mail().await;
        assert!(
            !holders(&app, "m.ivanova@example.com").await.is_empty(),
            "before: her e-mail is stored"
        );

        let long_ago = chrono::Utc::now() - chrono::Duration::days(4 * 366);
        app.execute(
            "UPDATE appeals SET answered_at = $1, updated_at = $1 WHERE number = $2",
            vec![long_ago.into(), number.clone().into()],
        )
        .await;
        app.execute("UPDATE consents SET given_at = $1", vec![long_ago.into()])
            .await;
        let older = chrono::Utc::now() - chrono::Duration::days(6 * 366);
        app.execute(
            "UPDATE appeal_access_log SET created_at = $1",
            vec![older.into()],
        )
        .await;

        let (ok, dry) = app.cli(&["retention", "run", "--dry-run"]).await;
        assert!(ok, "{dry}");
        assert!(
            dry.contains("Проверка без записи") && dry.contains("Обезличено обращений: 1"),
            "{dry}"
        );
        assert!(
            !holders(&app, "m.ivanova@example.com").await.is_empty(),
            "a dry run writes nothing"
        );

        let (ok, run) = app.cli(&["retention", "run"]).await;
        assert!(ok, "{run}");
        assert!(run.contains("Обезличено обращений: 1"), "{run}");
        assert!(!run.contains("Удалено записей журнала доступа: 0"), "{run}");
        assert!(
            run.contains("Удалено согласий на обработку данных: 1"),
            "her consent goes with the last appeal that named her: {run}"
        );
        for needle in HERS {
            assert_eq!(
                holders(&app, needle).await,
                Vec::<String>::new(),
                "{needle}"
            );
        }
        // Statistics stay: the appeal is still there with its status and organization.
        let a = appeals::store::appeals::by_number(&app.db, &number)
            .await
            .expect("read")
            .expect("the appeal stays");
        assert_eq!(a.status.as_str(), "rejected");
        assert!(a.answered_at.is_some());

        let (_, again) = app.cli(&["retention", "run"]).await;
        assert!(again.contains("Обезличено обращений: 0"), "{again}");
    }
);

story!(
    a_person_gets_everything_stored_about_them_in_one_file,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        staff_on(&app, &number).await;
        let out = app.dir_path("person.json");
        let (ok, said) = app
            .cli(&["person-data", "--snils", "134-587-260 76", "--out", &out])
            .await;
        assert!(ok, "{said}");
        assert!(said.contains("Обращений: 1"), "{said}");
        let text = std::fs::read_to_string(&out).expect("the file");
        let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let appeal = &doc["appeals"][0];
        assert_eq!(appeal["number"], number.as_str());
        assert_eq!(
            appeal["esia_snapshot"]["name"]["last"], "Иванова",
            "{appeal}"
        );
        assert!(!appeal["history"].as_array().expect("history").is_empty());
        assert_eq!(appeal["consent"]["version"], "1", "{appeal}");
        assert_eq!(doc["consents"][0]["version"], "1", "{doc}");
        assert!(
            !appeal["opened_by_staff"]
                .as_array()
                .expect("access log")
                .is_empty()
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "readable by its owner only");

        let (ok, said) = app
            .cli(&[
                "person-data",
                "--email",
                "m.ivanova@example.com",
                "--out",
                &out,
            ])
            .await;
        assert!(ok && said.contains("Обращений: 1"), "{said}");
        let (ok, said) = app.cli(&["person-data", "--out", &out]).await;
        assert!(
            !ok && said.contains("укажите --snils или --email"),
            "{said}"
        );
    }
);
