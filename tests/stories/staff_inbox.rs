//! The inbox under load: Cyrillic search with «ё» = «е», keyset pages that stay stable
//! while appeals arrive, filters, counts, and duplicate folding.

use crate::support::{self, TestApp, browser};
use appeals::domain::applicant::{Applicant, Child, Identity, LoginRole};
use appeals::domain::names::PersonName;
use appeals::workflow::applicant::{self, AppealForm, Selection, Submission};
use chrono::NaiveDate;
use reqwest::StatusCode;

/// Files an appeal through the submission use case (what `POST /appeals` runs) for a
/// distinct parent and child.
async fn seed_appeal(app: &TestApp, i: usize, org: i32, class: i32) -> String {
    let child = Child {
        esia_id: format!("{i}"),
        name: PersonName::new("Кузьмин", &format!("Ученик{i}"), ""),
        birth_date: NaiveDate::from_ymd_opt(2014, 1, 1).unwrap(),
        snils: None,
    };
    let applicant = Applicant {
        identity: Identity {
            oid: format!("9000{i}"),
            role: LoginRole::Parent,
            name: PersonName::new("Кузьмина", "Анна", "Петровна"),
            birth_date: NaiveDate::from_ymd_opt(1985, 1, 1).unwrap(),
            snils: None,
            email: None,
            unverified_email: None,
            confirmed: true,
        },
        kids: vec![child],
    };
    let wf = &app.workflow;
    applicant::give_consent(wf, &applicant).await.unwrap();
    let selection = Selection {
        organization_id: Some(org),
        ..Default::default()
    };
    let form = applicant::form_choices(wf, &applicant, selection, None)
        .await
        .unwrap();
    let submitted = applicant::submit(
        wf,
        &applicant,
        &AppealForm {
            child_id: Some(format!("{i}")),
            org_type: Some("general".into()),
            organization_id: Some(org),
            class_id: Some(class),
            comment: String::new(),
            submission_id: form.submission_id,
            repeat_reason: String::new(),
            confirmed: true,
            contact_email: format!("parent{i}@example.com"),
        },
    )
    .await
    .unwrap();
    match submitted {
        Submission::Registered(number) => number,
        _ => panic!("appeal {i} registered"),
    }
}

/// School № 1 and its class 5а, where the seeded appeals go.
async fn school1_5a(app: &TestApp) -> (i32, i32) {
    let org = app.organization_id("«Средняя школа № 1»").await;
    let class = app.class_id(&org, "5а").await;
    (org.parse().unwrap(), class.parse().unwrap())
}

fn numbers_on(page: &str) -> Vec<String> {
    regex_lite::Regex::new(r#"href="/staff/appeals/(\d{4}-\d{6})""#)
        .unwrap()
        .captures_iter(page)
        .map(|c| c[1].to_string())
        .collect()
}

fn next_link(page: &str) -> Option<String> {
    regex_lite::Regex::new(r#"href="(/staff/inbox\?[^"]*cursor=[^"]*)""#)
        .unwrap()
        .captures(page)
        .map(|c| c[1].replace("&amp;", "&").replace("&#38;", "&"))
}

story!(
    pages_stay_stable_while_appeals_arrive,
    |app: TestApp| async move {
        let (org, class) = school1_5a(&app).await;
        let mut filed = Vec::new();
        for i in 0..60 {
            filed.push(seed_appeal(&app, i, org, class).await);
        }
        let staff = app.staff("staff-school-1").await;
        let (_, first) = app.get_html(&staff, "/staff/inbox").await;
        let page1 = numbers_on(&first);
        assert_eq!(page1.len(), 50);
        assert!(first.contains("Зарегистрировано: 60"), "counts per status");
        // New appeals arrive between the two pages.
        for i in 60..65 {
            filed.push(seed_appeal(&app, i, org, class).await);
        }
        let next = next_link(&first).expect("a next page");
        let (_, second) = app.get_html(&staff, &next).await;
        let page2 = numbers_on(&second);
        let mut seen: Vec<String> = page1.iter().chain(page2.iter()).cloned().collect();
        assert_eq!(seen.len(), 65, "nothing skipped, nothing twice");
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 65);
        assert_eq!(page1[..], filed[..50], "oldest first");
        assert!(next_link(&second).is_none());
        let (status, _) = app
            .get_html(&staff, "/staff/inbox?cursor=bm90LWEtY3Vyc29y")
            .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a stale or forged cursor is a clear error"
        );
    }
);

