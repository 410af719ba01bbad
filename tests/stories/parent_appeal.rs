//! A parent whose Gosuslugi login matches nothing files an appeal and gets its number on
//! screen and by e-mail; bad input changes nothing.

use crate::support::{self, Submission, TestApp, browser, location};
use appeals::domain::appeal::Appeal;
use appeals::domain::routing::Route;
use appeals::store::{
    self,
    appeals::{Filing, NewAppeal, Numbering, Submitted},
    entities::outbox,
    outbox::NewMessage,
};
use chrono::Datelike;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

story!(
    confirmed_parent_files_and_gets_number_and_email,
    |app: TestApp| async move {
        let mum = browser();
        assert_eq!(
            app.login_as(&mum, "parent", "parent-confirmed").await,
            "/no-account"
        );
        let (status, page) = app.get_html(&mum, "/no-account").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(
            "С выбранной учётной записью портала Госуслуг не связан ни один пользователь системы"
        ));
        for button in [
            "Обратиться в организацию",
            "Привязать учетную запись",
            "Выход",
        ] {
            assert!(page.contains(button), "{button} on «Запись не найдена»");
        }
        let (status, confirm) = app.get_html(&mum, "/appeals/new").await;
        assert_eq!(status, StatusCode::OK);
        assert!(confirm.contains("/appeals/form"));

        // Before the first appeal: the consent to the processing of personal data, a
        // document of its own naming her, the operator and what is done with which data.
        let to_form = app.get(&mum, "/appeals/form").await;
        assert_eq!(location(&to_form), "/appeals/consent");
        let (status, consent) = app.get_html(&mum, "/appeals/consent").await;
        assert_eq!(status, StatusCode::OK);
        for part in [
            "Согласие на обработку персональных данных",
            "Иванова Мария Петровна",
            "как законный представитель своего ребёнка",
            "Министерство образования Демонстрационной области",
            "через 3 года после ответа",
            "Редакция 1",
            "Не даю согласия",
        ] {
            assert!(consent.contains(part), "{part}: {consent}");
        }
        app.give_consent(&mum).await;

        let (_, form) = app.get_html(&mum, "/appeals/form").await;
        for prefilled in [
            "Иванова Мария Петровна",
            "14.03.1986",
            "m.ivanova@example.com",
            "Родитель",
            "Иванов Артём Сергеевич",
            "Иванова Софья Сергеевна",
        ] {
            assert!(form.contains(prefilled), "form shows {prefilled} from ESIA");
        }

        let submission = app.school1_submission().await;
        let number = app.file_appeal(&mum, &submission).await;
        let year = support::local_now().format("%Y").to_string();
        assert_eq!(number, format!("{year}-000001"));

        let (status, page) = app.get_html(&mum, &format!("/appeals/{number}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&number));
        assert!(page.contains("Зарегистрировано"));
        assert!(
            page.contains("ответственным сотрудникам организации"),
            "routing is in the history"
        );
        let (_, mine) = app.get_html(&mum, "/my/appeals").await;
        assert!(mine.contains(&number));

        assert_eq!(app.count("appeals").await, 1);
        assert_eq!(app.count("appeal_events").await, 2);
        assert_eq!(app.count("outbox").await, 2);
        let stats = app.drain_mail().await;
        assert_eq!(stats.sent, 2);
        let notice = app.mail_to("orlova@school1.example.com").await;
        assert_eq!(notice.len(), 1, "the school's responsible staff are told");
        assert_eq!(notice[0].subject, format!("Новое обращение № {number}"));
        assert!(
            !notice[0].text.contains("Иванов"),
            "no personal data in the notice"
        );
        let mail = app.mail_to("m.ivanova@example.com").await;
        assert_eq!(mail.len(), 1);
        assert_eq!(
            mail[0].subject,
            format!("Обращение № {number} зарегистрировано")
        );
        assert!(mail[0].text.contains("Иванов Артём Сергеевич"));
        assert!(mail[0].html.contains(&number));
        assert_eq!(mail[0].message_id, "<appeals-outbox-1@appeals.localhost>");
        assert_eq!(
            app.drain_mail().await.sent,
            0,
            "a sent message is not sent again"
        );
    }
);

story!(
    numbers_follow_each_other_and_a_repeated_post_is_one_appeal,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let s = app.school1_submission().await;
        let (csrf, submission_id) = app.open_form(&mum, &s.organization_id).await;
        let fields = s.confirmed(&csrf, &submission_id);
        let first = app.post_form(&mum, "/appeals", &fields).await;
        let second = app.post_form(&mum, "/appeals", &fields).await;
        assert_eq!(first.status(), StatusCode::SEE_OTHER);
        assert_eq!(second.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&first),
            location(&second),
            "the same appeal, never a second"
        );
        assert_eq!(app.count("appeals").await, 1);
        assert_eq!(
            app.count("outbox").await,
            2,
            "one confirmation, one staff notice"
        );

        let next = app
            .file_again(&mum, &s, "В первом обращении указан не тот класс")
            .await;
        assert!(next.ends_with("-000002"), "{next}");
    }
);

