//! The staff story (seed 003): a responsible staff member signs in through ESIA, finds the
//! appeal, fixes or adds the roster record and links the account; the parent gets the
//! resolution by e-mail and the next login lands on `/home`.

use crate::support::{self, TestApp, browser, location};
use reqwest::StatusCode;

pub(crate) async fn file_as(app: &TestApp, persona: &str, child_id: &str) -> String {
    let parent = browser();
    app.login_as(&parent, "parent", persona).await;
    let s = support::Submission {
        child_id: child_id.into(),
        ..app.school1_submission().await
    };
    app.file_appeal(&parent, &s).await
}

/// Staff of school № 1 signed in, and the appeal's page as they see it.
pub(crate) async fn staff_on(app: &TestApp, number: &str) -> (reqwest::Client, String) {
    let staff = app.staff("staff-school-1").await;
    let (_, page) = app
        .get_html(&staff, &format!("/staff/appeals/{number}"))
        .await;
    (staff, page)
}

story!(
    parent_absent_from_the_roster_is_added_from_the_snapshot,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        let staff = app.staff("staff-school-1").await;
        let (status, inbox) = app.get_html(&staff, "/staff/inbox").await;
        assert_eq!(status, StatusCode::OK);
        assert!(inbox.contains(&number) && inbox.contains("Иванов Артём Сергеевич"));

        let (_, page) = app
            .get_html(&staff, &format!("/staff/appeals/{number}"))
            .await;
        for fact in [
            "Иванова Мария Петровна",
            "14.03.1986",
            "m.ivanova@example.com",
            "134-587-260 76",
            "Не могу войти в дневник сына",
        ] {
            assert!(page.contains(fact), "the snapshot shows {fact}");
        }
        assert!(
            page.contains("уже есть в списке обучающихся"),
            "the preview finds the child's record"
        );
        assert_eq!(
            app.count("appeal_access_log").await,
            1,
            "the view is logged"
        );

        let (confirm, resp) = app
            .link_confirmed(&staff, &number, &[("mode", "create")], &[])
            .await;
        assert!(confirm.contains("Родитель: Иванова Мария Петровна (14.03.1986)"));
        assert!(confirm.contains("уже есть в списке обучающихся"));
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (_, page) = app
            .get_html(&staff, &format!("/staff/appeals/{number}"))
            .await;
        assert!(page.contains("Решено"));
        assert_eq!(
            app.count("roster_persons").await,
            8,
            "one parent added, the child existed"
        );
        assert_eq!(
            app.count("roster_guardians").await,
            3,
            "tied to the child's record"
        );

        app.drain_mail().await;
        let mail = app.mail_to("m.ivanova@example.com").await;
        assert_eq!(mail.len(), 2);
        assert_eq!(mail[0].subject, format!("Обращение № {number}: решено"));
        assert!(mail[0].text.contains("учётная запись Госуслуг связана"));

        let again = browser();
        assert_eq!(
            app.login_as(&again, "parent", "parent-confirmed").await,
            "/home"
        );
        let (_, home) = app.get_html(&again, "/home").await;
        assert!(home.contains("«Средняя школа № 1»"));
    }
);

