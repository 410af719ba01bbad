//! 59-ФЗ terms as staff and applicants see them: registered, due (on the production
//! calendar), extended once with a reason the applicant is e-mailed, answered; the inbox
//! picks out what is overdue and what expires within three working days.

use chrono::{Datelike, Utc};
use reqwest::StatusCode;

use crate::staff_workplace::{file_as, staff_on};
use crate::support::{TestApp, browser, location};

/// Moves an appeal's due date (as if it had been filed earlier).
async fn set_due(app: &TestApp, number: &str, due: chrono::DateTime<Utc>) {
    let sql = "UPDATE appeals SET due_at = $1 WHERE number = $2";
    app.execute(sql, vec![due.into(), number.into()]).await;
}

/// The appeal's due date as the region reads it, from the database.
async fn due_day(app: &TestApp, number: &str) -> chrono::NaiveDate {
    let a = appeals::store::appeals::by_number(&app.db, number)
        .await
        .expect("read")
        .expect("appeal");
    a.due_at.with_timezone(&app.workflow.offset()).date_naive()
}

story!(
    staff_extend_the_answer_term_once_and_the_applicant_is_told,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        let due = due_day(&app, &number).await;
        let today = Utc::now()
            .with_timezone(&app.workflow.offset())
            .date_naive();
        assert!((due - today).num_days() >= 30, "30 days or more: {due}");
        assert!(
            !matches!(due.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun)
                || app.workflow.deadlines().calendar.is_working(due),
            "the last day is a working day: {due}"
        );
        let (staff, page) = staff_on(&app, &number).await;
        let shown = due.format("%d.%m.%Y").to_string();
        assert!(
            page.contains("Зарегистрировано") && page.contains(&format!("до {shown}")),
            "{page}"
        );

        // Without a reason the extension is refused next to its form.
        let resp = app
            .staff_action(&staff, &number, "extend", &[("reason", " ")])
            .await;
        let page = resp.text().await.expect("page");
        assert!(page.contains("Укажите причину продления"), "{page}");

        let resp = app
            .staff_action(
                &staff,
                &number,
                "extend",
                &[("reason", "Запрошены сведения у школы № 2")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let extended = due_day(&app, &number).await;
        assert!((extended - due).num_days() >= 30, "{due} → {extended}");
        let until = extended.format("%d.%m.%Y").to_string();
        let (_, page) = app.get_html(&staff, &location(&resp)).await;
        assert!(
            page.contains(&format!("Срок ответа продлён до {until}")),
            "{page}"
        );
        assert!(
            page.contains("Продлён до") && page.contains("Запрошены сведения у школы № 2"),
            "{page}"
        );
        assert!(!page.contains("extend-form"), "no second extension offered");

        app.drain_mail().await;
        let mail = app.mail_to("m.ivanova@example.com").await;
        assert!(
            mail.iter()
                .any(|m| m.subject.contains(&format!("продлён до {until}"))
                    && m.text.contains("Запрошены сведения у школы № 2")),
            "the applicant is told the new date and why"
        );

        // A second extension (a stale page, a crafted form) is refused.
        let resp = app
            .staff_action(&staff, &number, "extend", &[("reason", "Ещё раз")])
            .await;
        let page = resp.text().await.expect("page");
        assert!(page.contains("только один раз"), "{page}");
        assert_eq!(due_day(&app, &number).await, extended);

        // The applicant sees the new term; once answered, the answer's time instead.
        let parent = browser();
        app.login_as(&parent, "parent", "parent-confirmed").await;
        let (_, mine) = app.get_html(&parent, &format!("/appeals/{number}")).await;
        assert!(
            mine.contains("Продлён до") && mine.contains(&until),
            "{mine}"
        );
        app.staff_action(
            &staff,
            &number,
            "status",
            &[
                ("status", "rejected"),
                ("resolution", "Не относится к школе"),
            ],
        )
        .await;
        let (_, mine) = app.get_html(&parent, &format!("/appeals/{number}")).await;
        assert!(mine.contains("Ответ дан"), "{mine}");
    }
);

story!(
    the_inbox_picks_out_what_expires_within_three_working_days,
    |app: TestApp| async move {
        let soon = file_as(&app, "parent-confirmed", "38420917").await;
        let late = file_as(&app, "parent-confirmed", "38420955").await;
        let later = file_as(&app, "parent-linked", "38421001").await;
        let now = Utc::now();
        let deadlines = app.workflow.deadlines();
        for (number, due) in [
            (
                &soon,
                deadlines.soon_horizon(now) - chrono::Duration::hours(1),
            ),
            (&late, now - chrono::Duration::days(1)),
        ] {
            set_due(&app, number, due).await;
        }
        let staff = app.staff("staff-school-1").await;
        let (status, page) = app.get_html(&staff, "/staff/inbox?due_soon=1").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&soon) && page.contains("истекает"), "{page}");
        assert!(!page.contains(&late) && !page.contains(&later), "{page}");
        let (_, page) = app.get_html(&staff, "/staff/inbox?overdue=1").await;
        assert!(page.contains(&late) && !page.contains(&soon), "{page}");
        let (_, all) = app.get_html(&staff, "/staff/inbox").await;
        assert!(all.contains(r#"class="due-soon""#) && all.contains(r#"class="overdue""#));
    }
);

story!(
    the_morning_deadline_digest_goes_out_once_with_two_instances,
    |app: TestApp| async move {
        let overdue = file_as(&app, "parent-confirmed", "38420917").await;
        let soon = file_as(&app, "parent-confirmed", "38420955").await;
        let d = app.workflow.deadlines();
        // 9 o'clock of the next working day, in the region.
        let today = Utc::now().with_timezone(&d.offset).date_naive();
        let morning = d
            .calendar
            .next_working(today.succ_opt().expect("tomorrow"))
            .and_hms_opt(9, 0, 0)
            .expect("9:00")
            .and_local_timezone(d.offset)
            .single()
            .expect("a moment")
            .with_timezone(&Utc);
        for (number, due) in [
            (&overdue, morning - chrono::Duration::days(1)),
            (&soon, d.soon_horizon(morning) - chrono::Duration::hours(1)),
        ] {
            set_due(&app, number, due).await;
        }
        // A second instance on the same database, sending at the same moment.
        let second = appeals::workflow::Workflow::new(app.db.clone(), app.url.clone(), d.offset)
            .configured(d.calendar.clone(), d.rules, None);
        let send = appeals::workflow::escalation::send_daily;
        let (one, two) = tokio::join!(send(&app.workflow, morning, 8), send(&second, morning, 8));
        assert_eq!(
            one.expect("first") + two.expect("second"),
            2,
            "one digest per person"
        );
        assert_eq!(
            send(&app.workflow, morning, 8).await.expect("again"),
            0,
            "once a day"
        );

        // Queued for the morning in question: read from the outbox.
        let digest_of = |to: &'static str| {
            let db = app.db.clone();
            async move {
                use appeals::store::entities::outbox;
                use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
                outbox::Entity::find()
                    .filter(outbox::Column::Kind.eq("staff_deadlines"))
                    .filter(outbox::Column::Recipient.eq(to))
                    .all(&db)
                    .await
                    .expect("outbox")
            }
        };
        let school = digest_of("orlova@school1.example.com").await;
        assert_eq!(school.len(), 1);
        let text = &school[0].body_text;
        assert!(text.contains(&overdue) && text.contains(&soon), "{text}");
        let operator = digest_of("belova@edu.example.com").await;
        assert_eq!(operator.len(), 1);
        let text = &operator[0].body_text;
        assert!(text.contains(&overdue) && !text.contains(&soon), "{text}");
        assert!(digest_of("nikitin@school2.example.com").await.is_empty());

        // Not on a day off, and not before the hour.
        let new_year = chrono::NaiveDate::from_ymd_opt(2027, 1, 1)
            .and_then(|day| day.and_hms_opt(9, 0, 0))
            .and_then(|t| t.and_local_timezone(d.offset).single())
            .map(|t| t.with_timezone(&Utc))
            .expect("a moment");
        assert_eq!(send(&app.workflow, new_year, 8).await.expect("holiday"), 0);
        let early = morning + chrono::Duration::days(7) - chrono::Duration::hours(3);
        assert_eq!(send(&app.workflow, early, 8).await.expect("early"), 0);
    }
);