story!(
    identity_fields_in_the_post_are_ignored,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let s = app.school1_submission().await;
        let (csrf, submission_id) = app.open_form(&mum, &s.organization_id).await;
        let mut fields = s.confirmed(&csrf, &submission_id);
        fields.extend([
            ("fio", "Подделкин Иван Иванович"),
            ("email", "attacker@example.com"),
            ("birth_date", "01.01.2000"),
        ]);
        let resp = app.post_form(&mum, "/appeals", &fields).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (_, page) = app.get_html(&mum, &location(&resp)).await;
        assert!(page.contains("m.ivanova@example.com"));
        assert!(!page.contains("attacker@example.com"));
        app.drain_mail().await;
        let mail = app.mail_to("m.ivanova@example.com").await;
        assert_eq!(mail.len(), 1);
        assert!(!mail[0].text.contains("Подделкин"));
        assert!(app.mail_to("attacker@example.com").await.is_empty());
    }
);

story!(
    bad_input_gets_a_russian_error_and_changes_nothing,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let s = app.school1_submission().await;
        let school2 = app.organization_id("«Средняя школа № 2»").await;
        let class_of_school2 = app.class_id(&school2, "7а").await;
        let kindergarten = app.organization_id("Детский сад № 5").await;
        let long_comment = "ж".repeat(2001);
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("child_id", "999")], "Выберите ребёнка из списка"),
            (vec![("child_id", "")], "Выберите ребёнка из списка"),
            (
                vec![("class_id", &class_of_school2)],
                "класс не относится к выбранной организации",
            ),
            (
                vec![("organization_id", &kindergarten)],
                "не относится к указанному типу",
            ),
            (vec![("organization_id", "abc")], "Выберите организацию"),
            (vec![("comment", &long_comment)], "длиннее 2000 символов"),
            (
                vec![("comment", "a\u{7}b")],
                "управляющие или невидимые символы",
            ),
        ];
        for (changes, expected) in cases {
            let (csrf, submission_id) = app.open_form(&mum, &s.organization_id).await;
            let mut fields = s.fields(&csrf, &submission_id);
            for (k, v) in changes {
                fields
                    .iter_mut()
                    .find(|(name, _)| *name == k)
                    .expect("field")
                    .1 = v;
            }
            let resp = app.post_form(&mum, "/appeals", &fields).await;
            assert_eq!(
                resp.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{expected}"
            );
            let body = resp.text().await.unwrap();
            assert!(
                body.to_lowercase().contains(&expected.to_lowercase()),
                "{expected} in {body}"
            );
            assert!(
                body.contains("Форма подачи обращения"),
                "the form is shown again"
            );
        }
        // Without a CSRF token, with a forged submission id, without a session.
        let (_, submission_id) = app.open_form(&mum, &s.organization_id).await;
        let no_csrf = app
            .post_form(
                &mum,
                "/appeals",
                &[("submission_id", &submission_id), ("child_id", &s.child_id)],
            )
            .await;
        assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
        assert!(no_csrf.text().await.unwrap().contains("Форма устарела"));
        let (csrf, _) = app.open_form(&mum, &s.organization_id).await;
        let forged = app
            .post_form(
                &mum,
                "/appeals",
                &s.fields(&csrf, "00000000-0000-4000-8000-000000000000"),
            )
            .await;
        assert_eq!(forged.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let stranger = browser();
        let expired = app
            .post_form(&stranger, "/appeals", &[("child_id", &s.child_id)])
            .await;
        assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
        assert!(expired.text().await.unwrap().contains("Сеанс истёк"));
        assert_eq!(app.count("appeals").await, 0);
        assert_eq!(app.count("outbox").await, 0);
    }
);

