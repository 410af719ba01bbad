//! What every visitor and every monitor sees: the entry screen, security headers, error
//! pages, health checks, metrics, the directory API and the development mailbox.

use crate::support::{TestApp, browser};
use reqwest::StatusCode;

story!(
    entry_screen_has_three_role_buttons_and_security_headers,
    |app: TestApp| async move {
        let resp = app.get(&browser(), "/").await;
        assert_eq!(resp.status(), StatusCode::OK);
        let h = resp.headers().clone();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert!(h.contains_key("x-request-id"));
        let page = resp.text().await.unwrap();
        for (text, role) in [
            ("Вход для родителей", "parent"),
            ("Вход для учащихся", "student"),
            ("Вход для сотрудников", "staff"),
        ] {
            assert!(page.contains(text));
            assert!(page.contains(&format!("/login/esia?role={role}")));
        }
        assert!(!page.contains("<script"), "works without JavaScript");
        let css = app.get(&browser(), "/static/app.css").await;
        assert_eq!(css.status(), StatusCode::OK);
        assert!(
            css.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
    }
);

story!(
    unknown_pages_and_bad_queries_get_russian_pages,
    |app: TestApp| async move {
        let (status, page) = app.get_html(&browser(), "/no-such-page").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(page.contains("Страница не найдена"));
        let resp = app
            .get(&browser(), "/api/v1/organizations?type=university")
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("Неизвестный тип организации")
        );
        let resp = app
            .get(
                &browser(),
                "/api/v1/organizations?municipality_id=1%27%20OR%201=1",
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let (status, _) = app
            .get_html(&browser(), "/api/v1/organizations/999999/classes")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

story!(
    directory_api_lists_organizations_and_classes,
    |app: TestApp| async move {
        let list: Vec<serde_json::Value> = app
            .get(&browser(), "/api/v1/organizations?type=general")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list.len(), 4, "four general schools in the demo directory");
        for o in &list {
            assert_eq!(o["type"], "general");
            assert!(o["id"].is_number() && o["name"].is_string() && o["municipality"].is_string());
        }
        let found: Vec<serde_json::Value> = app
            .get(
                &browser(),
                "/api/v1/organizations?q=%D0%94%D0%95%D0%A2%D0%A1%D0%9A%D0%98%D0%99",
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "Cyrillic search ignores case: {found:?}");
        let school1 = app.organization_id("«Средняя школа № 1»").await;
        let classes: Vec<serde_json::Value> = app
            .get(
                &browser(),
                &format!("/api/v1/organizations/{school1}/classes"),
            )
            .await
            .json()
            .await
            .unwrap();
        let names: Vec<&str> = classes
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(&names[..3], ["1а", "1б", "2а"]);
        assert_eq!(names.last(), Some(&"11а"), "grades sort as numbers");
    }
);

story!(
    the_form_narrows_organizations_without_javascript,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        app.give_consent(&mum).await;
        let (_, page) = app.get_html(&mum, "/appeals/form").await;
        assert!(
            page.contains("Камчатский край"),
            "the only region is preselected"
        );
        assert!(page.contains("Петропавловск-Камчатский городской округ"));
        assert!(page.contains("— сначала выберите организацию —"));
        let (_, page) = app
            .get_html(
                &mum,
                "/appeals/form?region_id=1&municipality_id=2&org_type=professional",
            )
            .await;
        assert!(page.contains("Камчатский политехнический техникум"));
        assert!(!page.contains("«Средняя школа № 1»"));
        let school1 = app.organization_id("«Средняя школа № 1»").await;
        let (_, page) = app
            .get_html(&mum, &format!("/appeals/form?organization_id={school1}"))
            .await;
        assert!(
            page.contains(">7а<") && page.contains(">11а<"),
            "the classes of the chosen school"
        );
    }
);

story!(health_readiness_and_metrics, |app: TestApp| async move {
    let (status, body) = app.get_html(&browser(), "/healthz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    let (status, _) = app.get_html(&browser(), "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    let mum = browser();
    app.login_as(&mum, "parent", "parent-confirmed").await;
    let number = app.file_appeal(&mum, &app.school1_submission().await).await;
    app.get_html(&mum, &format!("/appeals/{number}")).await;
    let (_, metrics) = app.get_html(&browser(), "/metrics").await;
    assert!(metrics.contains("appeals_submitted_total 1"), "{metrics}");
    assert!(metrics.contains("esia_logins_total{result=\"succeeded\"} 1"));
    assert!(
        metrics.contains("outbox_pending 2"),
        "the confirmation and the staff notice"
    );
    // Latency by route template, never by the path with the number in it.
    assert!(
        metrics.contains(
            "http_request_duration_seconds_count{method=\"GET\",route=\"/appeals/{number}\",status=\"2xx\"} 1"
        ),
        "{metrics}"
    );
    assert!(!metrics.contains(&number), "{metrics}");
    let (status, _) = app.get_html(&browser(), "/no-such-page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, metrics) = app.get_html(&browser(), "/metrics").await;
    assert!(
        metrics.contains("route=\"unmatched\",status=\"4xx\"} 1"),
        "an address no route matches is counted without its path: {metrics}"
    );
    assert!(!metrics.contains("no-such-page"));
    assert!(metrics.contains("db_pool_max ") && metrics.contains("db_pool_open "));
    assert!(metrics.contains("db_statement_duration_seconds_count "));
    app.drain_mail().await;
    let (_, metrics) = app.get_html(&browser(), "/metrics").await;
    assert!(
        metrics.contains("mail_send_duration_seconds_count{result=\"sent\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("outbox_pending 0"));
});

story!(dev_mailbox_shows_sent_mail, |app: TestApp| async move {
    let mum = browser();
    app.login_as(&mum, "parent", "parent-confirmed").await;
    let number = app.file_appeal(&mum, &app.school1_submission().await).await;
    app.drain_mail().await;
    let (status, list) = app.get_html(&browser(), "/dev/mailbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&number));
    let id = app.mail_to("m.ivanova@example.com").await[0].id;
    let (_, message) = app
        .get_html(&browser(), &format!("/dev/mailbox/{id}"))
        .await;
    assert!(message.contains("Ваше обращение зарегистрировано"));
});

story!(
    production_like_smtp_config_has_no_dev_mailbox,
    overrides = vec![
        ("mail.transport", "smtp".to_string()),
        ("mail.smtp_url", "smtp://127.0.0.1:9".to_string())
    ],
    |app: TestApp| async move {
        let (status, _) = app.get_html(&browser(), "/dev/mailbox").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

story!(
    nul_bytes_invisible_characters_and_forged_request_ids_are_refused_at_the_edge,
    |app: TestApp| async move {
        for api in [
            "/api/v1/organizations?q=%00",
            "/api/v1/organizations?locality=a%00b",
        ] {
            let (status, _) = app.get_html(&browser(), api).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{api}");
        }
        let staff = app.staff("staff-school-1").await;
        let (status, page) = app.get_html(&staff, "/staff/inbox?q=%D0%B0%00%D0%B1").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("недопустимые символы"));

        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let s = app.school1_submission().await;
        let (csrf, _) = app.open_form(&mum, &s.organization_id).await;
        let resp = app
            .post_form(&mum, "/appeals", &s.fields(&csrf, "abc\u{0}def"))
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("Форма устарела"));

        let (csrf, submission_id) = app.open_form(&mum, &s.organization_id).await;
        let mut fields = s.fields(&csrf, &submission_id);
        let spoofed = "Всё хорошо \u{202E}тсет";
        fields.iter_mut().find(|(k, _)| *k == "comment").unwrap().1 = spoofed;
        let resp = app.post_form(&mum, "/appeals", &fields).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("невидимые символы"));
        assert_eq!(app.count("appeals").await, 0);

        let resp = browser()
            .get(app.path("/healthz"))
            .header("x-request-id", "abc\tforged")
            .send()
            .await
            .unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
        assert!(id.len() == 36 && !id.contains("forged"), "a new id: {id}");
        let resp = browser()
            .get(app.path("/healthz"))
            .header("x-request-id", "req-42.a_b")
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.headers()["x-request-id"],
            "req-42.a_b",
            "a sane id is kept"
        );
    }
);

story!(
    two_instances_starting_together_on_an_empty_database_both_come_up,
    |app: TestApp| async move {
        let settings = app.settings_on_an_empty_database().await;
        let (a, b) = tokio::join!(
            appeals::Application::build(settings.clone()),
            appeals::Application::build(settings)
        );
        let (a, b) = (
            a.expect("the first instance"),
            b.expect("the second instance"),
        );
        let seeded_once = app.count("organizations").await;
        for instance in [&a, &b] {
            let n = sea_orm::ConnectionTrait::query_one_raw(
                instance.db(),
                sea_orm::Statement::from_string(
                    instance.db().get_database_backend(),
                    "SELECT COUNT(*) AS n FROM organizations",
                ),
            )
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
            assert_eq!(n, seeded_once, "migrated and seeded once");
        }
    }
);

story!(
    metrics_can_ask_for_a_token,
    overrides = vec![("server.metrics_token", "mon-1t0ken".to_string())],
    |app: TestApp| async move {
        let (status, _) = app.get_html(&browser(), "/metrics").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let resp = browser()
            .get(app.path("/metrics"))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        let resp = browser()
            .get(app.path("/metrics"))
            .bearer_auth("mon-1t0ken")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("db_statement_duration_seconds_count")
        );
    }
);

story!(
    too_many_requests_from_one_address_get_a_russian_429,
    overrides = vec![
        ("limits.sign_in_per_minute", "3".to_string()),
        ("limits.forms_per_minute", "2".to_string()),
    ],
    |app: TestApp| async move {
        let client = browser();
        for _ in 0..3 {
            let resp = app.get(&client, "/login/esia?role=parent").await;
            assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        }
        let resp = app.get(&client, "/login/esia?role=parent").await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = resp.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "Retry-After: {retry}");
        let page = resp.text().await.unwrap();
        assert!(page.contains("Слишком много запросов") && page.contains("Подождите"));

        // Pages are read freely; form posts are limited.
        let (status, _) = app.get_html(&client, "/").await;
        assert_eq!(status, StatusCode::OK);
        let posts: Vec<StatusCode> = {
            let mut out = Vec::new();
            for _ in 0..3 {
                out.push(
                    app.post_form(&client, "/appeals", &[("x", "1")])
                        .await
                        .status(),
                );
            }
            out
        };
        assert_ne!(posts[0], StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(posts[2], StatusCode::TOO_MANY_REQUESTS);
    }
);

story!(
    readiness_fails_while_the_database_takes_no_writes_and_recovers,
    |app: TestApp| async move {
        let ready = || async { app.get(&browser(), "/readyz").await.status() };
        assert_eq!(ready().await, StatusCode::OK);
        if !app.is_postgres() {
            // A read-only SQLite file cannot be made here: the tests run as root.
            return;
        }
        let cut = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                   WHERE datname = '{db}' AND pid <> pg_backend_pid()";
        // A failover to a read-only standby: new connections cannot write.
        app.as_postgres_admin("ALTER DATABASE {db} SET default_transaction_read_only = on")
            .await;
        app.as_postgres_admin(cut).await;
        let mut status = ready().await;
        for _ in 0..20 {
            if status == StatusCode::SERVICE_UNAVAILABLE {
                break;
            }
            status = ready().await;
        }
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready without writes"
        );
        // The primary is back: the app recovers without a restart.
        app.as_postgres_admin("ALTER DATABASE {db} SET default_transaction_read_only = off")
            .await;
        app.as_postgres_admin(cut).await;
        let mut status = ready().await;
        for _ in 0..20 {
            if status == StatusCode::OK {
                break;
            }
            status = ready().await;
        }
        assert_eq!(status, StatusCode::OK, "ready again");
        let (status, _) = app.get_html(&browser(), "/").await;
        assert_eq!(status, StatusCode::OK);
    }
);