story!(
    search_is_cyrillic_and_yo_insensitive,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let number = app.file_appeal(&mum, &app.school1_submission().await).await;
        let staff = app.staff("staff-school-1").await;
        for q in [
            "артем",
            "АРТЁМ",
            "Иванов Артём",
            "ИВАНОВА  мария",
            "иванова мария петровна",
            // A whole ФИО being typed: its last word only begun.
            "иванова мария пет",
            &number,
            &number[5..],
            // Its sequence without the zeros, and the start of the number.
            "1",
            &number[..9],
        ] {
            let url = format!(
                "/staff/inbox?q={}",
                url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            );
            let (_, page) = app.get_html(&staff, &url).await;
            assert!(
                numbers_on(&page).contains(&number),
                "search {q:?} finds the appeal"
            );
        }
        // Several words are words of the name in their order, not any piece of it.
        for q in [
            "смирнов",
            "2025-000001",
            "2",
            "-0000",
            "%",
            "_",
            "мария иванова",
            "ванова мария",
        ] {
            let url = format!(
                "/staff/inbox?q={}",
                url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            );
            let (status, page) = app.get_html(&staff, &url).await;
            assert_eq!(status, StatusCode::OK);
            assert!(numbers_on(&page).is_empty(), "search {q:?} finds nothing");
        }
    }
);

story!(filters_and_duplicate_folding, |app: TestApp| async move {
    let mum = browser();
    app.login_as(&mum, "parent", "parent-confirmed").await;
    let s = app.school1_submission().await;
    let first = app.file_appeal(&mum, &s).await;
    let second = app.file_again(&mum, &s, "Не получили ответ").await;
    let staff = app.staff("staff-school-1").await;
    let (_, inbox) = app.get_html(&staff, "/staff/inbox").await;
    assert_eq!(
        numbers_on(&inbox),
        std::slice::from_ref(&first),
        "two open appeals about Артём fold into one row"
    );
    assert!(inbox.contains("+1"));
    assert!(
        inbox.contains("Открытые: 1 группа · 2 обращения"),
        "the tab says what folding hides"
    );
    let (_, page) = app
        .get_html(&staff, &format!("/staff/appeals/{first}"))
        .await;
    assert!(
        page.contains(&second),
        "the appeal page lists the other one"
    );

    let resp = app
        .staff_action(&staff, &first, "assign", &[("staff_id", "me")])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, by_name) = app
        .get_html(&staff, "/staff/inbox?q=%D0%B0%D1%80%D1%82%D0%B5%D0%BC")
        .await;
    assert_eq!(
        numbers_on(&by_name).len(),
        2,
        "search finds the newer duplicate too"
    );
    let (_, mine) = app.get_html(&staff, "/staff/inbox?assignee=me").await;
    assert_eq!(numbers_on(&mine), std::slice::from_ref(&first));
    let (_, unassigned) = app.get_html(&staff, "/staff/inbox?assignee=none").await;
    assert!(!numbers_on(&unassigned).contains(&first));
    let (_, overdue) = app.get_html(&staff, "/staff/inbox?overdue=1").await;
    assert!(numbers_on(&overdue).is_empty(), "nothing is overdue yet");
    let today = support::local_now().format("%Y-%m-%d").to_string();
    let (_, dated) = app
        .get_html(&staff, &format!("/staff/inbox?from={today}&to={today}"))
        .await;
    assert_eq!(
        numbers_on(&dated).len(),
        2,
        "a narrowed view shows every match, unfolded"
    );
    let (_, other_class) = app
        .get_html(
            &staff,
            &format!(
                "/staff/inbox?class_id={}",
                app.class_id(&s.organization_id, "1а").await
            ),
        )
        .await;
    assert!(numbers_on(&other_class).is_empty());
    for bad in [
        "status=closed",
        "from=23.11.2026",
        "assignee=nobody",
        "class_id=x",
    ] {
        let (status, page) = app.get_html(&staff, &format!("/staff/inbox?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(page.contains("Ошибка в запросе"));
    }
});

/// Statements the application has sent to its database so far (`/metrics`).
async fn queries_so_far(app: &TestApp) -> u64 {
    let (_, metrics) = app.get_html(&browser(), "/metrics").await;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("db_statement_duration_seconds_count "))
        .and_then(|n| n.parse().ok())
        .expect("db_statement_duration_seconds_count in /metrics")
}