story!(
    another_parent_cannot_see_the_appeal,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let number = app.file_appeal(&mum, &app.school1_submission().await).await;

        let other = browser();
        assert_eq!(
            app.login_as(&other, "parent", "parent-typo").await,
            "/no-account"
        );
        let (status, page) = app.get_html(&other, &format!("/appeals/{number}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!page.contains("Иванова"));
        let (_, mine) = app.get_html(&other, "/my/appeals").await;
        assert!(!mine.contains(&number));
        let (status, _) = app.get_html(&other, "/appeals/not-a-number").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app
            .get_html(&browser(), &format!("/appeals/{number}"))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

story!(
    a_school_without_responsible_staff_routes_to_the_municipal_operator,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let org = app.organization_id("Основная школа № 3").await;
        let s = support::Submission {
            child_id: "38420917".into(),
            org_type: "general".into(),
            class_id: app.class_id(&org, "5а").await,
            organization_id: org,
            comment: String::new(),
        };
        let number = app.file_appeal(&mum, &s).await;
        let (_, page) = app.get_html(&mum, &format!("/appeals/{number}")).await;
        assert!(
            page.contains("направлено оператору муниципального органа"),
            "{page}"
        );
    }
);

story!(
    a_second_appeal_about_the_same_child_needs_a_reason,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let s = app.school1_submission().await;
        let first = app.file_appeal(&mum, &s).await;
        let (csrf, submission_id) = app.open_form(&mum, &s.organization_id).await;
        let resp = app
            .post_form(&mum, "/appeals", &s.fields(&csrf, &submission_id))
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = resp.text().await.unwrap();
        assert!(page.contains("Уже есть открытое обращение"));
        assert!(
            page.contains(&format!("href=\"/appeals/{first}\"")),
            "it links to the open appeal"
        );
        assert!(
            page.contains("Не могу войти в дневник сына"),
            "the comment is kept"
        );
        assert_eq!(
            app.count("appeals").await,
            1,
            "nothing filed without a reason"
        );

        let second = app.file_again(&mum, &s, "Прошёл месяц, ответа нет").await;
        assert_ne!(first, second);
        let (_, shown) = app.get_html(&mum, &format!("/appeals/{second}")).await;
        assert!(shown.contains("Повторное обращение. Причина: Прошёл месяц, ответа нет"));
        // Another child is another matter: no question asked.
        let other = support::Submission {
            child_id: "38420955".into(),
            ..app.school1_submission().await
        };
        app.file_appeal(&mum, &other).await;
    }
);

story!(
    a_returning_parent_sees_her_open_appeals_where_she_lands,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let number = app.file_appeal(&mum, &app.school1_submission().await).await;
        let again = browser();
        assert_eq!(
            app.login_as(&again, "parent", "parent-confirmed").await,
            "/no-account"
        );
        let (_, landing) = app.get_html(&again, "/no-account").await;
        assert!(landing.contains("Ваши открытые обращения"));
        assert!(landing.contains(&format!(
            "Обращение № {number}</a> — <strong>Зарегистрировано"
        )));
        assert!(!landing.contains("Ответить"), "no question yet");

        let staff = app.staff("staff-school-1").await;
        let question = [("status", "needs_info"), ("resolution", "Пришлите класс")];
        let resp = app.staff_action(&staff, &number, "status", &question).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (_, landing) = app.get_html(&again, "/no-account").await;
        assert!(landing.contains(&format!("href=\"/appeals/{number}#reply\">Ответить")));
        let (_, mine) = app.get_html(&again, "/my/appeals").await;
        assert!(mine.contains("Ребёнок") && mine.contains("Иванов Артём Сергеевич"));
    }
);

