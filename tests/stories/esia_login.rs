//! The ESIA round trip on the real protocol, and every way it can fail: each failure is a
//! Russian page, never a 500.

use crate::support::{self, TestApp, browser, location};
use reqwest::StatusCode;

story!(
    forged_or_replayed_state_is_refused,
    |app: TestApp| async move {
        let client = browser();
        let callback = app
            .esia_callback(&client, "parent", "parent-confirmed")
            .await;
        let forged = callback.replace("state=", "state=0");
        let (status, page) = app.get_html(&client, &forged).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("Ссылка входа устарела"));
        // The state was spent by the forged attempt: the genuine callback is now void too.
        let (status, _) = app.get_html(&client, &callback).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // A callback that arrives in another browser has no state at all.
        let other = browser();
        let callback = app
            .esia_callback(&other, "parent", "parent-confirmed")
            .await;
        let (status, _) = app.get_html(&browser(), &callback).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
);

story!(
    a_reused_esia_code_is_rejected_by_esia,
    |app: TestApp| async move {
        let client = browser();
        let callback = app
            .esia_callback(&client, "parent", "parent-confirmed")
            .await;
        assert_eq!(location(&app.get(&client, &callback).await), "/no-account");
        // Start a new login, then present the old code with the new state.
        let authorize = app.authorize_url(&client, "parent").await;
        let state = url::Url::parse(&authorize)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.to_string())
            .unwrap();
        let old_code = url::Url::parse(&callback)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.to_string())
            .unwrap();
        let replay = app.path(&format!(
            "/login/esia/callback?code={old_code}&state={state}"
        ));
        let (status, page) = app.get_html(&client, &replay).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert!(page.contains("устарел или уже использован"), "{page}");
    }
);

story!(
    user_who_denies_access_gets_a_clear_page,
    |app: TestApp| async move {
        let client = browser();
        let authorize = app.authorize_url(&client, "parent").await;
        let (status, chooser) = app.get_html(&client, &authorize).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            chooser.contains("parent-confirmed") && chooser.contains("operator-municipal"),
            "persona chooser"
        );
        let resp = app.get(&client, &format!("{authorize}&deny=1")).await;
        let callback = location(&resp);
        assert!(callback.contains("ESIA-007004"));
        let (status, page) = app.get_html(&client, &callback).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(page.contains("Вход отменён"));
        for role in ["parent", "student", "staff"] {
            assert!(
                page.contains(&format!("href=\"/login/esia?role={role}\"")),
                "a new sign-in in any role, nothing of the failed one carried over"
            );
        }
    }
);

story!(
    emulator_checks_the_request_before_any_persona,
    |app: TestApp| async move {
        let client = browser();
        let authorize = app.authorize_url(&client, "parent").await;
        let url = url::Url::parse(&authorize).unwrap();
        let with = |key: &str, value: &str| {
            let mut u = url.clone();
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        if k == key {
                            value.to_string()
                        } else {
                            v.to_string()
                        },
                    )
                })
                .collect();
            u.query_pairs_mut()
                .clear()
                .extend_pairs(pairs)
                .append_pair("persona", "parent-confirmed");
            u.to_string()
        };
        let cases = [
            ("timestamp", "2020.01.01 00:00:00 +0300", "ESIA-007015"),
            ("client_secret", "AAAA", "ESIA-007053"),
            ("scope", "openid fullname superpowers", "ESIA-007006"),
            ("client_certificate_hash", "00", "ESIA-007053"),
            ("state", "", "ESIA-007014"),
        ];
        for (key, value, code) in cases {
            let resp = app.get(&client, &with(key, value)).await;
            assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{key}");
            assert!(
                location(&resp).contains(code),
                "{key} → {code}: {}",
                location(&resp)
            );
        }
        // With a foreign redirect_uri ESIA does not redirect at all.
        let resp = app
            .get(&client, &with("redirect_uri", "https://evil.example/cb"))
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.text().await.unwrap().contains("ESIA-007023"));
        // The genuine request still works afterwards.
        let resp = app
            .get(&client, &format!("{authorize}&persona=parent-confirmed"))
            .await;
        assert!(location(&resp).contains("code="));
    }
);

