//! The confirmation e-mail reaches a real SMTP server; a failing server gets retries and,
//! in the end, a visibly dead message — never a lost one.

use std::sync::{Arc, Mutex};

use crate::support::{self, TestApp, browser};
use base64::Engine;
use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A minimal SMTP server: answers `reply_to_data` after DATA and keeps what it received.
struct SmtpListener {
    port: u16,
    received: Arc<Mutex<Vec<String>>>,
}

async fn smtp_listener(reply_to_data: &'static str) -> SmtpListener {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut in_data = false;
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            store.lock().unwrap().push(std::mem::take(&mut message));
                            write.write_all(reply_to_data.as_bytes()).await.unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split(' ')
                        .next()
                        .unwrap_or_default()
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-test\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    SmtpListener { port, received }
}

/// Decodes RFC 2047 `=?utf-8?b?…?=` words; white space between two encoded words is
/// not part of the text.
fn decode_header(value: &str) -> String {
    let mut out = String::new();
    let mut prev_encoded = false;
    for w in value.split_whitespace() {
        let encoded = w.to_ascii_lowercase().starts_with("=?utf-8?b?") && w.ends_with("?=");
        if !(out.is_empty() || encoded && prev_encoded) {
            out.push(' ');
        }
        if encoded {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&w[10..w.len() - 2])
                .unwrap();
            out.push_str(&String::from_utf8(bytes).unwrap());
        } else {
            out.push_str(w);
        }
        prev_encoded = encoded;
    }
    out
}

/// A header's value with its folded continuation lines.
fn header(raw: &str, name: &str) -> Option<String> {
    let mut lines = raw
        .lines()
        .skip_while(|l| !l.starts_with(&format!("{name}: ")));
    let mut value = lines.next()?[name.len() + 2..].to_string();
    for cont in lines.take_while(|l| l.starts_with(' ') || l.starts_with('\t')) {
        value.push(' ');
        value.push_str(cont.trim());
    }
    Some(value)
}

async fn file_one(app: &TestApp) -> String {
    let mum = browser();
    app.login_as(&mum, "parent", "parent-confirmed").await;
    app.file_appeal(&mum, &app.school1_submission().await).await
}