story!(
    a_typo_in_the_roster_is_fixed_and_linked,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-typo", "38421002").await;
        let (staff, page) = staff_on(&app, &number).await;
        let top = page
            .find("Алена")
            .expect("the roster record with the typo is a candidate");
        let first_diff = page
            .find("class=\"diff\"")
            .expect("differences are highlighted");
        assert!(first_diff < top + 200, "the differing name is highlighted");
        assert!(page.contains("19.01.1989"), "the other birth date is shown");
        let person =
            support::hidden_value(&page, "roster_person_id").expect("a linkable candidate");

        let resp = app
            .link_confirmed(
                &staff,
                &number,
                &[("mode", "fix"), ("roster_person_id", &person)],
                &[],
            )
            .await;
        let (confirm, resp) = resp;
        for change in ["Алена", "Елена", "19.01.1989", "19.01.1988"] {
            assert!(confirm.contains(change), "the confirmation shows {change}");
        }
        assert!(confirm.contains(
            "Смирнов Кирилл Андреевич — уже есть в списке обучающихся, будет связан с родителем"
        ));
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        app.drain_mail().await;
        let mail = app.mail_to("e.smirnova@example.com").await;
        assert!(mail.iter().any(|m| m.subject.ends_with(": решено")));
        let (_, page) = app
            .get_html(&staff, &format!("/staff/appeals/{number}"))
            .await;
        assert!(
            page.contains("было «Смирнова Алена Викторовна, 19.01.1989, СНИЛС —», стало «Смирнова Елена Викторовна, 19.01.1988, СНИЛС 18609139090»"),
            "the correction is in the history"
        );
        let again = browser();
        assert_eq!(app.login_as(&again, "parent", "parent-typo").await, "/home");
        let (_, own) = app.get_html(&again, &format!("/appeals/{number}")).await;
        assert!(!own.contains("было «"), "roster details stay internal");
    }
);

story!(
    next_login_that_auto_links_resolves_open_appeals,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-typo", "38421002").await;
        let person = app
            .roster_id("смирнова алена викторовна", (1989, 1, 19))
            .await;
        // Staff had handed out a binding code for the record before.
        let staff = app.staff("staff-school-1").await;
        let (_, inbox) = app.get_html(&staff, "/staff/inbox").await;
        let csrf = support::hidden_value(&inbox, "csrf_token").unwrap();
        let issued = app
            .post_form(
                &staff,
                &format!("/staff/roster/{person}/binding-code"),
                &[("csrf_token", &csrf)],
            )
            .await
            .text()
            .await
            .unwrap();
        let code = regex_lite::Regex::new(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>")
            .unwrap()
            .captures(&issued)
            .expect("a code")[1]
            .to_string();
        // The school corrects the record in its own system; no link is made by staff.
        appeals::store::roster::fix_person(
            &app.db,
            person,
            &appeals::domain::names::PersonName::new("Смирнова", "Елена", "Викторовна"),
            chrono::NaiveDate::from_ymd_opt(1988, 1, 19).unwrap(),
            Some("18609139090".into()),
        )
        .await
        .unwrap();
        let mum = browser();
        assert_eq!(app.login_as(&mum, "parent", "parent-typo").await, "/home");
        let (_, page) = app.get_html(&mum, &format!("/appeals/{number}")).await;
        assert!(page.contains("Решено") && page.contains("закрыто автоматически"));
        app.drain_mail().await;
        assert!(
            app.mail_to("e.smirnova@example.com")
                .await
                .iter()
                .any(|m| m.text.contains("закрыто автоматически"))
        );
        // The record has its account now: the old code links nobody else.
        let stranger = browser();
        app.login_as(&stranger, "parent", "parent-confirmed").await;
        let resp = app.redeem_code(&stranger, &code).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Код не найден, уже использован")
        );
        assert_eq!(
            app.count("esia_links").await,
            1,
            "one account on the record"
        );
    }
);

