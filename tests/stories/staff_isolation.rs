//! Staff see only their scope: school 2 gets 404 for anything of school 1 whatever the URL
//! or form says; the municipal operator sees both schools; strangers get no access.

use crate::support::{self, TestApp, browser};
use reqwest::StatusCode;

async fn school1_appeal(app: &TestApp) -> String {
    let mum = browser();
    app.login_as(&mum, "parent", "parent-typo").await;
    let s = support::Submission {
        child_id: "38421002".into(),
        ..app.school1_submission().await
    };
    app.file_appeal(&mum, &s).await
}

story!(
    every_staff_route_of_another_school_is_404,
    |app: TestApp| async move {
        let number = school1_appeal(&app).await;
        let own = app.staff("staff-school-1").await;
        let (_, page) = app
            .get_html(&own, &format!("/staff/appeals/{number}"))
            .await;
        let person =
            support::hidden_value(&page, "roster_person_id").expect("school 1 roster person");
        let version = support::hidden_value(&page, "version").unwrap();

        let other = app.staff("staff-school-2").await;
        let (_, inbox) = app.get_html(&other, "/staff/inbox?status=all").await;
        assert!(!inbox.contains(&number), "not in school 2's inbox");
        let (status, _) = app
            .get_html(&other, &format!("/staff/inbox?q={number}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, page) = app
            .get_html(&other, &format!("/staff/appeals/{number}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!page.contains("Смирнова"));
        let (_, any) = app.get_html(&other, "/staff/inbox").await;
        let csrf = support::hidden_value(&any, "csrf_token").unwrap();
        let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                format!("/staff/appeals/{number}/status"),
                vec![("status", "resolved"), ("resolution", "x")],
            ),
            (
                format!("/staff/appeals/{number}/assign"),
                vec![("staff_id", "me")],
            ),
            (
                format!("/staff/appeals/{number}/notes"),
                vec![("text", "x")],
            ),
            (
                format!("/staff/appeals/{number}/forward"),
                vec![("organization_id", "2"), ("resolution", "x")],
            ),
            (
                format!("/staff/appeals/{number}/link"),
                vec![("mode", "create")],
            ),
            (
                format!("/staff/appeals/{number}/link"),
                vec![("mode", "fix"), ("roster_person_id", &person)],
            ),
            (
                format!("/staff/appeals/{number}/link"),
                vec![("mode", "merge")],
            ),
            (
                format!("/staff/appeals/{number}/assign"),
                vec![("staff_id", "x")],
            ),
            (format!("/staff/roster/{person}/binding-code"), vec![]),
        ];
        for (path, fields) in posts {
            let mut all = vec![("csrf_token", csrf.as_str()), ("version", version.as_str())];
            all.extend(fields);
            let resp = app.post_form(&other, &path, &all).await;
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        }
        // Forged numbers are simply not found.
        for forged in ["2026-999999", "2026-00000a", "..%2F..%2Fetc"] {
            let (status, page) = app
                .get_html(&own, &format!("/staff/appeals/{forged}"))
                .await;
            assert!(
                page.contains(">Входящие</a>"),
                "the staff menu on error pages"
            );
            assert_eq!(status, StatusCode::NOT_FOUND, "{forged}");
        }
        // Nothing changed, and only school 1's look is in the access log.
        let (_, page) = app
            .get_html(&own, &format!("/staff/appeals/{number}"))
            .await;
        assert!(page.contains("Зарегистрировано") && !page.contains(">x<"));
        assert_eq!(app.count("appeal_access_log").await, 2);
        assert_eq!(app.count("esia_links").await, 0);
    }
);

story!(
    linking_a_roster_person_of_another_school_is_404,
    |app: TestApp| async move {
        let number = school1_appeal(&app).await;
        let own = app.staff("staff-school-1").await;
        // Софья's student record belongs to school 2.
        let foreign = app
            .roster_id("иванова софья сергеевна", (2018, 11, 3))
            .await
            .to_string();
        let resp = app
            .staff_action(
                &own,
                &number,
                "link",
                &[("mode", "fix"), ("roster_person_id", &foreign)],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let (_, page) = app.get_html(&own, "/staff/inbox").await;
        let csrf = support::hidden_value(&page, "csrf_token").unwrap();
        let resp = app
            .post_form(
                &own,
                &format!("/staff/roster/{foreign}/binding-code"),
                &[("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
);

story!(
    assigning_to_staff_of_another_school_is_refused,
    |app: TestApp| async move {
        let number = school1_appeal(&app).await;
        let own = app.staff("staff-school-1").await;
        let other_id = appeals::store::staff::active_by_snils(&app.db, "55597971167")
            .await
            .unwrap()[0]
            .id
            .to_string();
        let resp = app
            .staff_action(&own, &number, "assign", &[("staff_id", &other_id)])
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Назначить можно только сотрудника")
        );
    }
);

story!(
    municipal_operator_sees_both_schools,
    |app: TestApp| async move {
        let number1 = school1_appeal(&app).await;
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let school2 = app.organization_id("«Средняя школа № 2»").await;
        let s = support::Submission {
            child_id: "38420955".into(),
            org_type: "general".into(),
            class_id: app.class_id(&school2, "2а").await,
            organization_id: school2,
            comment: String::new(),
        };
        let number2 = app.file_appeal(&mum, &s).await;
        let operator = app.staff("operator-municipal").await;
        let (_, inbox) = app.get_html(&operator, "/staff/inbox").await;
        assert!(inbox.contains(&number1) && inbox.contains(&number2));
        let (status, _) = app
            .get_html(&operator, &format!("/staff/appeals/{number2}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let staff1 = app.staff("staff-school-1").await;
        let (_, inbox) = app.get_html(&staff1, "/staff/inbox").await;
        assert!(inbox.contains(&number1) && !inbox.contains(&number2));
    }
);

story!(
    people_who_are_not_staff_get_no_access,
    |app: TestApp| async move {
        let client = browser();
        let callback = app
            .esia_callback(&client, "staff", "parent-confirmed")
            .await;
        let (status, page) = app.get_html(&client, &callback).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(page.contains("не найдена среди сотрудников"));
        let (status, _) = app.get_html(&client, "/staff/inbox").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // A parent session is no staff session either.
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let (status, page) = app.get_html(&mum, "/staff/inbox").await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "signed in, in the other role"
        );
        assert!(page.contains("Эта страница для сотрудников"));
        assert!(page.contains("href=\"/login/esia?role=staff&amp;next=%2Fstaff%2Finbox\""));
        assert!(
            page.contains("Мои обращения"),
            "the site's header as on any page"
        );
        let (status, page) = app.get_html(&mum, "/my/appeals").await;
        assert_eq!(status, StatusCode::OK, "her own pages still open: {page}");
        let staff = app.staff("staff-school-1").await;
        let (status, page) = app.get_html(&staff, "/my/appeals").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(page.contains("Эта страница для заявителей"));
    }
);

story!(
    a_person_with_two_staff_records_chooses_one,
    |app: TestApp| async move {
        let school2 = app
            .organization_id("«Средняя школа № 2»")
            .await
            .parse::<i32>()
            .unwrap();
        app.add_staff_record(
            "25276018971",
            ("Орлова", "Татьяна", "Сергеевна"),
            "orlova@school2.example.com",
            "responsible",
            Some(school2),
        )
        .await;
        let client = browser();
        assert_eq!(
            app.login_as(&client, "staff", "staff-school-1").await,
            "/staff/choose"
        );
        let (status, _) = app.get_html(&client, "/staff/inbox").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "no inbox before a choice");
        let (_, page) = app.get_html(&client, "/staff/choose").await;
        assert!(page.contains("«Средняя школа № 1»") && page.contains("«Средняя школа № 2»"));
        let csrf = support::hidden_value(&page, "csrf_token").unwrap();
        let resp = app
            .post_form(
                &client,
                "/staff/choose",
                &[("csrf_token", &csrf), ("staff_id", "999")],
            )
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::NOT_FOUND,
            "only one's own records"
        );
        let ids = appeals::store::staff::active_by_snils(&app.db, "25276018971")
            .await
            .unwrap();
        let second = ids[1].id.to_string();
        let resp = app
            .post_form(
                &client,
                "/staff/choose",
                &[("csrf_token", &csrf), ("staff_id", &second)],
            )
            .await;
        assert_eq!(support::location(&resp), "/staff/inbox");
        let (status, _) = app.get_html(&client, "/staff/inbox").await;
        assert_eq!(status, StatusCode::OK);
    }
);

story!(
    the_operator_inbox_follows_an_appeal_and_a_school_across_municipalities,
    |app: TestApp| async move {
        let number = school1_appeal(&app).await;
        let operator = app.staff("operator-municipal").await;
        let in_inbox = |page: &str| page.contains(&format!("/staff/appeals/{number}\""));
        let (_, page) = app.get_html(&operator, "/staff/inbox").await;
        assert!(
            in_inbox(&page),
            "school 1 is in the operator's municipality"
        );
        let (_, page) = app
            .get_html(&operator, &format!("/staff/inbox?q={}", &number[5..]))
            .await;
        assert!(in_inbox(&page), "found by its sequence number");

        // Forwarded to a school of the Елизовский district: it leaves her inbox.
        let elizovo = app.organization_id("Елизовская средняя школа").await;
        let moved = app
            .staff_action(
                &operator,
                &number,
                "forward",
                &[
                    ("organization_id", &elizovo),
                    ("resolution", "Ребёнок учится в Елизово"),
                ],
            )
            .await;
        assert_eq!(moved.status(), StatusCode::SEE_OTHER);
        let (_, page) = app.get_html(&operator, "/staff/inbox?status=all").await;
        assert!(!in_inbox(&page), "another municipality's appeal now");

        // The school itself moves to her municipality (a directory correction): its
        // appeals come with it.
        app.execute(
            "UPDATE organizations SET municipality_id = \
             (SELECT municipality_id FROM organizations WHERE name LIKE '%Средняя школа № 1%') \
             WHERE id = $1",
            vec![elizovo.parse::<i32>().unwrap().into()],
        )
        .await;
        let (_, page) = app.get_html(&operator, "/staff/inbox?status=all").await;
        assert!(in_inbox(&page), "the moved school's appeals are hers");
    }
);