async fn outbox_state(app: &TestApp) -> (String, i32) {
    use sea_orm::EntityTrait;
    let row = appeals::store::entities::outbox::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    (row.status, row.attempts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmation_reaches_a_real_smtp_server() {
    for backend in [support::Backend::Sqlite, support::Backend::Postgres] {
        let smtp = smtp_listener("250 queued\r\n").await;
        let received = smtp.received.clone();
        let overrides = vec![
            ("mail.transport", "smtp".to_string()),
            ("mail.smtp_url", format!("smtp://127.0.0.1:{}", smtp.port)),
        ];
        support::run(backend, overrides, move |app: TestApp| async move {
            let number = file_one(&app).await;
            let stats = app.drain_mail().await;
            assert_eq!(
                stats.sent, 2,
                "the applicant's confirmation and the school's notice"
            );
            let all = received.lock().unwrap().clone();
            assert_eq!(all.len(), 2);
            let to_staff = all
                .iter()
                .find(|m| header(m, "To").as_deref() == Some("orlova@school1.example.com"));
            let staff_subject =
                decode_header(&header(to_staff.expect("staff notice"), "Subject").unwrap());
            assert_eq!(staff_subject, format!("Новое обращение № {number}"));
            let raw = all
                .into_iter()
                .find(|m| header(m, "To").as_deref() == Some("m.ivanova@example.com"))
                .expect("the applicant's message");
            assert_eq!(header(&raw, "To").as_deref(), Some("m.ivanova@example.com"));
            assert_eq!(
                header(&raw, "Message-ID").as_deref(),
                Some("<appeals-outbox-1@appeals.localhost>")
            );
            let subject = decode_header(&header(&raw, "Subject").unwrap());
            assert_eq!(subject, format!("Обращение № {number} зарегистрировано"));
            assert!(raw.contains("multipart/alternative") && raw.contains("text/html"));
            assert_eq!(outbox_state(&app).await, ("sent".to_string(), 1));
            assert!(
                app.mailbox().await.is_empty(),
                "SMTP mode writes no dev mailbox"
            );
        })
        .await;
    }
}

story!(
    temporary_smtp_failure_is_retried_later,
    overrides = vec![
        ("mail.transport", "smtp".to_string()),
        ("mail.smtp_url", "smtp://127.0.0.1:9".to_string())
    ],
    |app: TestApp| async move {
        file_one(&app).await;
        let stats = app.drain_mail().await;
        assert_eq!(stats.retried, 2);
        assert_eq!(outbox_state(&app).await, ("pending".to_string(), 1));
        assert_eq!(
            app.drain_mail().await,
            Default::default(),
            "not retried before its backoff"
        );
        assert_eq!(
            app.count("appeals").await,
            1,
            "the appeal stands whatever the mail does"
        );
    }
);

story!(
    mail_is_dead_after_the_last_attempt_and_visible,
    overrides = vec![
        ("mail.transport", "smtp".to_string()),
        ("mail.smtp_url", "smtp://127.0.0.1:9".to_string()),
        ("mail.max_attempts", "1".to_string()),
    ],
    |app: TestApp| async move {
        file_one(&app).await;
        assert_eq!(app.drain_mail().await.dead, 2);
        assert_eq!(outbox_state(&app).await, ("dead".to_string(), 1));
        let metrics = app.get(&browser(), "/metrics").await.text().await.unwrap();
        assert!(metrics.contains("outbox_dead 2"), "{metrics}");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_recipient_is_dead_at_once() {
    let smtp = smtp_listener("550 mailbox unavailable\r\n").await;
    let overrides = vec![
        ("mail.transport", "smtp".to_string()),
        ("mail.smtp_url", format!("smtp://127.0.0.1:{}", smtp.port)),
    ];
    support::run(
        support::Backend::Sqlite,
        overrides,
        |app: TestApp| async move {
            file_one(&app).await;
            assert_eq!(
                app.drain_mail().await.dead,
                2,
                "a permanent SMTP error is not retried"
            );
            let (status, _) = outbox_state(&app).await;
            assert_eq!(status, "dead");
        },
    )
    .await;
}

story!(
    an_administrator_puts_dead_mail_back_in_the_queue,
    overrides = vec![
        ("mail.transport", "smtp".to_string()),
        ("mail.smtp_url", "smtp://127.0.0.1:9".to_string()),
        ("mail.max_attempts", "1".to_string()),
    ],
    |app: TestApp| async move {
        let number = file_one(&app).await;
        assert_eq!(app.drain_mail().await.dead, 2);
        // The municipal operator is also the region's administrator.
        let admin = app
            .add_staff_record(
                "47104974689",
                ("Белова", "Наталья", "Андреевна"),
                "belova@edu.example.com",
                "admin",
                None,
            )
            .await;
        let client = browser();
        assert_eq!(
            app.login_as(&client, "staff", "operator-municipal").await,
            "/staff/choose"
        );
        let (_, page) = app.get_html(&client, "/staff/choose").await;
        let csrf = support::hidden_value(&page, "csrf_token").unwrap();
        let admin_id = admin.to_string();
        app.post_form(
            &client,
            "/staff/choose",
            &[
                ("csrf_token", csrf.as_str()),
                ("staff_id", admin_id.as_str()),
            ],
        )
        .await;
        let (status, page) = app.get_html(&client, "/staff/mail").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("не отправлено") && page.contains("m.ivanova@example.com"));
        let resp = app
            .post_form(
                &client,
                "/staff/mail/requeue",
                &[("csrf_token", csrf.as_str())],
            )
            .await;
        assert_eq!(support::location(&resp), "/staff/mail");
        let (_, page) = app.get_html(&client, "/staff/mail").await;
        assert!(page.contains("Поставлено в очередь повторно: 2."));
        assert_eq!(outbox_state(&app).await, ("pending".to_string(), 0));
        let (_, appeal) = app
            .get_html(&client, &format!("/staff/appeals/{number}"))
            .await;
        assert!(
            appeal.contains("поставлено в очередь повторно"),
            "recorded in the history"
        );

        // A school's staff do not see the queue.
        let school = app.staff("staff-school-1").await;
        let (status, _) = app.get_html(&school, "/staff/mail").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);
