//! The link in every e-mail to the applicant shows the appeal's status without a login,
//! and nothing of the applicant; a tampered or expired link is an ordinary 404.

use reqwest::StatusCode;

use crate::staff_workplace::{file_as, staff_on};
use crate::support::{TestApp, browser};

story!(
    the_status_link_shows_the_status_and_nothing_of_the_applicant,
    |app: TestApp| async move {
        let number = file_as(&app, "parent-confirmed", "38420917").await;
        app.drain_mail().await;
        let mail = app.mail_to("m.ivanova@example.com").await;
        let text = &mail.first().expect("the registration mail").text;
        let link = regex_lite::Regex::new(r"Статус без входа на Госуслуги: (\S+)")
            .expect("regex")
            .captures(text)
            .map(|c| c[1].to_string())
            .expect("a status link in the mail");
        assert!(link.contains("/s/"), "{link}");

        // Anybody with the link, no login.
        let (status, page) = app.get_html(&browser(), &link).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(&number) && page.contains("Средняя школа № 1"),
            "{page}"
        );
        assert!(
            page.contains("Зарегистрировано") && page.contains("Срок ответа"),
            "{page}"
        );
        for private in [
            "Иванова",
            "Мария",
            "Артём",
            "134-587-260",
            "m.ivanova@example.com",
        ] {
            assert!(!page.contains(private), "{private} is not on the page");
        }

        // A tampered tag, or the tag on another number: not found.
        let mut tampered = link.clone();
        let last = tampered.pop().expect("a character");
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        let (status, _) = app.get_html(&browser(), &tampered).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let other = link.replace(&number, "2026-999999");
        let (status, _) = app.get_html(&browser(), &other).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Answered, the link shows the answer; 90 days after the answer it is gone.
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
        let (_, page) = app.get_html(&browser(), &link).await;
        assert!(
            page.contains("Обращение не по адресу") && page.contains("Ответ дан"),
            "{page}"
        );
        let long_ago = chrono::Utc::now() - chrono::Duration::days(91);
        let sql = "UPDATE appeals SET answered_at = $1 WHERE number = $2";
        app.execute(sql, vec![long_ago.into(), number.clone().into()])
            .await;
        let (status, _) = app.get_html(&browser(), &link).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);