story!(
    a_token_signed_by_another_key_is_rejected,
    overrides = vec![(
        "esia.verifier",
        "ed25519:BT+znhK4YHP7VgTxPEypUTD6HjMrsN5dQ6AcAKD4jwA=".to_string()
    )],
    |app: TestApp| async move {
        let client = browser();
        let callback = app
            .esia_callback(&client, "parent", "parent-confirmed")
            .await;
        refused_as_unverifiable(&app, &client, &callback).await;
    }
);

/// ESIA's answer could not be verified: a clear page, and nobody signed in.
async fn refused_as_unverifiable(app: &TestApp, client: &reqwest::Client, callback: &str) {
    let (status, page) = app.get_html(client, callback).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("Не удалось проверить подлинность ответа Госуслуг"));
    let (status, _) = app.get_html(client, "/appeals/new").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "nobody was signed in");
}

story!(
    unreachable_esia_is_a_clear_page,
    overrides = vec![
        ("esia.base_url", "http://127.0.0.1:9".to_string()),
        ("esia.timeout_secs", "2".to_string())
    ],
    |app: TestApp| async move {
        let client = browser();
        // The browser reaches the emulator; the server's own calls go to a closed port.
        let authorize = app
            .authorize_url(&client, "parent")
            .await
            .replace("http://127.0.0.1:9", &app.path("/esia-emulator"));
        let resp = app
            .get(&client, &format!("{authorize}&persona=parent-confirmed"))
            .await;
        let (status, page) = app.get_html(&client, &location(&resp)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.contains("Портал Госуслуг сейчас недоступен"));
    }
);

story!(
    logout_ends_the_session_here_and_at_esia,
    |app: TestApp| async move {
        let client = browser();
        app.login_as(&client, "parent", "parent-confirmed").await;
        let (_, page) = app.get_html(&client, "/no-account").await;
        let csrf = support::hidden_value(&page, "csrf_token").unwrap();
        let without_csrf = app.post_form(&client, "/logout", &[]).await;
        assert_eq!(without_csrf.status(), StatusCode::FORBIDDEN);
        let resp = app
            .post_form(&client, "/logout", &[("csrf_token", &csrf)])
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let target = location(&resp);
        assert!(
            target.contains("/esia-emulator/idp/ext/Logout?client_id=SCHL41001&redirect_url="),
            "{target}"
        );
        assert_eq!(location(&app.get(&client, &target).await), app.path("/"));
        let (status, _) = app.get_html(&client, "/no-account").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.count("sessions").await, 0, "the session row is gone");
    }
);

story!(session_id_is_renewed_at_login, |app: TestApp| async move {
    let client = browser();
    let anonymous = app.get(&client, "/").await;
    assert!(
        anonymous.headers().get("set-cookie").is_none(),
        "no session for a mere visit"
    );
    // The login itself opens the session (it holds the ESIA `state`).
    let start = app.get(&client, "/login/esia?role=parent").await;
    let before = start
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap();
    let authorize = support::location(&start);
    let callback = support::location(
        &app.get(&client, &format!("{authorize}&persona=parent-confirmed"))
            .await,
    );
    let resp = app.get(&client, &callback).await;
    let after = resp
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap();
    let id = |c: &str| c.split(';').next().unwrap().to_string();
    assert_ne!(id(&before), id(&after));
    assert!(after.contains("HttpOnly") && after.contains("SameSite=Lax"));
});

story!(unknown_role_is_a_clear_error, |app: TestApp| async move {
    let (status, page) = app.get_html(&browser(), "/login/esia?role=admin").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Выберите, кто входит"));
});

story!(
    logout_after_the_session_expired_still_works,
    |app: TestApp| async move {
        let client = browser();
        let resp = app
            .post_form(&client, "/logout", &[("csrf_token", "stale")])
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&resp), "/");
    }
);