/// Queries one inbox page costs the operator.
async fn inbox_cost(app: &TestApp, operator: &reqwest::Client) -> (u64, usize) {
    let before = queries_so_far(app).await;
    let (status, page) = app.get_html(operator, "/staff/inbox").await;
    assert_eq!(status, StatusCode::OK);
    (queries_so_far(app).await - before, numbers_on(&page).len())
}

story!(
    an_operator_page_costs_the_same_for_one_school_or_many,
    |app: TestApp| async move {
        let operator = app.staff("operator-municipal").await;
        let mut schools = Vec::new();
        for (name, class) in [
            ("«Средняя школа № 1»", "5а"),
            ("«Средняя школа № 2»", "7а"),
            ("«Основная школа № 3»", "9а"),
        ] {
            let org: i32 = app.organization_id(name).await.parse().unwrap();
            let class: i32 = app.class_id(&org.to_string(), class).await.parse().unwrap();
            schools.push((org, class));
        }
        let first = seed_appeal(&app, 0, schools[0].0, schools[0].1).await;
        // The first visit sets the session up; the second is the steady cost.
        inbox_cost(&app, &operator).await;
        let (one_school, rows) = inbox_cost(&app, &operator).await;
        assert_eq!(rows, 1);
        assert!(
            one_school > 2,
            "the counter sees the page's queries: {one_school}"
        );

        for i in 1..40 {
            let (org, class) = schools[i % schools.len()];
            seed_appeal(&app, i, org, class).await;
        }
        // Assigned appeals show their assignee's name, which is not the operator's.
        let school1 = app.staff("staff-school-1").await;
        let resp = app
            .staff_action(&school1, &first, "assign", &[("staff_id", "me")])
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (many_schools, rows) = inbox_cost(&app, &operator).await;
        assert_eq!(rows, 40);
        assert_eq!(
            one_school, many_schools,
            "one page costs the same number of queries for 1 row in 1 school as for 40 in 3"
        );
    }
);

story!(
    the_inbox_sorts_by_due_date_and_still_pages,
    |app: TestApp| async move {
        let (org, class) = school1_5a(&app).await;
        let mut filed = Vec::new();
        for i in 0..55 {
            filed.push(seed_appeal(&app, i, org, class).await);
        }
        // The newest appeal has the nearest deadline (as an extension would leave another).
        let latest = filed.last().unwrap().clone();
        let sql = format!(
            "UPDATE appeals SET due_at = (SELECT MIN(created_at) FROM appeals) \
             WHERE number = '{latest}'"
        );
        sea_orm::ConnectionTrait::execute_unprepared(&app.db, &sql)
            .await
            .unwrap();
        let staff = app.staff("staff-school-1").await;
        let (_, queue) = app.get_html(&staff, "/staff/inbox").await;
        assert_eq!(numbers_on(&queue)[0], filed[0], "the queue: oldest first");
        assert!(queue.contains("href=\"/staff/inbox?sort=due\""));
        let (_, by_due) = app.get_html(&staff, "/staff/inbox?sort=due").await;
        let first_page = numbers_on(&by_due);
        assert_eq!(first_page[0], latest, "the nearest deadline first");
        assert!(by_due.contains("aria-sort=\"ascending\""));
        let next = next_link(&by_due).expect("a second page");
        assert!(next.contains("sort=due"));
        let (_, second) = app.get_html(&staff, &next).await;
        let mut all: Vec<String> = first_page.into_iter().chain(numbers_on(&second)).collect();
        assert_eq!(all.len(), 55);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 55, "nothing twice, nothing skipped");
    }
);