story!(
    statuses_move_forward_with_texts_and_emails,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        let staff = app.staff("staff-school-1").await;
        let ok = |r: reqwest::Response| async move {
            assert_eq!(
                r.status(),
                StatusCode::SEE_OTHER,
                "{}",
                r.text().await.unwrap_or_default()
            );
        };
        ok(app
            .staff_action(&staff, &number, "assign", &[("staff_id", "me")])
            .await)
        .await;
        ok(app
            .staff_action(&staff, &number, "status", &[("status", "in_progress")])
            .await)
        .await;
        let resp = app
            .staff_action(&staff, &number, "status", &[("status", "needs_info")])
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("какие сведения нужны"));
        ok(app
            .staff_action(
                &staff,
                &number,
                "status",
                &[
                    ("status", "needs_info"),
                    ("resolution", "Пришлите СНИЛС ребёнка"),
                ],
            )
            .await)
        .await;
        let resp = app
            .staff_action(&staff, &number, "status", &[("status", "closed")])
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("Неизвестный статус"));
        let resp = app
            .staff_action(
                &staff,
                &number,
                "status",
                &[("status", "resolved"), ("resolution", " ")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let long_note = "з".repeat(2001);
        let resp = app
            .staff_action(&staff, &number, "notes", &[("text", &long_note)])
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("длиннее 2000 символов"));
        ok(app
            .staff_action(
                &staff,
                &number,
                "notes",
                &[("text", "Мама звонила, ждёт ответа")],
            )
            .await)
        .await;
        ok(app
            .staff_action(
                &staff,
                &number,
                "status",
                &[
                    ("status", "rejected"),
                    ("resolution", "Ребёнок не обучается в школе"),
                ],
            )
            .await)
        .await;
        let resp = app
            .staff_action(&staff, &number, "status", &[("status", "in_progress")])
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::CONFLICT,
            "a closed appeal stays closed"
        );
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Нельзя перевести обращение из статуса «Отклонено»"),
            "the refusal is on the page, though its form is not"
        );

        let (_, staff_page) = app
            .get_html(&staff, &format!("/staff/appeals/{number}"))
            .await;
        assert!(
            staff_page.contains("Мама звонила") && staff_page.contains("Орлова Татьяна Сергеевна")
        );
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let (_, own) = app.get_html(&mum, &format!("/appeals/{number}")).await;
        assert!(own.contains("Отклонено") && own.contains("Ребёнок не обучается в школе"));
        assert!(
            !own.contains("Мама звонила"),
            "internal notes never reach the applicant"
        );

        app.drain_mail().await;
        let subjects: Vec<String> = app
            .mail_to("m.ivanova@example.com")
            .await
            .into_iter()
            .map(|m| m.subject)
            .collect();
        for s in [
            "зарегистрировано",
            ": на рассмотрении",
            ": требуются сведения",
            ": отклонено",
        ] {
            assert!(
                subjects.iter().any(|x| x.contains(s)),
                "{s} in {subjects:?}"
            );
        }
        assert_eq!(subjects.len(), 4, "no e-mail for assignment or notes");
    }
);