story!(
    the_link_in_an_email_lands_on_the_appeal_after_login,
    |app: TestApp| async move {
        let mum = browser();
        app.login_as(&mum, "parent", "parent-confirmed").await;
        let number = app.file_appeal(&mum, &app.school1_submission().await).await;
        app.drain_mail().await;
        let mail = app.mail_to("m.ivanova@example.com").await;
        let link = format!("{}/appeals/{number}", app.url);
        assert!(mail[0].text.contains(&link), "the e-mail links the appeal");

        // Another browser (the mail app's), nobody signed in.
        let phone = browser();
        let (status, page) = app.get_html(&phone, &link).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(page.contains(&format!(
            "Чтобы посмотреть обращение № {number}, войдите через Госуслуги."
        )));
        let login = format!("/login/esia?role=parent&amp;next=%2Fappeals%2F{number}");
        assert!(page.contains(&login), "{page}");
        assert_eq!(
            app.sign_in_from(&phone, &login, "parent-confirmed").await,
            format!("/appeals/{number}")
        );
        let (status, _) = app.get_html(&phone, &format!("/appeals/{number}")).await;
        assert_eq!(status, StatusCode::OK);

        // Staff links work the same way, and a foreign site is never a landing.
        let desk = browser();
        let (status, page) = app
            .get_html(&desk, &format!("/staff/appeals/{number}"))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let login = format!("/login/esia?role=staff&amp;next=%2Fstaff%2Fappeals%2F{number}");
        assert!(page.contains(&login));
        assert_eq!(
            app.sign_in_from(&desk, &login, "staff-school-1").await,
            format!("/staff/appeals/{number}")
        );
        let evil = browser();
        assert_eq!(
            app.sign_in_from(
                &evil,
                "/login/esia?role=parent&next=%2F%2Fevil.example%2Fappeals%2F",
                "parent-confirmed"
            )
            .await,
            "/no-account"
        );
    }
);

/// ESIA's RS256 keys before and after a certificate rotation (published test keys).
const RS256_BOTH: &str =
    "rs256:config/test-keys/esia-rs256-previous.crt;rs256:config/test-keys/esia-rs256.crt";

story!(
    a_region_on_rs256_signs_in_through_a_certificate_rotation,
    overrides = vec![
        (
            "emulator.signing_key",
            "rs256:config/test-keys/esia-rs256.key".to_string()
        ),
        ("esia.verifier", RS256_BOTH.to_string()),
    ],
    |app: TestApp| async move {
        let client = browser();
        assert_eq!(
            app.login_as(&client, "parent", "parent-confirmed").await,
            "/no-account"
        );
        let (status, _) = app.get_html(&client, "/appeals/new").await;
        assert_eq!(status, StatusCode::OK, "signed in");
    }
);

story!(
    a_token_of_an_algorithm_without_a_key_is_refused,
    overrides = vec![
        ("emulator.signing_key", "rs256:config/test-keys/esia-rs256.key".to_string()),
        (
            "esia.verifier",
            "rs256:config/test-keys/esia-rs256-previous.crt;ed25519:0y21WCZgeOEeNCDc2tCfXTSgahZc2ikInp6dObKQAUs="
                .to_string()
        ),
    ],
    |app: TestApp| async move {
        // Only the old RS256 certificate: the new one's tokens do not verify.
        let client = browser();
        let callback = app
            .esia_callback(&client, "parent", "parent-confirmed")
            .await;
        refused_as_unverifiable(&app, &client, &callback).await;
    }
);

story!(
    gost_tokens_are_checked_through_the_verifier_command,
    overrides = vec![
        (
            "emulator.signing_key",
            "command:python3 tests/fixtures/gost_sign.py".to_string()
        ),
        (
            "esia.verifier",
            "command:python3 tests/fixtures/gost_verify.py".to_string()
        ),
    ],
    |app: TestApp| async move {
        let client = browser();
        assert_eq!(
            app.login_as(&client, "parent", "parent-confirmed").await,
            "/no-account"
        );
    }
);