story!(
    ticked_appeals_are_assigned_and_rejected_together_after_a_confirmation,
    |app: TestApp| async move {
        let (org, class) = school1_5a(&app).await;
        let mut filed = Vec::new();
        for i in 0..3 {
            filed.push(seed_appeal(&app, i, org, class).await);
        }
        let staff = app.staff("staff-school-1").await;
        let (_, inbox) = app.get_html(&staff, "/staff/inbox").await;
        assert!(inbox.contains("С отмеченными"));
        let csrf = support::hidden_value(&inbox, "csrf_token").unwrap();
        let ticked = [
            ("csrf_token", csrf.as_str()),
            ("n", filed[0].as_str()),
            ("n", filed[1].as_str()),
            ("action", "assign"),
            ("staff_id", "me"),
        ];
        let resp = app.post_form(&staff, "/staff/inbox/bulk", &ticked).await;
        assert_eq!(resp.status(), StatusCode::OK, "a confirmation first");
        let page = resp.text().await.unwrap();
        assert!(page.contains("Назначить исполнителем себя"));
        assert!(page.contains(&filed[0]) && page.contains(&filed[1]) && !page.contains(&filed[2]));
        let (_, mine) = app.get_html(&staff, "/staff/inbox?assignee=me").await;
        assert!(numbers_on(&mine).is_empty(), "nothing changed yet");

        // «Подтвердить» sends what the confirmation showed, versions included; an appeal a
        // colleague changes meanwhile is left as it is.
        let version_of = |number: &str| {
            regex_lite::Regex::new(&format!(r#"name="v" value="{number}:(\d+)""#))
                .unwrap()
                .captures(&page)
                .map(|c| c[1].to_string())
                .expect("the version shown")
        };
        let (v0, v1) = (version_of(&filed[0]), version_of(&filed[1]));
        let colleague = app.staff("staff-school-1").await;
        let note = [("status", "in_progress")];
        app.staff_action(&colleague, &filed[1], "status", &note)
            .await;
        let (first_v, second_v) = (format!("{}:{v0}", filed[0]), format!("{}:{v1}", filed[1]));
        let mut confirmed = ticked.to_vec();
        confirmed.extend([
            ("v", first_v.as_str()),
            ("v", second_v.as_str()),
            ("confirm", "1"),
        ]);
        let resp = app.post_form(&staff, "/staff/inbox/bulk", &confirmed).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (_, inbox) = app.get_html(&staff, "/staff/inbox?assignee=me").await;
        assert!(inbox.contains("Изменено обращений: 1."));
        assert!(inbox.contains(&format!(
            "№ {} не изменено: Обращение уже изменил",
            filed[1]
        )));
        assert_eq!(numbers_on(&inbox), filed[..1]);
        let again = [ticked.as_slice(), &[("confirm", "1")]].concat();
        app.post_form(&staff, "/staff/inbox/bulk", &again).await;
        let (_, inbox) = app.get_html(&staff, "/staff/inbox?assignee=me").await;
        assert_eq!(numbers_on(&inbox), filed[..2]);

        let reject = [
            ("csrf_token", csrf.as_str()),
            ("n", filed[1].as_str()),
            ("n", filed[2].as_str()),
            ("action", "status"),
            ("status", "rejected"),
            ("text", "Ребёнок не обучается в школе"),
            ("confirm", "1"),
        ];
        app.post_form(&staff, "/staff/inbox/bulk", &reject).await;
        let (_, inbox) = app.get_html(&staff, "/staff/inbox?status=rejected").await;
        assert!(inbox.contains("Изменено обращений: 2."));
        assert_eq!(numbers_on(&inbox).len(), 2);
        // Again: they are closed now, and each says so instead of changing.
        app.post_form(&staff, "/staff/inbox/bulk", &reject).await;
        let (_, inbox) = app.get_html(&staff, "/staff/inbox").await;
        assert!(inbox.contains("Изменено обращений: 0."));
        assert!(inbox.contains(&format!("№ {} не изменено: Нельзя перевести", filed[1])));

        // Another school's appeal ticked by a forged form is simply not there.
        let other = app.staff("staff-school-2").await;
        let (_, page) = app.get_html(&other, "/staff/inbox").await;
        let csrf2 = support::hidden_value(&page, "csrf_token").unwrap();
        let forged = [
            ("csrf_token", csrf2.as_str()),
            ("n", filed[0].as_str()),
            ("action", "assign"),
            ("staff_id", "me"),
            ("confirm", "1"),
        ];
        app.post_form(&other, "/staff/inbox/bulk", &forged).await;
        let (_, page) = app.get_html(&other, "/staff/inbox").await;
        assert!(page.contains(&format!(
            "№ {} не изменено: Обращение не найдено.",
            filed[0]
        )));
    }
);

story!(
    the_inbox_exports_to_xlsx_and_csv_as_it_lists,
    |app: TestApp| async move {
        let parent = browser();
        app.login_as(&parent, "parent", "parent-confirmed").await;
        let first = app
            .file_appeal(&parent, &app.school1_submission().await)
            .await;
        let again = app
            .file_again(
                &parent,
                &app.school1_submission().await,
                "Первое обращение подано с ошибкой",
            )
            .await;
        let staff = app.staff("staff-school-1").await;
        let (_, inbox) = app.get_html(&staff, "/staff/inbox?status=all").await;
        let link = regex_lite::Regex::new(r#"href="(/staff/inbox/export\?[^"]*format=xlsx)""#)
            .expect("regex")
            .captures(&inbox)
            .map(|c| c[1].replace("&#38;", "&"))
            .expect("the export link");
        let resp = app.get(&staff, &link).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let bytes = resp.bytes().await.expect("xlsx");
        let path = app.file("export.xlsx", &bytes);
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).expect("an XLSX file");
        use calamine::Reader;
        let range = book
            .worksheet_range_at(0)
            .expect("a sheet")
            .expect("readable");
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(rows[0][0], "Номер");
        assert_eq!(rows[0][7], "Заявитель");
        let numbers: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        // Both appeals about Артём, though the inbox folds them into one line.
        assert!(
            numbers.contains(&first.as_str()) && numbers.contains(&again.as_str()),
            "{numbers:?}"
        );
        assert_eq!(rows[1][7], "Иванова Мария Петровна");
        assert!(
            rows.iter()
                .all(|r| !r.iter().any(|c| c.contains("134-587-260"))),
            "no СНИЛС"
        );

        let csv_link = link.replace("format=xlsx", "format=csv");
        let csv = app.get(&staff, &csv_link).await;
        assert_eq!(csv.status(), StatusCode::OK);
        let bytes = csv.bytes().await.expect("csv");
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
        let text = String::from_utf8_lossy(&bytes[3..]).into_owned();
        assert!(text.contains(&first) && text.contains(&again), "{text}");
        assert_eq!(text.lines().count(), rows.len());
    }
);

story!(
    operators_see_the_dashboard_of_their_scope,
    |app: TestApp| async move {
        let parent = browser();
        app.login_as(&parent, "parent", "parent-confirmed").await;
        let number = app
            .file_appeal(&parent, &app.school1_submission().await)
            .await;
        let school1 = app.organization_id("«Средняя школа № 1»").await;

        let operator = app.staff("operator-municipal").await;
        let (status, page) = app.get_html(&operator, "/staff/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("Сводка по обращениям") && page.contains("Средняя школа № 1"),
            "{page}"
        );
        assert!(
            page.contains("<dt>Всего обращений</dt><dd>1</dd>"),
            "the one appeal filed, counted once: {page}"
        );
        assert!(
            page.contains("ответов ещё не было"),
            "no time to answer before the first answer: {page}"
        );
        let staff = app.staff("staff-school-1").await;
        let answer = [
            ("status", "rejected"),
            ("resolution", "Не относится к школе"),
        ];
        let resp = app.staff_action(&staff, &number, "status", &answer).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let (_, page) = app.get_html(&operator, "/staff/dashboard").await;
        assert!(
            page.contains("медиана 0,0 дн., 90-й процентиль 0,0 дн. (ответов: 1)"),
            "{page}"
        );
        assert!(
            page.contains("<svg") && page.contains("<rect"),
            "a chart drawn on the server"
        );
        assert!(
            page.contains("Время до ответа") && !page.contains("<script"),
            "{page}"
        );
        // A school's row leads to its appeals.
        let link = format!("/staff/inbox?status=all&amp;organization_id={school1}");
        assert!(page.contains(&link), "{page}");
        let (_, inbox) = app.get_html(&operator, &link.replace("&amp;", "&")).await;
        assert!(inbox.contains(&number), "{inbox}");

        // A responsible employee has the inbox, not the dashboard.
        let staff = app.staff("staff-school-1").await;
        let (status, _) = app.get_html(&staff, "/staff/dashboard").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
);

/// (organization, status or `_groups`, n) as the triggers keep them, and as counting the
/// appeals themselves gives them.
pub(crate) async fn kept_and_counted(
    app: &TestApp,
) -> (Vec<(i32, String, i64)>, Vec<(i32, String, i64)>) {
    use sea_orm::ConnectionTrait;
    let open = "('new', 'in_progress', 'needs_info', 'forwarded')";
    let rows = |sql: String| async move {
        let db = &app.db;
        let found = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sql,
            ))
            .await
            .expect("counts");
        let mut out: Vec<(i32, String, i64)> = found
            .iter()
            .map(|r| {
                (
                    r.try_get("", "org").unwrap(),
                    r.try_get("", "status").unwrap(),
                    r.try_get("", "n").unwrap(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let kept = rows(
        "SELECT organization_id AS org, status, CAST(SUM(n) AS BIGINT) AS n FROM appeal_counts \
         GROUP BY organization_id, status HAVING SUM(n) <> 0"
            .into(),
    )
    .await;
    let counted = rows(format!(
        "SELECT organization_id AS org, status, COUNT(*) AS n FROM appeals GROUP BY organization_id, status \
         UNION ALL SELECT organization_id, '_groups', COUNT(DISTINCT CASE WHEN subject_key = '' \
         THEN 'appeal ' || CAST(id AS TEXT) ELSE subject_key END) FROM appeals WHERE status IN {open} \
         GROUP BY organization_id"
    ))
    .await;
    (kept, counted)
}

story!(
    the_tab_counts_stay_exact_through_filing_folding_answering_and_forwarding,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let s = app.school1_submission().await;
        let first = app.file_appeal(&mum, &s).await;
        let second = app.file_again(&mum, &s, "Не получили ответ").await;
        let (kept, counted) = kept_and_counted(&app).await;
        assert_eq!(kept, counted, "two appeals about Артём: one group");
        assert!(
            kept.iter().any(|(_, s, n)| s == "_groups" && *n == 1),
            "{kept:?}"
        );

        let staff = app.staff("staff-school-1").await;
        let (_, inbox) = app.get_html(&staff, "/staff/inbox").await;
        assert!(inbox.contains("1 группа · 2 обращения"), "{inbox}");
        app.staff_action(
            &staff,
            &second,
            "status",
            &[("status", "rejected"), ("resolution", "Повтор")],
        )
        .await;
        let elizovo = app.organization_id("Елизовская средняя школа").await;
        app.staff_action(
            &staff,
            &first,
            "forward",
            &[
                ("organization_id", &elizovo),
                ("resolution", "Не наш ученик"),
            ],
        )
        .await;
        let (kept, counted) = kept_and_counted(&app).await;
        assert_eq!(kept, counted, "after an answer and a forwarding");
        let (_, inbox) = app.get_html(&staff, "/staff/inbox?status=all").await;
        assert!(!numbers_on(&inbox).contains(&first), "forwarded away");
    }
);