story!(
    the_form_keeps_what_the_parent_chose_and_asks_to_check,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let s = app.school1_submission().await;
        app.give_consent(&mum).await;
        let (_, page) = app.get_html(&mum, "/appeals/form").await;
        let csrf = support::hidden_value(&page, "csrf_token").unwrap();
        let submission_id = support::hidden_value(&page, "submission_id").unwrap();
        // «Показать» after choosing the school: the child and the comment stay.
        let shown = app
            .post_form(
                &mum,
                "/appeals/form",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("submission_id", submission_id.as_str()),
                    ("child_id", "38420955"),
                    ("org_type", "general"),
                    ("organization_id", s.organization_id.as_str()),
                    ("comment", "Дневник не открывается"),
                ],
            )
            .await;
        assert_eq!(
            shown.status(),
            StatusCode::OK,
            "shown in place, not redirected"
        );
        let page = shown.text().await.unwrap();
        assert!(
            page.contains("value=\"38420955\" checked"),
            "the child is kept"
        );
        assert!(page.contains(">Дневник не открывается</textarea>"));
        assert!(page.contains(">7а<"), "the chosen school's classes");

        // The school was chosen, the class not yet: the school is kept, the class asked for.
        let no_class = [
            ("csrf_token", csrf.as_str()),
            ("submission_id", submission_id.as_str()),
            ("child_id", "38420917"),
            ("org_type", "general"),
            ("organization_id", s.organization_id.as_str()),
            ("comment", "Дневник не открывается"),
        ];
        let resp = app.post_form(&mum, "/appeals", &no_class).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = resp.text().await.unwrap();
        assert!(page.contains("<a href=\"#class_id\">Выберите класс из списка.</a>"));
        assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"class_id-error\""));
        assert!(page.contains(&format!("value=\"{}\" selected", s.organization_id)));

        let mut with_class = no_class.to_vec();
        with_class.push(("class_id", s.class_id.as_str()));
        let check = app.post_form(&mum, "/appeals", &with_class).await;
        assert_eq!(check.status(), StatusCode::OK);
        let page = check.text().await.unwrap();
        for fact in [
            "Проверьте данные",
            "Иванов Артём Сергеевич",
            "7а",
            "Дневник не открывается",
        ] {
            assert!(page.contains(fact), "the check shows {fact}");
        }
        assert_eq!(
            app.count("appeals").await,
            0,
            "nothing sent before «Отправить»"
        );
        with_class.push(("confirm", "1"));
        let number = support::filed_number(&app.post_form(&mum, "/appeals", &with_class).await);
        assert!(number.ends_with("-000001"));
    }
);

/// Makes every sign-in older than the absolute timeout (eight hours of work on the form).
async fn age_sign_ins(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT id, data FROM sessions",
        ))
        .await
        .unwrap();
    for row in rows {
        let id: String = row.try_get("", "id").unwrap();
        let mut data: serde_json::Value =
            serde_json::from_str(&row.try_get::<String>("", "data").unwrap()).unwrap();
        if let Some(user) = data.get_mut("user") {
            user["signed_in_at"] = serde_json::json!(0);
        }
        let sql = format!(
            "UPDATE sessions SET data = '{}' WHERE id = '{id}'",
            data.to_string().replace('\'', "''")
        );
        app.db.execute_unprepared(&sql).await.unwrap();
    }
}

