//! School administrators and operators load the school system's files in the browser:
//! upload, read the check's report, «Применить», watch it run, download the report; then
//! find the people it added, their history and the audit log. Each sees only their scope.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::region_data::school1_roster;
use crate::support::{TestApp, browser, hidden_value, location};

/// Sends the upload form as the browser does (the CSRF token first); returns where the
/// answer leads, or the status and page of a refusal.
async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(&str, String)],
    file: (&str, Vec<u8>),
) -> Result<String, (StatusCode, String)> {
    let (_, page) = app.get_html(client, "/admin/imports").await;
    let token = hidden_value(&page, "csrf_token").expect("the upload form has a token");
    let mut form = Form::new().text("csrf_token", token);
    for (name, value) in fields {
        form = form.text(name.to_string(), value.clone());
    }
    form = form.part("file", Part::bytes(file.1).file_name(file.0.to_string()));
    let resp = client
        .post(app.path("/admin/imports"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    if resp.status() == StatusCode::SEE_OTHER {
        return Ok(location(&resp));
    }
    let status = resp.status();
    Err((status, resp.text().await.unwrap_or_default()))
}

/// The run's page once it says `status` (it runs in the background).
async fn page_when(app: &TestApp, client: &reqwest::Client, run: &str, status: &str) -> String {
    for _ in 0..300 {
        let (code, page) = app.get_html(client, run).await;
        assert_eq!(code, StatusCode::OK, "{page}");
        if page.contains(status) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{run} never said «{status}»");
}

async fn post_on_page(app: &TestApp, client: &reqwest::Client, page: &str, action: &str) -> String {
    let token = hidden_value(page, "csrf_token").expect("token");
    let resp = client
        .post(app.path(action))
        .form(&[("csrf_token", token)])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{action}");
    location(&resp)
}

story!(
    an_operator_checks_a_roster_file_in_the_browser_then_applies_it,
    |app| async move {
        let operator = app.staff("operator-municipal").await;
        let school1 = app.organization_id("«Средняя школа № 1»").await;
        let persons = app.count("roster_persons").await;

        let run = upload(
            &app,
            &operator,
            &[("kind", "roster".into()), ("organization", school1.clone())],
            ("Пакетное обновление 7а.xlsx", school1_roster(true)),
        )
        .await
        .expect("the file is taken");
        assert!(run.starts_with("/admin/imports/"), "{run}");

        // The check writes nothing and shows what the import would do.
        let preview = page_when(&app, &operator, &run, "Проверена — ждёт подтверждения").await;
        assert!(preview.contains("Добавлено: 1"), "{preview}");
        assert!(preview.contains("Иванова Мария Петровна"), "{preview}");
        assert!(preview.contains("Пакетное обновление 7а.xlsx"), "{preview}");
        assert_eq!(app.count("roster_persons").await, persons);

        let back = post_on_page(&app, &operator, &preview, &format!("{run}/apply")).await;
        assert_eq!(back, run);
        let done = page_when(&app, &operator, &run, "Применена").await;
        assert!(done.contains("Записано."), "{done}");
        assert_eq!(app.count("roster_persons").await, persons + 1);
        assert_eq!(app.count("import_files").await, 0, "the file is gone");

        // A second «Применить» (a double click) starts nothing.
        let again = operator
            .post(app.path(&format!("{run}/apply")))
            .form(&[(
                "csrf_token",
                hidden_value(&done, "csrf_token").expect("token"),
            )])
            .send()
            .await
            .expect("post");
        assert_eq!(again.status(), StatusCode::BAD_REQUEST);

        let report = app.get(&operator, &format!("{run}/report")).await;
        assert_eq!(report.status(), StatusCode::OK);
        let disposition = report.headers()["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .to_string();
        assert!(disposition.starts_with("attachment"), "{disposition}");
        assert!(
            report
                .text()
                .await
                .expect("text")
                .contains("+ Родитель Иванова Мария Петровна")
        );

        let (_, history) = app.get_html(&operator, "/admin/imports").await;
        assert!(
            history.contains("Применена") && history.contains("Белова"),
            "{history}"
        );

        // The person the file added, with where she came from.
        let roster = format!("/admin/organizations/{school1}/roster?q=Иванова");
        let (_, list) = app.get_html(&operator, &roster).await;
        let person = regex_lite::Regex::new(r#"href="(/admin/roster/\d+)">Иванова Мария"#)
            .expect("regex")
            .captures(&list)
            .map(|c| c[1].to_string())
            .expect("the mother is listed");
        let (_, page) = app.get_html(&operator, &person).await;
        assert!(page.contains("Добавлен из файла школы"), "{page}");
        assert!(page.contains("Белова Наталья Андреевна"), "{page}");
        assert!(
            page.contains("Иванов Артём Сергеевич"),
            "her son is listed: {page}"
        );
        let (_, audit) = app.get_html(&operator, "/admin/audit").await;
        assert!(audit.contains("Загрузка файла"), "{audit}");
    }
);

story!(
    a_file_that_is_not_a_spreadsheet_is_refused_in_plain_words,
    |app| async move {
        let operator = app.staff("operator-municipal").await;
        let school1 = app.organization_id("«Средняя школа № 1»").await;
        let fields = [("kind", "roster".to_string()), ("organization", school1)];

        let refused = upload(&app, &operator, &fields, ("скан.pdf", b"%PDF-1.4".to_vec())).await;
        let (status, page) = refused.expect_err("a PDF is not taken");
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("Нужен файл .xls, .xlsx или .csv"), "{page}");

        let run = upload(
            &app,
            &operator,
            &fields,
            ("список.xlsx", b"PK\x03\x04broken".to_vec()),
        )
        .await
        .expect("taken, then checked");
        let page = page_when(&app, &operator, &run, "Не загружена").await;
        assert!(
            page.contains("повреждён, зашифрован или в другом формате"),
            "{page}"
        );
        assert!(!page.contains("Применить"), "{page}");
    }
);

story!(
    admin_pages_are_for_school_admins_and_operators_within_their_scope,
    |app| async move {
        let school1 = app.organization_id("«Средняя школа № 1»").await;
        let school2 = app.organization_id("«Средняя школа № 2»").await;

        // A responsible employee and a parent are not let in.
        let responsible = app.staff("staff-school-1").await;
        let (status, page) = app.get_html(&responsible, "/admin/imports").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            page.contains("доступен администраторам школ и операторам"),
            "{page}"
        );
        let parent = browser();
        app.login_as(&parent, "parent", "parent-confirmed").await;
        let (status, _) = app.get_html(&parent, "/admin/imports").await;
        assert_ne!(status, StatusCode::OK);

        // School 1's administrator sees school 1 only.
        let id: i32 = school1.parse().expect("id");
        app.add_staff_record(
            "93786579796",
            ("Соколова", "Ирина", "Павловна"),
            "sokolova@school1.example.com",
            "school_admin",
            Some(id),
        )
        .await;
        let admin = app.staff("parent-no-kids").await;
        let (status, list) = app.get_html(&admin, "/admin/organizations").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            list.contains("Средняя школа № 1") && !list.contains("Средняя школа № 2"),
            "{list}"
        );
        let (status, _) = app
            .get_html(&admin, &format!("/admin/organizations/{school2}/roster"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let school2_student = app
            .roster_id("иванова софья сергеевна", (2018, 11, 3))
            .await;
        let (status, _) = app
            .get_html(&admin, &format!("/admin/roster/{school2_student}"))
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "school 2's pupil is not shown"
        );

        // Asking for school 2 in the form loads into school 1, the administrator's own.
        let run = upload(
            &app,
            &admin,
            &[("kind", "roster".into()), ("organization", school2)],
            ("7а.xlsx", school1_roster(true)),
        )
        .await
        .expect("taken");
        let page = page_when(&app, &admin, &run, "Проверена").await;
        assert!(
            page.contains("Средняя школа № 1") && !page.contains("Средняя школа № 2"),
            "{page}"
        );

        // The directory is not theirs to load.
        let refused = upload(
            &app,
            &admin,
            &[("kind", "directory".into())],
            ("справочник.csv", "Регион;Код\n".as_bytes().to_vec()),
        )
        .await;
        assert_eq!(refused.expect_err("refused").0, StatusCode::BAD_REQUEST);
    }
);
