//! Who may file: unconfirmed accounts and parents without children data are refused with
//! 403 on every step; students file for themselves from 14; linked parents go home.

use crate::support::{self, TestApp, browser};
use reqwest::StatusCode;

const NO_KIDS_TEXT: &str = "Для возможности подачи обращения в организацию необходимо заполнить сведения по детским учетным записям в личном кабинете родителя на портале Госуслуги.";

/// Every step of the flow refuses with 403 and `text`, and nothing is stored.
async fn refused_everywhere(app: &TestApp, persona: &str, role: &str, text: &str) {
    let client = browser();
    assert_eq!(app.login_as(&client, role, persona).await, "/no-account");
    for path in ["/appeals/new", "/appeals/consent", "/appeals/form"] {
        let (status, page) = app.get_html(&client, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{persona} at {path}");
        assert!(
            page.contains(text),
            "{persona} at {path} sees the reason: {page}"
        );
    }
    let (_, page) = app.get_html(&client, "/no-account").await;
    assert!(page.contains(text), "{persona} learns why on landing");
    assert!(
        !page.contains("href=\"/appeals/new\""),
        "{persona} is offered no button that cannot work"
    );
    let csrf = support::hidden_value(&page, "csrf_token").expect("csrf");
    let s = support::Submission {
        child_id: "38421003".into(),
        ..app.school1_submission().await
    };
    let resp = app
        .post_form(
            &client,
            "/appeals",
            &s.fields(&csrf, "00000000-0000-4000-8000-000000000000"),
        )
        .await;
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "submission re-checks eligibility"
    );
    assert!(resp.text().await.unwrap().contains(text));
    let consent = app
        .post_form(
            &client,
            "/appeals/consent",
            &[("csrf_token", csrf.as_str())],
        )
        .await;
    assert_eq!(
        consent.status(),
        StatusCode::FORBIDDEN,
        "nor is a consent taken"
    );
    assert_eq!(app.count("appeals").await, 0);
    assert_eq!(app.count("consents").await, 0);
    assert_eq!(app.count("outbox").await, 0);
}

story!(
    unconfirmed_account_is_refused_with_how_to_confirm,
    |app: TestApp| async move {
        refused_everywhere(
            &app,
            "parent-unconfirmed",
            "parent",
            "подтверждённой учётной записью",
        )
        .await;
        let client = browser();
        app.login_as(&client, "parent", "parent-unconfirmed").await;
        let (_, page) = app.get_html(&client, "/appeals/new").await;
        for way in ["МФЦ", "банк", "Почты России", "электронной подписи"]
        {
            assert!(page.contains(way), "explains confirmation via {way}");
        }
    }
);

story!(
    parent_without_kids_gets_the_exact_text,
    |app: TestApp| async move {
        refused_everywhere(&app, "parent-no-kids", "parent", NO_KIDS_TEXT).await;
    }
);

story!(
    linked_parent_lands_home_and_can_still_appeal,
    |app: TestApp| async move {
        let dad = browser();
        assert_eq!(app.login_as(&dad, "parent", "parent-linked").await, "/home");
        let (status, page) = app.get_html(&dad, "/home").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("«Средняя школа № 1»"));
        assert!(page.contains("Нет нужной организации"));
        assert_eq!(app.count("esia_links").await, 1);
        // The second login finds the link instead of matching again.
        let again = browser();
        assert_eq!(
            app.login_as(&again, "parent", "parent-linked").await,
            "/home"
        );
        assert_eq!(app.count("esia_links").await, 1);
        let (status, _) = app.get_html(&dad, "/appeals/new").await;
        assert_eq!(status, StatusCode::OK);
    }
);

story!(
    parent_with_a_typo_in_the_roster_is_not_linked,
    |app: TestApp| async move {
        let mum = browser();
        assert_eq!(
            app.login_as(&mum, "parent", "parent-typo").await,
            "/no-account"
        );
        assert_eq!(app.count("esia_links").await, 0);
    }
);

story!(
    student_of_15_files_for_themself,
    |app: TestApp| async move {
        let student = browser();
        assert_eq!(
            app.login_as(&student, "student", "student-15").await,
            "/no-account"
        );
        let s = app.school1_submission().await;
        app.give_consent(&student).await;
        let (_, form) = app
            .get_html(
                &student,
                &format!("/appeals/form?organization_id={}", s.organization_id),
            )
            .await;
        assert!(form.contains("Обучающийся"));
        assert!(
            !form.contains("name=\"child_id\""),
            "a student has no children to choose"
        );
        let number = app
            .file_appeal(
                &student,
                &support::Submission {
                    child_id: String::new(),
                    ..s
                },
            )
            .await;
        let (_, page) = app.get_html(&student, &format!("/appeals/{number}")).await;
        assert!(
            page.contains("Васильев Егор Павлович"),
            "the student is the subject"
        );
    }
);

story!(
    student_under_14_is_told_to_use_the_school_login,
    |app: TestApp| async move {
        refused_everywhere(&app, "student-12", "student", "младше 14 лет").await;
        let kid = browser();
        app.login_as(&kid, "student", "student-12").await;
        let (_, page) = app.get_html(&kid, "/no-account").await;
        assert!(page.contains("href=\"/login/esia?role=parent\">Выйти и войти как родитель"));
    }
);

story!(binding_code_links_the_account, |app: TestApp| async move {
    let mum = browser();
    assert_eq!(
        app.login_as(&mum, "parent", "parent-typo").await,
        "/no-account"
    );
    let person = app
        .roster_id("смирнова алена викторовна", (1989, 1, 19))
        .await;
    let code = appeals::store::roster::issue_binding_code(
        &app.db,
        person,
        chrono::Duration::hours(1),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let wrong = app.redeem_code(&mum, "AAAAA-BBBBB").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().await.unwrap().contains("Код не найден"));
    let ok = app.redeem_code(&mum, &code.to_lowercase()).await;
    assert_eq!(support::location(&ok), "/home");
    let again = browser();
    assert_eq!(app.login_as(&again, "parent", "parent-typo").await, "/home");
    // A code works once.
    let other = browser();
    app.login_as(&other, "parent", "parent-confirmed").await;
    let reused = app.redeem_code(&other, &code).await;
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
});

story!(
    guessing_binding_codes_stops_after_five_tries_whatever_the_session,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-typo").await;
        let (_, page) = app.get_html(&mum, "/link").await;
        let csrf = support::hidden_value(&page, "csrf_token").unwrap();
        // Fifty guesses at once: the database counts every one of them.
        let mut guesses = tokio::task::JoinSet::new();
        for i in 0..50 {
            let (mum, csrf, url) = (mum.clone(), csrf.clone(), app.path("/link"));
            guesses.spawn(async move {
                let code = format!("AAAAA-{i:05}");
                mum.post(url)
                    .form(&[("csrf_token", csrf.as_str()), ("code", code.as_str())])
                    .send()
                    .await
                    .unwrap()
                    .status()
            });
        }
        let statuses = guesses.join_all().await;
        let wrong = statuses
            .iter()
            .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
            .count();
        // Every attempt is counted before it is checked: racing ones can only use up the
        // five, never go beyond them.
        assert!(wrong <= 5, "at most five guesses checked: {statuses:?}");
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
                .count(),
            50 - wrong
        );
        // A new sign-in does not start the count again.
        let again = browser();
        app.login_as(&again, "parent", "parent-typo").await;
        let resp = app.redeem_code(&again, "AAAAA-BBBBB").await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Слишком много попыток ввести код")
        );
    }
);