story!(
    a_form_filled_when_the_sign_in_expires_is_not_lost,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let s = app.school1_submission().await;
        let (csrf, submission_id) = app.open_form(&mum, &s.organization_id).await;
        age_sign_ins(&app).await;
        let resp = app
            .post_form(&mum, "/appeals", &s.fields(&csrf, &submission_id))
            .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let page = resp.text().await.unwrap();
        assert!(page.contains("введённое в форме не потеряно"));
        let login = "/login/esia?role=parent&amp;next=%2Fappeals%2Fform";
        assert!(page.contains(login), "{page}");
        assert_eq!(
            app.sign_in_from(&mum, login, "parent-confirmed").await,
            "/appeals/form"
        );
        let (_, form) = app.get_html(&mum, "/appeals/form").await;
        assert!(form.contains("Форма заполнена тем, что вы ввели раньше"));
        assert!(form.contains(">Не могу войти в дневник сына</textarea>"));
        assert!(form.contains("value=\"38420917\" checked"));
        let (_, again) = app.get_html(&mum, "/appeals/form").await;
        assert!(
            !again.contains("Не могу войти в дневник сына"),
            "restored once"
        );

        // Another person signing in on that browser does not get it.
        let shared = browser();
        app.login_as(&shared, "parent", "parent-confirmed").await;
        let (csrf, submission_id) = app.open_form(&shared, &s.organization_id).await;
        age_sign_ins(&app).await;
        app.post_form(&shared, "/appeals", &s.fields(&csrf, &submission_id))
            .await;
        assert_eq!(
            app.sign_in_from(&shared, login, "parent-typo").await,
            "/appeals/form"
        );
        app.give_consent(&shared).await;
        let (_, form) = app.get_html(&shared, "/appeals/form").await;
        assert!(!form.contains("Не могу войти в дневник сына"));

        // Nobody signed in (a request from another site, or an idle session gone with its
        // cookie): nothing is kept and no session is created.
        let sessions = app.count("sessions").await;
        let stranger = browser();
        let resp = app
            .post_form(&stranger, "/appeals", &s.fields("x", "y"))
            .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert!(resp.headers().get(reqwest::header::SET_COOKIE).is_none());
        assert_eq!(app.count("sessions").await, sessions);
    }
);