story!(
    two_staff_resolving_at_once_one_wins,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        let first = app.staff("staff-school-1").await;
        let second = app.staff("staff-school-1").await;
        let (_, page) = app
            .get_html(&second, &format!("/staff/appeals/{number}"))
            .await;
        let stale_csrf = support::hidden_value(&page, "csrf_token").unwrap();
        let stale_version = support::hidden_value(&page, "version").unwrap();
        let resp = app
            .staff_action(
                &first,
                &number,
                "status",
                &[
                    ("status", "resolved"),
                    ("resolution", "Готово"),
                    ("confirm_unlinked", "1"),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let resp = app
            .post_form(
                &second,
                &format!("/staff/appeals/{number}/status"),
                &[
                    ("csrf_token", &stale_csrf),
                    ("version", &stale_version),
                    ("status", "resolved"),
                    ("resolution", "Тоже готово"),
                    ("confirm_unlinked", "1"),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("уже изменил другой сотрудник")
        );
        app.drain_mail().await;
        let resolved = app
            .mail_to("m.ivanova@example.com")
            .await
            .into_iter()
            .filter(|m| m.subject.ends_with("решено"))
            .count();
        assert_eq!(resolved, 1, "one resolution e-mail");
    }
);

story!(
    forwarding_moves_the_appeal_and_tells_the_applicant,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        let staff1 = app.staff("staff-school-1").await;
        let school2 = app.organization_id("«Средняя школа № 2»").await;
        let resp = app
            .staff_action(
                &staff1,
                &number,
                "forward",
                &[("organization_id", &school2)],
            )
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a reason is required"
        );
        let resp = app
            .staff_action(
                &staff1,
                &number,
                "forward",
                &[
                    ("organization_id", &school2),
                    ("resolution", "Ребёнок учится в школе № 2"),
                ],
            )
            .await;
        assert_eq!(location(&resp), "/staff/inbox");
        let (status, _) = app
            .get_html(&staff1, &format!("/staff/appeals/{number}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "out of school 1's scope now");
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let (_, own) = app.get_html(&mum, &format!("/appeals/{number}")).await;
        assert!(
            own.contains("перенаправлено в организацию «МБОУ «Средняя школа № 2»"),
            "where it went is in the history"
        );
        let staff2 = app.staff("staff-school-2").await;
        let (_, inbox) = app.get_html(&staff2, "/staff/inbox").await;
        assert!(inbox.contains(&number));
        app.drain_mail().await;
        let mail = app.mail_to("m.ivanova@example.com").await;
        assert!(
            mail[0].text.contains("перенаправлено") && mail[0].text.contains("Средняя школа № 2")
        );
    }
);

story!(
    binding_code_from_the_appeal_page_links_the_parent,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-typo", "38421002").await;
        let (staff, page) = staff_on(&app, &number).await;
        let person = support::hidden_value(&page, "roster_person_id").unwrap();
        let csrf = support::hidden_value(&page, "csrf_token").unwrap();
        let (status, code_page) = {
            let r = app
                .post_form(
                    &staff,
                    &format!("/staff/roster/{person}/binding-code"),
                    &[("csrf_token", &csrf), ("number", &number)],
                )
                .await;
            (r.status(), r.text().await.unwrap())
        };
        assert_eq!(status, StatusCode::OK);
        let code = regex_lite::Regex::new(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>")
            .unwrap()
            .captures(&code_page)
            .unwrap()[1]
            .to_string();
        let (_, page) = app
            .get_html(&staff, &format!("/staff/appeals/{number}"))
            .await;
        assert!(
            page.contains("Выдан одноразовый код привязки"),
            "the code is in the history"
        );
        let mum = browser();
        app.login_as(&mum, "parent", "parent-typo").await;
        let resp = app.redeem_code(&mum, &code).await;
        assert_eq!(location(&resp), "/home");
        let (_, own) = app.get_html(&mum, &format!("/appeals/{number}")).await;
        assert!(
            own.contains("Решено"),
            "the code closed the appeal about this school"
        );
    }
);

story!(
    staff_who_choose_a_digest_get_one_mail_an_hour,
    |app: TestApp| async move {
        let staff = app.staff("staff-school-1").await;
        let (_, inbox) = app.get_html(&staff, "/staff/inbox").await;
        assert!(inbox.contains("href=\"/staff/settings\">Уведомления: письмо о каждом обращении"));
        let (_, settings) = app.get_html(&staff, "/staff/settings").await;
        assert!(settings.contains("Сводка раз в час"));
        let csrf = support::hidden_value(&settings, "csrf_token").unwrap();
        let resp = app
            .post_form(
                &staff,
                "/staff/settings",
                &[("csrf_token", &csrf), ("notify_digest", "1")],
            )
            .await;
        assert_eq!(location(&resp), "/staff/settings");
        let (_, settings) = app.get_html(&staff, "/staff/settings").await;
        assert!(settings.contains("Настройки уведомлений сохранены."));
        assert!(settings.contains("value=\"1\" checked"));
        let first = file_as(&app, "parent-confirmed", "38420917").await;
        let second = file_as(&app, "parent-typo", "38421002").await;
        app.drain_mail().await;
        assert!(
            app.mail_to("orlova@school1.example.com").await.is_empty(),
            "no mail per appeal"
        );
        let now = chrono::Utc::now();
        assert_eq!(app.queue_digests(now).await, 1);
        assert_eq!(
            app.queue_digests(now + chrono::Duration::minutes(10)).await,
            0,
            "not again within the hour"
        );
        app.drain_mail().await;
        let digest = app.mail_to("orlova@school1.example.com").await;
        assert_eq!(digest.len(), 1);
        assert_eq!(digest[0].subject, "Новые обращения: 2");
        assert!(digest[0].text.contains(&first) && digest[0].text.contains(&second));
        assert!(
            !digest[0].text.contains("Иванов"),
            "no personal data in the digest"
        );
    }
);

story!(
    applicant_answers_a_question_on_the_appeal_page,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        let staff = app.staff("staff-school-1").await;
        let resp = app
            .staff_action(
                &staff,
                &number,
                "status",
                &[
                    ("status", "needs_info"),
                    ("resolution", "Укажите класс сына на 1 сентября"),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        app.drain_mail().await;
        let question = app
            .mail_to("m.ivanova@example.com")
            .await
            .into_iter()
            .next()
            .unwrap();
        assert!(
            question
                .text
                .contains("Ответить можно на странице обращения")
        );

        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let (_, page) = app.get_html(&mum, &format!("/appeals/{number}")).await;
        assert!(
            page.contains("Укажите класс сына на 1 сентября"),
            "the question is on top"
        );
        let csrf = support::hidden_value(&page, "csrf_token").unwrap();
        let empty = app
            .post_form(
                &mum,
                &format!("/appeals/{number}/reply"),
                &[("csrf_token", &csrf), ("text", " ")],
            )
            .await;
        assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
        let resp = app
            .post_form(
                &mum,
                &format!("/appeals/{number}/reply"),
                &[("csrf_token", &csrf), ("text", "Был 6а, теперь 7а")],
            )
            .await;
        assert_eq!(location(&resp), format!("/appeals/{number}"));
        let (_, page) = app.get_html(&mum, &format!("/appeals/{number}")).await;
        assert!(page.contains("На рассмотрении") && page.contains("Был 6а, теперь 7а"));
        let again = app
            .post_form(
                &mum,
                &format!("/appeals/{number}/reply"),
                &[("csrf_token", &csrf), ("text", "ещё")],
            )
            .await;
        assert_eq!(
            again.status(),
            StatusCode::BAD_REQUEST,
            "no reply without a question"
        );

        app.drain_mail().await;
        let notice = app.mail_to("orlova@school1.example.com").await;
        assert!(
            notice
                .iter()
                .any(|m| m.subject == format!("Ответ заявителя по обращению № {number}"))
        );
        let (_, inbox) = app.get_html(&staff, "/staff/inbox").await;
        assert!(
            inbox.contains("новый ответ"),
            "the answer is marked new in the inbox"
        );
        let (_, staff_page) = app
            .get_html(&staff, &format!("/staff/appeals/{number}"))
            .await;
        assert!(staff_page.contains("Ответ заявителя: Был 6а, теперь 7а"));
        let (_, inbox) = app.get_html(&staff, "/staff/inbox").await;
        assert!(
            !inbox.contains("новый ответ"),
            "read once the appeal is opened"
        );
        let mum_mail = app.mail_to("m.ivanova@example.com").await;
        assert_eq!(
            mum_mail.len(),
            2,
            "no e-mail to the applicant about their own answer"
        );
    }
);

story!(
    a_record_another_account_signs_in_with_is_not_taken,
    |app: TestApp| async move {
        // Петров is linked to parent-linked's account; another parent's appeal must not take it.
        let dad = browser();
        assert_eq!(app.login_as(&dad, "parent", "parent-linked").await, "/home");
        let number = file_as(&app, "parent-typo", "38421002").await;
        let petrov = app
            .roster_id("петров алексей николаевич", (1982, 7, 2))
            .await
            .to_string();
        let staff = app.staff("staff-school-1").await;
        let resp = app
            .staff_action(
                &staff,
                &number,
                "link",
                &[("mode", "fix"), ("roster_person_id", &petrov)],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("уже связана с другой учётной записью")
        );
        assert_eq!(app.count("esia_links").await, 1);
    }
);

story!(
    an_appeal_forwarded_to_a_digest_subscriber_is_in_the_next_digest,
    |app: TestApp| async move {
        let staff2 = app.staff("staff-school-2").await;
        let (_, inbox) = app.get_html(&staff2, "/staff/inbox").await;
        let csrf = support::hidden_value(&inbox, "csrf_token").unwrap();
        app.post_form(
            &staff2,
            "/staff/settings",
            &[("csrf_token", &csrf), ("notify_digest", "1")],
        )
        .await;
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        let staff1 = app.staff("staff-school-1").await;
        let school2 = app.organization_id("«Средняя школа № 2»").await;
        let resp = app
            .staff_action(
                &staff1,
                &number,
                "forward",
                &[
                    ("organization_id", &school2),
                    ("resolution", "Учится в школе № 2"),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.queue_digests(chrono::Utc::now()).await, 1);
        app.drain_mail().await;
        let digest = app.mail_to("nikitin@school2.example.com").await;
        assert_eq!(digest.len(), 1, "no immediate notice, one digest");
        assert!(digest[0].text.contains(&number));
    }
);

story!(
    a_corrupt_stored_status_is_an_error_never_another_status,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        let (staff, page) = staff_on(&app, &number).await;
        let csrf = support::hidden_value(&page, "csrf_token").expect("csrf");
        // A value no version of the application writes, as a broken import or a manual
        // edit could leave it.
        let sql = format!("UPDATE appeals SET status = 'closed' WHERE number = '{number}'");
        sea_orm::ConnectionTrait::execute_unprepared(&app.db, &sql)
            .await
            .expect("status corrupted");

        for path in [
            "/staff/inbox".to_string(),
            format!("/staff/appeals/{number}"),
        ] {
            let (status, page) = app.get_html(&staff, &path).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
            assert!(
                page.contains("Внутренняя ошибка"),
                "{path}: a page, not a trace"
            );
            assert!(!page.contains("closed") && !page.contains("appeals row"));
        }
        // Read as «new», the corrupt appeal would accept any move; it accepts none.
        let resp = app
            .post_form(
                &staff,
                &format!("/staff/appeals/{number}/status"),
                &[
                    ("csrf_token", csrf.as_str()),
                    ("status", "resolved"),
                    ("resolution", "Готово."),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let row = sea_orm::ConnectionTrait::query_one_raw(
            &app.db,
            sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                format!("SELECT status FROM appeals WHERE number = '{number}'"),
            ),
        )
        .await
        .expect("query")
        .expect("row");
        assert_eq!(row.try_get::<String>("", "status").unwrap(), "closed");
    }
);

story!(
    adding_a_parent_answers_only_the_appeals_about_the_child_it_linked,
    |app: TestApp| async move {
        let artyom = file_as(&app, "parent-confirmed", "38420917").await;
        // Софья is not a student of school 1: her appeal is not answered by the link.
        let sofya = file_as(&app, "parent-confirmed", "38420955").await;
        let staff = app.staff("staff-school-1").await;
        let (confirm, resp) = app
            .link_confirmed(&staff, &artyom, &[("mode", "create")], &[])
            .await;
        assert!(confirm.contains(&format!(
            "№ <a href=\"/staff/appeals/{sofya}\">{sofya}</a> — останется открытым"
        )));
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (_, done) = app.get_html(&staff, &location(&resp)).await;
        assert!(
            done.contains("Заявитель связан с записью организации"),
            "a success message"
        );

        let (_, open) = app
            .get_html(&staff, &format!("/staff/appeals/{sofya}"))
            .await;
        assert!(open.contains("На рассмотрении") || open.contains("Зарегистрировано"));
        assert!(open.contains(&format!(
            "Заявитель связан с записью организации через обращение № {artyom}; проверьте ребёнка"
        )));
        app.drain_mail().await;
        let resolved = app
            .mail_to("m.ivanova@example.com")
            .await
            .into_iter()
            .filter(|m| m.subject.ends_with(": решено"))
            .count();
        assert_eq!(
            resolved, 1,
            "one «решено» e-mail, for the appeal that was solved"
        );
    }
);

story!(
    resolving_for_an_unlinked_applicant_asks_first,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        let staff = app.staff("staff-school-1").await;
        let fields = [
            ("status", "resolved"),
            ("resolution", "Проверено, всё работает"),
        ];
        let resp = app.staff_action(&staff, &number, "status", &fields).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = resp.text().await.unwrap();
        assert!(page.contains("Заявитель не связан — всё равно закрыть как решённое?"));
        assert!(
            page.contains("value=\"Проверено, всё работает\""),
            "the text is kept"
        );
        let (_, still) = app
            .get_html(&staff, &format!("/staff/appeals/{number}"))
            .await;
        assert!(still.contains("Зарегистрировано"), "nothing changed yet");

        let mut confirmed = fields.to_vec();
        confirmed.push(("confirm_unlinked", "1"));
        let resp = app
            .staff_action(&staff, &number, "status", &confirmed)
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (_, page) = app
            .get_html(&staff, &format!("/staff/appeals/{number}"))
            .await;
        assert!(
            page.contains("Статус изменён: «Решено»."),
            "a success message"
        );
        assert!(page.contains("сотрудник подтвердил, что обращение всё равно решено"));
    }
);

story!(
    a_record_already_linked_offers_no_fix_and_no_code,
    |app: TestApp| async move {
        // Петров's login links him by himself; he files an appeal anyway.
        let number = file_as(&app, "parent-linked", "38421001").await;
        let (staff, page) = staff_on(&app, &number).await;
        assert!(page.contains("запись уже связана с учётной записью этого заявителя"));
        assert!(
            support::hidden_value(&page, "roster_person_id").is_none(),
            "no «Исправить» for a linked record"
        );
        assert!(!page.contains("Выдать код привязки"));
        let petrov = app
            .roster_id("петров алексей николаевич", (1982, 7, 2))
            .await
            .to_string();
        let csrf = support::hidden_value(&page, "csrf_token").unwrap();
        let resp = app
            .post_form(
                &staff,
                &format!("/staff/roster/{petrov}/binding-code"),
                &[("csrf_token", &csrf), ("number", &number)],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CONFLICT);
        let page = resp.text().await.unwrap();
        assert!(page.contains("новый код не нужен"));
        assert!(
            page.contains(&format!(
                "Обращение № <span class=\"nowrap\">{number}</span>"
            )),
            "the refusal shows on the appeal itself"
        );
    }
);

story!(
    adding_beside_a_similar_record_asks_why,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-typo", "38421002").await;
        let (staff, page) = staff_on(&app, &number).await;
        assert!(
            page.contains("class=\"button\">Добавить в список и связать"),
            "with candidates, adding is the second choice"
        );
        let (confirm, resp) = app
            .link_confirmed(&staff, &number, &[("mode", "create")], &[])
            .await;
        assert!(confirm.contains("Почему нужна новая запись?"));
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("напишите, почему нужна новая")
        );
        assert_eq!(app.count("esia_links").await, 0, "nothing linked yet");

        let reason = [("reason", "В списке другая Смирнова, это не она")];
        let (_, resp) = app
            .link_confirmed(&staff, &number, &[("mode", "create")], &reason)
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (_, page) = app
            .get_html(&staff, &format!("/staff/appeals/{number}"))
            .await;
        assert!(
            page.contains("Новая запись в списке, хотя похожие есть: В списке другая Смирнова")
        );
    }
);
