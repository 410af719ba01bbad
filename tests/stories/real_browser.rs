//! The main stories in a real browser (headless Chromium through WebDriver), done with the
//! keyboard only (Tab, Enter, Space, arrows). Every page is checked at phone and desktop
//! width for sideways scrolling and with axe-core; screenshots go to target/screenshots/.

use fantoccini::key::Key;

use crate::support::browser::Browser;
use crate::support::{self, TestApp, browser};

/// The entry page's sign-in for `role`, then `persona` on the ESIA emulator (which stands
/// in for Gosuslugi and is not checked itself).
async fn sign_in(b: &mut Browser, role: &str, persona: &str) {
    b.goto("/").await;
    b.check("entry").await;
    b.tab_to_and_press(&format!("a[href=\"/login/esia?role={role}\"]"), Key::Enter)
        .await;
    pick_persona(b, persona).await;
}

async fn pick_persona(b: &Browser, persona: &str) {
    b.tab_to_and_press(&format!("a[href*=\"persona={persona}\"]"), Key::Enter)
        .await;
}

story!(
    a_parent_files_an_appeal_with_the_keyboard,
    |app: TestApp| async move {
        let mut b = Browser::open(&app, "parent").await;
        sign_in(&mut b, "parent", "parent-confirmed").await;
        assert_eq!(b.path().await, "/no-account");
        b.check("no-account").await;
        b.tab_to_and_press("a[href=\"/appeals/new\"]", Key::Enter)
            .await;
        b.check("before-the-form").await;
        b.tab_to_and_press("a[href=\"/appeals/form\"]", Key::Enter)
            .await;
        assert_eq!(
            b.path().await,
            "/appeals/consent",
            "the consent comes first"
        );
        b.check("consent").await;
        b.tab_to_and_press("form[action=\"/appeals/consent\"] button", Key::Enter)
            .await;
        assert_eq!(b.path().await, "/appeals/form");
        b.check("form").await;

        b.tab_to("input[name=child_id][value=\"38420917\"]").await;
        b.press(Key::Space).await;
        b.tab_to("#municipality_id").await;
        b.choose_with_arrows("Петропавловск-Камчатский городской округ")
            .await;
        b.wait_until("document.querySelectorAll('#organization_id option').length > 1")
            .await;
        b.tab_to("#organization_id").await;
        b.choose_with_arrows("МАОУ «Средняя школа № 1» г. Петропавловска-Камчатского")
            .await;
        b.wait_until("document.querySelectorAll('#class_id option').length > 1")
            .await;
        b.tab_to("#class_id").await;
        b.choose_with_arrows("7а").await;
        b.tab_to("#comment").await;
        b.type_text("Не могу войти в дневник сына").await;
        b.check("form-filled").await;
        b.tab_to_and_press("#appeal-form button.primary", Key::Enter)
            .await;

        assert_eq!(b.text("h1").await, "Проверьте данные");
        b.check("check").await;
        b.tab_to_and_press("button[name=confirm]", Key::Enter).await;
        let path = b.path().await;
        let number = path
            .strip_prefix("/appeals/")
            .unwrap_or_else(|| panic!("filed: {path}"))
            .to_string();
        assert!(b.source().await.contains("Обращение зарегистрировано"));
        b.check("registered").await;

        app.drain_mail().await;
        let mail = app.mail_to("m.ivanova@example.com").await;
        assert!(mail.iter().any(|m| m.subject.contains(&number)));
        b.goto("/dev/mailbox").await;
        assert!(
            b.source().await.contains(&number),
            "the e-mail is in /dev/mailbox"
        );
        b.close().await;
    }
);

story!(
    staff_fix_and_link_with_the_keyboard,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-typo").await;
        let s = support::Submission {
            child_id: "38421002".into(),
            ..app.school1_submission().await
        };
        let number = app.file_appeal(&mum, &s).await;

        let mut b = Browser::open(&app, "staff").await;
        sign_in(&mut b, "staff", "staff-school-1").await;
        assert_eq!(b.path().await, "/staff/inbox");
        b.check("inbox").await;
        b.tab_to_and_press(&format!("a[href=\"/staff/appeals/{number}\"]"), Key::Enter)
            .await;
        b.check("appeal").await;
        b.tab_to_and_press("table.candidates button.primary", Key::Enter)
            .await;
        assert!(b.source().await.contains("Исправить запись и связать"));
        b.check("confirm-link").await;
        b.tab_to_and_press("button.primary[type=submit]", Key::Enter)
            .await;
        assert_eq!(b.path().await, format!("/staff/appeals/{number}"));
        let page = b.source().await;
        assert!(page.contains("Заявитель связан с записью организации"));
        assert!(page.contains("Решено"));
        b.check("linked").await;
        b.close().await;

        let again = browser();
        assert_eq!(app.login_as(&again, "parent", "parent-typo").await, "/home");
    }
);

story!(
    the_email_link_lands_on_the_appeal_after_login,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let number = app.file_appeal(&mum, &app.school1_submission().await).await;

        let mut b = Browser::open(&app, "email-link").await;
        b.goto(&format!("/appeals/{number}")).await;
        assert!(b.source().await.contains(&format!(
            "Чтобы посмотреть обращение № {number}, войдите через Госуслуги."
        )));
        b.check("login-needed").await;
        b.tab_to_and_press("a[href^=\"/login/esia?role=parent\"]", Key::Enter)
            .await;
        pick_persona(&b, "parent-confirmed").await;
        assert_eq!(b.path().await, format!("/appeals/{number}"));
        b.check("appeal-after-login").await;
        b.close().await;
    }
);

story!(
    those_who_cannot_file_learn_why_where_they_land,
    |app: TestApp| async move {
        let mut b = Browser::open(&app, "refusals").await;
        for (role, persona, reason) in [
            (
                "parent",
                "parent-unconfirmed",
                "подтверждённой учётной записью",
            ),
            (
                "parent",
                "parent-no-kids",
                "сведения по детским учетным записям",
            ),
            ("student", "student-12", "младше 14 лет"),
        ] {
            sign_in(&mut b, role, persona).await;
            assert_eq!(b.path().await, "/no-account");
            let page = b.source().await;
            assert!(page.contains(reason), "{persona}: {reason}");
            assert!(!page.contains("href=\"/appeals/new\""));
            b.check(&format!("no-account-{persona}")).await;
            b.goto("/appeals/new").await;
            b.check(&format!("refusal-{persona}")).await;
        }
        b.close().await;
    }
);