story!(
    a_parent_without_a_verified_email_gives_one_and_gets_the_number_there,
    |app: TestApp| async move {
        let parent = browser();
        app.login_as(&parent, "parent", "parent-unverified-email")
            .await;
        let s = Submission {
            child_id: "38421101".into(),
            ..app.school1_submission().await
        };
        app.give_consent(&parent).await;
        let (status, form) = app
            .get_html(
                &parent,
                &format!("/appeals/form?organization_id={}", s.organization_id),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("Не из Госуслуг"), "the form asks: {form}");
        assert!(
            form.contains(r#"value="o.guseva@example.com""#),
            "prefilled with the profile's unverified address: {form}"
        );

        // Without an address the form says why it needs one.
        let (csrf, submission_id) = app.open_form(&parent, &s.organization_id).await;
        let mut fields = s.fields(&csrf, &submission_id);
        fields.push(("contact_email", ""));
        let resp = app.post_form(&parent, "/appeals", &fields).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = resp.text().await.expect("body");
        assert!(
            page.contains("нет подтверждённого адреса, а номер"),
            "{page}"
        );

        let mut fields = s.fields(&csrf, &submission_id);
        fields.push(("contact_email", "olga.g@example.com"));
        let number = crate::support::filed_number(&app.send_checked(&parent, fields).await);
        app.drain_mail().await;
        let mail = app.mail_to("olga.g@example.com").await;
        assert!(
            mail.iter().any(|m| m.subject.contains(&number)),
            "the registration mail goes to the typed address"
        );
        let (_, page) = app.get_html(&parent, &format!("/appeals/{number}")).await;
        assert!(page.contains("olga.g@example.com"), "{page}");
    }
);

story!(
    the_consent_is_given_once_and_stored_with_every_appeal,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let s = app.school1_submission().await;
        let (csrf, submission_id) = app.open_form(&mum, &s.organization_id).await;
        // Pressing «Даю согласие» again (a double tap, another tab) keeps the first time.
        let twice = app
            .post_form(&mum, "/appeals/consent", &[("csrf_token", csrf.as_str())])
            .await;
        assert_eq!(location(&twice), "/appeals/form");
        assert_eq!(app.count("consents").await, 1);
        let (_, again) = app.get_html(&mum, "/appeals/consent").await;
        assert!(again.contains("Вы дали это согласие"), "{again}");

        // The wording changed while she typed: the new one is asked for first, and what
        // she typed waits for her on the form.
        app.execute("DELETE FROM consents", vec![]).await;
        let sent = app
            .post_form(&mum, "/appeals", &s.fields(&csrf, &submission_id))
            .await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&sent), "/appeals/consent");
        assert_eq!(app.count("appeals").await, 0);
        app.give_consent(&mum).await;
        let (_, form) = app.get_html(&mum, "/appeals/form").await;
        assert!(form.contains("Форма заполнена тем, что вы ввели раньше"));
        assert!(form.contains(">Не могу войти в дневник сына</textarea>"));

        let number = app.file_appeal(&mum, &s).await;
        let appeal = appeals::store::appeals::by_number(&app.db, &number)
            .await
            .expect("read")
            .expect("filed");
        let consent = appeal
            .consent
            .expect("the consent is stored with the appeal");
        assert_eq!(consent.version, "1");
        let age = chrono::Utc::now() - consent.given_at;
        assert!(age < chrono::Duration::minutes(5), "given just now: {age}");

        // Her next appeal goes straight to the form, under the same consent.
        let to_form = app.get(&mum, "/appeals/form").await;
        assert_eq!(to_form.status(), StatusCode::OK);
        let second = Submission {
            child_id: "38420955".into(),
            ..s
        };
        let next = app.file_appeal(&mum, &second).await;
        let next = appeals::store::appeals::by_number(&app.db, &next)
            .await
            .expect("read")
            .expect("filed");
        assert_eq!(next.consent.map(|c| c.given_at), Some(consent.given_at));

        let staff = app.staff("staff-school-1").await;
        let (_, page) = app
            .get_html(&staff, &format!("/staff/appeals/{number}"))
            .await;
        assert!(page.contains("Согласие на обработку ПДн"), "{page}");
        assert!(page.contains("редакция 1"), "{page}");
    }
);

story!(
    without_consent_there_is_no_form,
    |app: TestApp| async move {
        let dad = browser();
        app.login_as(&dad, "parent", "parent-typo").await;
        let (_, consent) = app.get_html(&dad, "/appeals/consent").await;
        assert!(consent.contains(r#"href="/no-account">Не даю согласия"#));
        for path in ["/appeals/form", "/appeals/form?organization_id=1"] {
            let resp = app.get(&dad, path).await;
            assert_eq!(location(&resp), "/appeals/consent", "{path}");
        }
        // A consent is only ever the person's own press of the button.
        let forged = app
            .post_form(&dad, "/appeals/consent", &[("csrf_token", "forged")])
            .await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.count("consents").await, 0);
    }
);

story!(
    a_surge_of_filings_at_once_gives_each_its_own_number_and_mails,
    |app: TestApp| async move {
        // Eight forms sent at the same moment, about two children at two schools, two of
        // them pressed twice: the registrar files what arrives together as one group.
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let school1 = app.school1_submission().await;
        let org2 = app.organization_id("«Средняя школа № 2»").await;
        let school2 = Submission {
            class_id: app.class_id(&org2, "5а").await,
            organization_id: org2,
            ..app.school1_submission().await
        };
        let mut forms = Vec::new();
        for i in 0..8 {
            let place = if i < 4 { &school1 } else { &school2 };
            let child = ["38420917", "38420955"][i % 2];
            let (csrf, token) = app.open_form(&mum, &place.organization_id).await;
            let mut fields: Vec<(String, String)> = place
                .confirmed(&csrf, &token)
                .into_iter()
                .filter(|(k, _)| *k != "child_id")
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            fields.push(("child_id".into(), child.into()));
            // Whichever arrives after the first one about a child is a second appeal.
            fields.push(("repeat_reason".into(), "Другой вопрос по дневнику".into()));
            forms.push((place.organization_id.clone(), child, fields));
        }
        let mut presses = tokio::task::JoinSet::new();
        for (i, (_, _, fields)) in forms.iter().chain(&forms[..2]).enumerate() {
            let (mum, url, fields) = (mum.clone(), app.path("/appeals"), fields.clone());
            presses.spawn(async move {
                let resp = mum.post(url).form(&fields).send().await.expect("POST");
                (i % 8, resp.status(), location(&resp))
            });
        }
        let mut answers = presses.join_all().await;
        answers.sort();
        let mut filed = std::collections::BTreeMap::new();
        for (form, status, to) in &answers {
            assert_eq!(*status, StatusCode::SEE_OTHER, "form {form}: {to}");
            let number = to.strip_prefix("/appeals/").expect("the appeal's page");
            let first = filed.entry(*form).or_insert_with(|| number.to_string());
            assert_eq!(first, number, "a second press shows the first appeal");
        }
        let numbers: std::collections::BTreeSet<&String> = filed.values().collect();
        assert_eq!(numbers.len(), 8, "one appeal per form: {answers:?}");
        assert_eq!(app.count("appeals").await, 8);
        assert_eq!(app.count("appeal_events").await, 16, "registered, routed");
        for (form, number) in &filed {
            let (org, child, _) = &forms[*form];
            let appeal = store::appeals::by_number(&app.db, number)
                .await
                .unwrap()
                .expect("registered");
            assert_eq!(appeal.organization_id.to_string(), *org, "{number}");
            let kid = appeal.snapshot.child.as_ref().map(|c| c.esia_id.as_str());
            assert_eq!(kid, Some(*child), "{number}");
            let confirmation = outbox::Entity::find()
                .filter(outbox::Column::AppealId.eq(appeal.id))
                .filter(outbox::Column::Kind.eq("registered"))
                .all(&app.db)
                .await
                .unwrap();
            let subjects: Vec<&str> = confirmation.iter().map(|m| m.subject.as_str()).collect();
            assert_eq!(
                subjects,
                [format!("Обращение № {number} зарегистрировано")],
                "its own confirmation, once"
            );
        }
        if !app.is_postgres() {
            // SQLite numbers without gaps, whatever the groups were.
            let year = support::local_now().format("%Y").to_string();
            let expected: Vec<String> = (1..=8).map(|n| format!("{year}-{n:06}")).collect();
            assert_eq!(numbers.into_iter().cloned().collect::<Vec<_>>(), expected);
        }
        let (kept, counted) = crate::staff_inbox::kept_and_counted(&app).await;
        assert_eq!(kept, counted, "the tab counts are exact");
    }
);

story!(
    a_group_is_registered_together_and_a_filing_it_cannot_take_fails_alone,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let s = app.school1_submission().await;
        let (csrf, token) = app.open_form(&mum, &s.organization_id).await;
        let resp = app
            .post_form(&mum, "/appeals", &s.confirmed(&csrf, &token))
            .await;
        let number = support::filed_number(&resp);
        let first = store::appeals::by_submission(&app.db, &token)
            .await
            .unwrap()
            .expect("the appeal is there");
        let org2: i32 = app
            .organization_id("«Средняя школа № 2»")
            .await
            .parse()
            .unwrap();
        let class2: i32 = app.class_id(&org2.to_string(), "5а").await.parse().unwrap();
        let school1 = (first.organization_id, first.class_id);
        let year = support::local_now().year();
        let fresh: Vec<String> = (0..4).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        let like =
            |token: &str, place, child: &str, year| filing_like(&first, token, place, child, year);

        // Written in the reverse of the order the group is inserted in: school 2 before
        // school 1; with the form sent before, a form pressed twice and next year's appeal.
        let group = vec![
            like(&fresh[0], (org2, class2), "2001", year),
            like(&token, school1, "38420917", year),
            like(&fresh[1], school1, "1001", year + 1),
            like(&fresh[0], (org2, class2), "2001", year),
        ];
        let outcomes = store::registrar::file_group(&app.db, &Numbering::default(), group).await;
        let [
            Ok(Submitted::Created(at_two)),
            Ok(Submitted::Repeated(sent_before)),
            Ok(Submitted::Created(next_year)),
            Ok(Submitted::Repeated(pressed_twice)),
        ] = outcomes.as_slice()
        else {
            panic!("two new appeals, each press answered with its first appeal");
        };
        assert_eq!(sent_before.number, number);
        assert_eq!(pressed_twice.number, at_two.number);
        assert_eq!((at_two.organization_id, child_of(at_two)), (org2, "2001"));
        assert_eq!(
            (next_year.organization_id, child_of(next_year)),
            (school1.0, "1001")
        );
        assert_eq!(next_year.number, format!("{}-000001", year + 1));
        if !app.is_postgres() {
            assert_eq!(at_two.number, format!("{year}-000002"));
        }
        for a in [at_two, next_year] {
            let mails = outbox::Entity::find()
                .filter(outbox::Column::AppealId.eq(a.id))
                .all(&app.db)
                .await
                .unwrap();
            let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
            assert_eq!(
                subjects,
                [format!("Обращение № {} зарегистрировано", a.number)]
            );
        }
        assert_eq!(app.count("appeals").await, 3);
        assert_eq!(app.count("appeal_events").await, 6);

        // A class that does not exist: the database refuses the whole group, all or none.
        let refused = || {
            vec![
                like(&fresh[2], school1, "1002", year),
                like(&uuid::Uuid::new_v4().to_string(), (org2, -1), "2002", year),
                like(&fresh[3], (org2, class2), "2003", year),
            ]
        };
        let whole = store::appeals::submit_group(&app.db, &Numbering::default(), &refused()).await;
        assert!(whole.is_err(), "refused as a whole");
        assert_eq!(app.count("appeals").await, 3, "and nothing of it kept");
        // Filed one by one, the bad filing fails alone.
        let outcomes =
            store::registrar::file_group(&app.db, &Numbering::default(), refused()).await;
        let [
            Ok(Submitted::Created(one)),
            Err(_),
            Ok(Submitted::Created(two)),
        ] = outcomes.as_slice()
        else {
            panic!("the two good filings registered, the bad one refused");
        };
        if !app.is_postgres() {
            assert_eq!(one.number, format!("{year}-000003"));
            assert_eq!(two.number, format!("{year}-000004"), "no gap on SQLite");
        }
        assert_eq!(app.count("appeals").await, 5);
        assert_eq!(app.count("outbox").await, 2 + 2 + 2);
        let (kept, counted) = crate::staff_inbox::kept_and_counted(&app).await;
        assert_eq!(kept, counted, "the tab counts are exact");
    }
);

fn child_of(a: &Appeal) -> &str {
    a.snapshot.child.as_ref().map_or("", |c| c.esia_id.as_str())
}

/// An appeal of the parent of `first` about child `child` at `(organization, class)`,
/// under form token `token`, with one confirmation e-mail.
fn filing_like(first: &Appeal, token: &str, place: (i32, i32), child: &str, year: i32) -> Filing {
    let mut snapshot = first.snapshot.clone();
    if let Some(c) = snapshot.child.as_mut() {
        c.esia_id = child.to_string();
    }
    Filing {
        new: NewAppeal {
            snapshot,
            repeat_reason: None,
            digest_staff: Vec::new(),
            organization_id: place.0,
            class_id: place.1,
            comment: None,
            submission_id: token.to_string(),
            route: Route::Organization,
            year,
            now: chrono::Utc::now(),
            due_at: first.due_at,
            consent: first.consent.clone().expect("the consent of the first"),
        },
        mails: Box::new(|a: &Appeal| {
            vec![NewMessage {
                kind: "registered",
                appeal_id: Some(a.id),
                recipient: "parent@example.com".into(),
                subject: format!("Обращение № {} зарегистрировано", a.number),
                body_text: "Обращение зарегистрировано.".into(),
                body_html: "<p>Обращение зарегистрировано.</p>".into(),
            }]
        }),
    }
}
