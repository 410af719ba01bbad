//! A region loads its data from the school system's exports with `appeals import`: the
//! directory of organizations and classes today. Each story runs the real binary on the
//! story's database with a file the story writes, in the formats the school system and
//! Excel produce.

use crate::support::xls::{XlsCell, workbook};
use crate::support::{TestApp, browser};

/// The directory as the school system exports it: title rows above the header, `;`,
/// Windows-1251 (what Excel saves «CSV» as on a Russian Windows).
fn directory_csv(rows: &[[&str; 8]]) -> Vec<u8> {
    let mut lines = vec![
        "Выгрузка справочника ОО;;;;;;;".to_string(),
        ";;;;;;;".to_string(),
        "Регион;Муниципальный район;Населённый пункт;Организация;Краткое наименование;Тип;Код;Классы"
            .to_string(),
    ];
    lines.extend(rows.iter().map(|r| r.join(";")));
    cp1251_csv(&lines.iter().map(String::as_str).collect::<Vec<_>>())
}

const ELIZOVO_3: [&str; 8] = [
    "Камчатский край",
    "Елизовский муниципальный район",
    "г. Елизово",
    "МБОУ «Елизовская средняя школа № 3»",
    "ЕСШ № 3",
    "общеобразовательная",
    "41003",
    "1а, 2а, 2б",
];

const SOLNYSHKO: [&str; 8] = [
    "Камчатский край",
    "Елизовский муниципальный район",
    "п. Раздольный",
    "МБДОУ «Детский сад № 5 «Солнышко»»",
    "",
    "Дошкольная",
    "41005",
    "",
];

/// The organizations the public API lists for a name.
async fn listed(app: &TestApp, name: &str) -> Vec<serde_json::Value> {
    browser()
        .get(app.path("/api/v1/organizations"))
        .query(&[("q", name)])
        .send()
        .await
        .expect("organizations")
        .json()
        .await
        .expect("json")
}

story!(
    a_region_loads_its_directory_and_parents_find_the_new_school,
    |app| async move {
        let file = app.file("directory.csv", &directory_csv(&[ELIZOVO_3, SOLNYSHKO]));
        let organizations = app.count("organizations").await;

        let (ok, report) = app.cli(&["import", "directory", &file, "--dry-run"]).await;
        assert!(ok, "{report}");
        assert!(report.contains("Проверка без записи"), "{report}");
        assert!(
            report.contains("Добавлено: 2, изменено: 0, без изменений: 0, отклонено строк: 0"),
            "{report}"
        );
        assert_eq!(
            app.count("organizations").await,
            organizations,
            "a dry run writes nothing"
        );

        let (ok, report) = app.cli(&["import", "directory", &file]).await;
        assert!(ok, "{report}");
        assert!(
            report.contains("Записано.") && report.contains("+ 41003"),
            "{report}"
        );
        assert_eq!(app.count("organizations").await, organizations + 2);
        let found = listed(&app, "Елизовская средняя школа № 3").await;
        assert_eq!(found.len(), 1, "{found:?}");
        let id = found[0]["id"].to_string();
        for class in ["1а", "2а", "2б"] {
            app.class_id(&id, class).await;
        }

        let (ok, report) = app.cli(&["import", "directory", &file]).await;
        assert!(ok, "{report}");
        assert!(
            report.contains("Добавлено: 0, изменено: 0, без изменений: 2"),
            "{report}"
        );
        assert_eq!(
            app.count("organizations").await,
            organizations + 2,
            "idempotent"
        );
    }
);

story!(
    the_same_directory_as_xlsx_changes_only_what_differs,
    |app| async move {
        let csv = app.file("directory.csv", &directory_csv(&[ELIZOVO_3]));
        assert!(app.cli(&["import", "directory", &csv]).await.0);
        let organizations = app.count("organizations").await;

        // The school got a new name and a class; the workbook has no «Краткое наименование»
        // column, so the short name stays.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let rows = [
            [
                "Код ОО",
                "Регион",
                "Муниципальный район",
                "Населенный пункт",
                "Наименование организации",
                "Тип ОО",
                "Классы",
            ],
            [
                "41003",
                "Камчатский край",
                "Елизовский муниципальный район",
                "г. Елизово",
                "МАОУ «Елизовская средняя школа № 3»",
                "Общеобразовательная",
                "1а, 2а, 2б, 3а",
            ],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                sheet
                    .write_string(r as u32, c as u16, *value)
                    .expect("cell");
            }
        }
        let xlsx = app.file("directory.xlsx", &book.save_to_buffer().expect("xlsx"));

        let (ok, report) = app.cli(&["import", "directory", &xlsx]).await;
        assert!(ok, "{report}");
        assert!(report.contains("изменено: 1"), "{report}");
        assert!(
        report.contains("Наименование: «МБОУ «Елизовская средняя школа № 3»» → «МАОУ «Елизовская средняя школа № 3»»"),
        "{report}"
    );
        assert!(
            report.contains("Классы: «1а, 2а, 2б» → «1а, 2а, 2б + 3а»"),
            "{report}"
        );
        assert!(!report.contains("Краткое наименование"), "{report}");
        assert_eq!(
            app.count("organizations").await,
            organizations,
            "updated in place"
        );
        let (ok, report) = app.cli(&["import", "directory", &xlsx]).await;
        assert!(ok && report.contains("без изменений: 1"), "{report}");
    }
);

story!(
    one_bad_row_refuses_the_file_and_skip_invalid_loads_the_rest,
    |app| async move {
        let mut unknown_type = SOLNYSHKO;
        unknown_type[5] = "вуз";
        let mut twice = SOLNYSHKO;
        twice[3] = "Другое имя";
        let file = app.file(
            "directory.csv",
            &directory_csv(&[ELIZOVO_3, unknown_type, twice]),
        );
        let organizations = app.count("organizations").await;

        let (ok, report) = app.cli(&["import", "directory", &file]).await;
        assert!(!ok, "{report}");
        assert!(
            report.contains("строка 5, столбец «Тип», значение «вуз»: неизвестный тип"),
            "{report}"
        );
        assert!(
            report.contains(
                "строка 6, столбец «Код», значение «41005»: этот код уже встречался в строке 5"
            ),
            "{report}"
        );
        assert!(report.contains("Ничего не записано"), "{report}");
        assert_eq!(
            app.count("organizations").await,
            organizations,
            "all or nothing"
        );

        let (ok, report) = app
            .cli(&["import", "directory", &file, "--skip-invalid"])
            .await;
        assert!(ok, "{report}");
        assert!(
            report.contains("Добавлено: 1") && report.contains("отклонено строк: 2"),
            "{report}"
        );
        assert_eq!(app.count("organizations").await, organizations + 1);
    }
);

story!(
    files_that_cannot_be_read_are_refused_in_plain_words,
    |app| async move {
        let no_code = app.file(
            "wrong.csv",
            "Регион;Организация\nКрай;Гимназия-призрак\n".as_bytes(),
        );
        let (ok, said) = app.cli(&["import", "directory", &no_code]).await;
        assert!(!ok);
        assert!(
            said.contains("в файле нет обязательных столбцов: «Муниципальный район», «Тип», «Код»"),
            "{said}"
        );
        assert!(
            said.contains("Найдены заголовки: «Регион», «Организация»"),
            "{said}"
        );

        let fake = app.file("export.xlsx", b"this is not a workbook");
        let (ok, said) = app.cli(&["import", "directory", &fake]).await;
        assert!(
            !ok && said.contains("файл не удалось прочитать как таблицу Excel"),
            "{said}"
        );

        let pdf = app.file("export.pdf", b"%PDF-1.4");
        let (ok, said) = app.cli(&["import", "directory", &pdf]).await;
        assert!(!ok && said.contains("нужен .xls, .xlsx или .csv"), "{said}");
        assert!(!said.contains("panicked"), "{said}");
        assert!(
            listed(&app, "Гимназия-призрак").await.is_empty(),
            "nothing of a refused file is listed"
        );
    }
);

story!(
    imported_staff_sign_in_and_work_the_new_school,
    |app| async move {
        let staff_file = |rows: &[&str]| {
            let mut text = "СНИЛС;Фамилия;Имя;Отчество;Роль;Код организации;E-mail\n".to_string();
            text.push_str(&rows.join("\n"));
            text.into_bytes()
        };
        // Никитин (staff-school-2 in the emulator) also answers for school 1 now, and one row
        // has a mistyped СНИЛС: the file is refused as a whole.
        let nikitin = "555-979-711 67;Никитин;Игорь;Валерьевич;ответственный;school-1;nikitin@school1.example.com";
        let typo = "555-979-711 68;Никитин;Игорь;Валерьевич;администратор школы;school-1;";
        let records = app.count("staff").await;
        let refused = app.file("staff-typo.csv", &staff_file(&[nikitin, typo]));
        let (ok, report) = app.cli(&["import", "staff", &refused]).await;
        assert!(!ok, "{report}");
        assert!(report.contains("строка 3, столбец «СНИЛС», значение «555-979-711 68»: контрольное число СНИЛС не совпадает"), "{report}");
        assert_eq!(app.count("staff").await, records, "all or nothing");

        let file = app.file("staff.csv", &staff_file(&[nikitin]));
        let (ok, report) = app.cli(&["import", "staff", &file]).await;
        assert!(
            ok && report.contains(
                "+ Никитин Игорь Валерьевич, ответственный сотрудник, организация school-1"
            ),
            "{report}"
        );
        let (ok, report) = app.cli(&["import", "staff", &file]).await;
        assert!(ok && report.contains("без изменений: 1"), "{report}");
        assert_eq!(app.count("staff").await, records + 1);

        // A parent files at school 1; Никитин signs in, chooses his new record and opens it.
        let parent = browser();
        app.login_as(&parent, "parent", "parent-confirmed").await;
        let number = app
            .file_appeal(&parent, &app.school1_submission().await)
            .await;
        let nikitin = browser();
        assert_eq!(
            app.login_as(&nikitin, "staff", "staff-school-2").await,
            "/staff/choose"
        );
        let (_, page) = app.get_html(&nikitin, "/staff/choose").await;
        assert!(page.contains("Ответственный сотрудник"), "{page}");
        let csrf = crate::support::hidden_value(&page, "csrf_token").expect("csrf");
        let record = appeals::store::staff::active_by_snils(&app.db, "55597971167")
            .await
            .expect("staff records")
            .into_iter()
            .map(|r| r.id)
            .max()
            .expect("the imported record");
        let record = record.to_string();
        app.post_form(
            &nikitin,
            "/staff/choose",
            &[("csrf_token", csrf.as_str()), ("staff_id", record.as_str())],
        )
        .await;
        let (status, page) = app
            .get_html(&nikitin, &format!("/staff/appeals/{number}"))
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{page}");
    }
);

story!(
    the_school_systems_xls_export_loads_like_the_csv,
    |app| async move {
        // The «Пакетное обновление» format: Excel 97-2003, a title row, the code as a number.
        let t = XlsCell::Text;
        let rows = vec![
            vec![t("Справочник образовательных организаций")],
            vec![
                t("Код"),
                t("Регион"),
                t("Муниципальный район"),
                t("Населённый пункт"),
                t("Организация"),
                t("Тип"),
                t("Классы"),
            ],
            vec![
                XlsCell::Number(41007.0),
                t("Камчатский край"),
                t("Елизовский муниципальный район"),
                t("с. Коряки"),
                t("МБОУ «Коряковская средняя школа»"),
                t("общеобразовательная"),
                t("1а; 9а"),
            ],
        ];
        let xls = app.file("export.xls", &workbook(&rows));
        let (ok, report) = app.cli(&["import", "directory", &xls]).await;
        assert!(ok, "{report}");
        assert!(
            report.contains("+ 41007 «МБОУ «Коряковская средняя школа»», классов: 2"),
            "{report}"
        );
        let found = listed(&app, "Коряковская").await;
        assert_eq!(found.len(), 1, "{found:?}");
        app.class_id(&found[0]["id"].to_string(), "9а").await;

        let mut csv = ELIZOVO_3;
        csv[3] = "МБОУ «Коряковская средняя школа»";
        csv[2] = "с. Коряки";
        csv[4] = "";
        csv[6] = "41007";
        csv[7] = "9а";
        let same = app.file("export.csv", &directory_csv(&[csv]));
        let (ok, report) = app.cli(&["import", "directory", &same]).await;
        assert!(
            ok && report.contains("без изменений: 1"),
            "the .csv of the same data changes nothing: {report}"
        );
    }
);

/// `appeals import roster --organization ORG FILE [flags]` on the story's database.
async fn import_roster(app: &TestApp, org: &str, file: &str, flags: &[&str]) -> (bool, String) {
    let mut args = vec!["import", "roster", "--organization", org, file];
    args.extend_from_slice(flags);
    app.cli(&args).await
}

/// School 1's roster as the school system exports it, with the mother of Артём added in
/// the «Родитель 1» columns (dates as Excel dates, a title row above the header).
pub(crate) fn school1_roster(with_mother: bool) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("dd.mm.yyyy");
    let header = [
        "Фамилия",
        "Имя",
        "Отчество",
        "Дата рождения",
        "Пол",
        "СНИЛС",
        "Класс",
        "Родитель 1: Фамилия",
        "Родитель 1: Имя",
        "Родитель 1: Отчество",
        "Родитель 1: Дата рождения",
        "Родитель 1: СНИЛС",
        "Родитель 1: E-mail",
        "Родитель 1: Телефон",
    ];
    sheet
        .write_string(0, 0, "Пакетное обновление: 7а, 7б")
        .expect("title");
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(1, c as u16, *h).expect("header");
    }
    let date = |d: &str| rust_xlsxwriter::ExcelDateTime::parse_from_str(d).expect("date");
    let mother: [&str; 6] = if with_mother {
        [
            "Иванова",
            "Мария",
            "Петровна",
            "1986-03-14",
            "134-587-260 76",
            "m.ivanova@example.com",
        ]
    } else {
        ["", "", "", "", "", ""]
    };
    let rows: [([&str; 7], [&str; 6]); 2] = [
        (
            [
                "Иванов",
                "Артём",
                "Сергеевич",
                "2014-05-12",
                "М",
                "152-908-374 75",
                "7а",
            ],
            mother,
        ),
        (
            [
                "Петрова",
                "Дарья",
                "Алексеевна",
                "2013-09-21",
                "",
                "083-016-613 36",
                "7б",
            ],
            [
                "Петров",
                "Алексей",
                "Николаевич",
                "1982-07-02",
                "526-018-159 61",
                "",
            ],
        ),
    ];
    for (r, (student, parent)) in rows.iter().enumerate() {
        let r = r as u32 + 2;
        for (c, v) in student.iter().enumerate() {
            if c == 3 {
                sheet
                    .write_datetime_with_format(r, 3, date(v), &date_format)
                    .expect("date");
            } else {
                sheet.write_string(r, c as u16, *v).expect("cell");
            }
        }
        for (c, v) in parent.iter().enumerate() {
            let c = c as u16 + 7;
            if c == 10 && !v.is_empty() {
                sheet
                    .write_datetime_with_format(r, c, date(v), &date_format)
                    .expect("date");
            } else if !v.is_empty() {
                sheet.write_string(r, c, *v).expect("cell");
            }
        }
    }
    book.save_to_buffer().expect("xlsx")
}

story!(
    a_roster_import_adds_the_missing_parent_who_then_gets_in,
    |app| async move {
        // Иванова is not on school 1's roster: she lands on «Запись не найдена» and files.
        let mother = browser();
        assert_eq!(
            app.login_as(&mother, "parent", "parent-confirmed").await,
            "/no-account"
        );
        let number = app
            .file_appeal(&mother, &app.school1_submission().await)
            .await;

        let people = app.count("roster_persons").await;
        let file = app.file("school1.xlsx", &school1_roster(true));
        let (ok, report) = import_roster(&app, "school-1", &file, &["--dry-run"]).await;
        assert!(ok, "{report}");
        assert!(
            report.contains("Добавлено: 1, изменено: 1, без изменений: 2"),
            "{report}"
        );
        assert!(
            report.contains("Пол: «» → «М»"),
            "the school system's gender is new here: {report}"
        );
        assert!(
            report.contains("+ Родитель Иванова Мария Петровна, 14.03.1986"),
            "{report}"
        );
        assert!(
            report.contains("Нет в файле (оставлены как есть; отправить их в архив можно")
                && report.contains("(--archive-missing)): 1")
                && report.contains("Смирнов Кирилл Андреевич"),
            "{report}"
        );
        assert_eq!(
            app.count("roster_persons").await,
            people,
            "a dry run writes nothing"
        );

        let (ok, report) = import_roster(&app, "school-1", &file, &[]).await;
        assert!(ok && report.contains("Записано."), "{report}");
        assert_eq!(app.count("roster_persons").await, people + 1);
        let (ok, report) = import_roster(&app, "school-1", &file, &[]).await;
        assert!(
            ok && report.contains("Добавлено: 0, изменено: 0, без изменений: 4"),
            "{report}"
        );

        // Her next sign-in finds her on the roster, tied to Артём: home, and the appeal is
        // answered.
        let again = browser();
        assert_eq!(
            app.login_as(&again, "parent", "parent-confirmed").await,
            "/home"
        );
        let (_, page) = app.get_html(&again, &format!("/appeals/{number}")).await;
        assert!(page.contains("Решено"), "{page}");
    }
);

story!(
    a_roster_file_of_another_school_is_refused_whole,
    |app| async move {
        let people = app.count("roster_persons").await;
        let file = app.file("school1.xlsx", &school1_roster(false));
        let (ok, report) = import_roster(&app, "school-2", &file, &[]).await;
        assert!(!ok, "{report}");
        assert!(
            report.contains(
                "строка 4, столбец «Класс», значение «7б»: такого класса нет у организации"
            ),
            "{report}"
        );
        assert!(report.contains("Ничего не записано"), "{report}");
        assert_eq!(app.count("roster_persons").await, people);
        let (ok, said) = import_roster(&app, "school-99", &file, &[]).await;
        assert!(
            !ok && said.contains("организации «school-99» нет в справочнике"),
            "{said}"
        );
    }
);

/// School 1's roster with Кирилл and his mother as the school system still has her:
/// «Алена», born 19.01.1989 (staff corrected both through an appeal).
fn school1_roster_before_the_fix() -> Vec<u8> {
    cp1251_csv(&[
        "Фамилия;Имя;Отчество;Дата рождения;Класс;Родитель 1: Фамилия;Родитель 1: Имя;Родитель 1: Отчество;Родитель 1: Дата рождения",
        "Смирнов;Кирилл;Андреевич;08.02.2015;5а;Смирнова;Алена;Викторовна;19.01.1989",
    ])
}

/// A CSV file as Excel saves it on a Russian Windows: Windows-1251, CRLF.
fn cp1251_csv(lines: &[&str]) -> Vec<u8> {
    encoding_rs::WINDOWS_1251
        .encode(&lines.join("\r\n"))
        .0
        .into_owned()
}

story!(
    an_import_never_silently_undoes_a_fix_that_let_a_parent_in,
    |app| async move {
        // Staff fix «Алена» → «Елена» (and the birth date) through her appeal and link her.
        let number = crate::staff_workplace::file_as(&app, "parent-typo", "38421002").await;
        let (staff, page) = crate::staff_workplace::staff_on(&app, &number).await;
        let person = crate::support::hidden_value(&page, "roster_person_id").expect("candidate");
        let fixed = app
            .link_confirmed(
                &staff,
                &number,
                &[("mode", "fix"), ("roster_person_id", &person)],
                &[],
            )
            .await
            .1;
        assert_eq!(fixed.status(), reqwest::StatusCode::SEE_OTHER);

        // The fix goes back to the school as a file in the roster layout, which reads back
        // as it is.
        let handback = app.dir_path("handback.csv");
        let (ok, said) = app
            .cli(&[
                "export",
                "roster-changes",
                "--organization",
                "school-1",
                "--out",
                &handback,
            ])
            .await;
        assert!(ok && said.contains("Записано строк: 1"), "{said}");
        let later = app.dir_path("later.xlsx");
        let (ok, said) = app
            .cli(&[
                "export",
                "roster-changes",
                "--organization",
                "school-1",
                "--since",
                "2099-01-01",
                "--out",
                &later,
            ])
            .await;
        assert!(
            ok && said.contains("Записано строк: 0"),
            "nothing since then: {said}"
        );
        let written = std::fs::read_to_string(&handback).expect("the hand-back file");
        assert!(
            written.contains("Смирнов;Кирилл;Андреевич;08.02.2015"),
            "{written}"
        );
        assert!(
            written.contains("Смирнова;Елена;Викторовна;19.01.1988"),
            "{written}"
        );
        let (ok, report) = import_roster(&app, "school-1", &handback, &["--dry-run"]).await;
        assert!(
            ok && report.contains("Добавлено: 0, изменено: 0"),
            "{report}"
        );

        // The school re-imports before applying the fix in its own system.
        let file = app.file("school1.csv", &school1_roster_before_the_fix());
        let people = app.count("roster_persons").await;
        let (ok, report) = import_roster(&app, "school-1", &file, &[]).await;
        assert!(ok, "{report}");
        assert!(report.contains("Конфликты"), "{report}");
        assert!(
            report.contains(
                "ФИО: здесь «Смирнова Елена Викторовна», в файле «Смирнова Алена Викторовна»"
            ),
            "{report}"
        );
        assert!(
            report.contains("Дата рождения: здесь «19.01.1988», в файле «19.01.1989»"),
            "{report}"
        );
        assert_eq!(
            app.count("roster_persons").await,
            people,
            "no second mother is added"
        );
        // She still gets in as herself.
        let mother = browser();
        assert_eq!(
            app.login_as(&mother, "parent", "parent-typo").await,
            "/home"
        );

        // Told to, the import takes the file's values.
        let (ok, report) = import_roster(&app, "school-1", &file, &["--prefer-file"]).await;
        assert!(ok, "{report}");
        assert!(
            report.contains("ФИО: «Смирнова Елена Викторовна» → «Смирнова Алена Викторовна»"),
            "{report}"
        );
    }
);

/// Иванова files about Артём at school 1, then the school imports a roster that has her:
/// her browser, the appeal's number and the import's report.
async fn mother_files_then_school_lists_her(app: &TestApp) -> (reqwest::Client, String, String) {
    let mother = browser();
    app.login_as(&mother, "parent", "parent-confirmed").await;
    let number = app
        .file_appeal(&mother, &app.school1_submission().await)
        .await;
    let file = app.file("school1.xlsx", &school1_roster(true));
    let (ok, report) = import_roster(app, "school-1", &file, &[]).await;
    assert!(ok, "{report}");
    (mother, number, report)
}

story!(
    staff_link_an_appeal_the_roster_import_made_match,
    |app| async move {
        let (mother, number, report) = mother_files_then_school_lists_her(&app).await;
        assert!(
            report.contains(&format!(
                "заявитель которых теперь совпадает с записью в списке: {number}"
            )),
            "{report}"
        );

        // The school's inbox marks it, and «Связать и закрыть» leads to the confirmation.
        let staff = app.staff("staff-school-1").await;
        let (_, inbox) = app.get_html(&staff, "/staff/inbox").await;
        assert!(
            inbox.contains("теперь совпадает с записью в списке"),
            "{inbox}"
        );
        let form = format!("id=\"link-{number}\"");
        let at = inbox.find(&form).expect("the «Связать и закрыть» form");
        let form_html = &inbox[at..];
        let field = |name: &str| crate::support::hidden_value(form_html, name).expect(name);
        let (csrf, version, person) = (
            field("csrf_token"),
            field("version"),
            field("roster_person_id"),
        );
        let confirm = app
            .post_form(
                &staff,
                &format!("/staff/appeals/{number}/link"),
                &[
                    ("csrf_token", &csrf),
                    ("version", &version),
                    ("mode", "fix"),
                    ("roster_person_id", &person),
                ],
            )
            .await;
        assert_eq!(confirm.status(), reqwest::StatusCode::OK);
        let page = confirm.text().await.expect("confirmation");
        assert!(page.contains("Подтвердить"), "{page}");
        let (_, done) = app
            .link_confirmed(
                &staff,
                &number,
                &[("mode", "fix"), ("roster_person_id", &person)],
                &[],
            )
            .await;
        assert_eq!(done.status(), reqwest::StatusCode::SEE_OTHER);
        let (_, page) = app.get_html(&mother, &format!("/appeals/{number}")).await;
        assert!(page.contains("Решено"), "{page}");
        let (_, inbox) = app.get_html(&staff, "/staff/inbox").await;
        assert!(
            !inbox.contains("теперь совпадает"),
            "answered appeals lose the mark"
        );
    }
);

story!(
    files_that_leave_things_out_never_duplicate_or_wipe,
    |app| async move {
        // A staff file without the e-mail column keeps the e-mails.
        let staff = app.file(
        "staff.csv",
        "СНИЛС;Фамилия;Имя;Отчество;Роль;Код организации\n252-760-189 71;Орлова;Татьяна;Сергеевна;ответственный;school-1\n"
            .as_bytes(),
    );
        let (ok, report) = app.cli(&["import", "staff", &staff]).await;
        assert!(ok && report.contains("без изменений: 1"), "{report}");

        // A roster without the «Отчество» column would make everyone new: refused.
        let no_middle = app.file(
            "no-middle.csv",
            "Фамилия;Имя;Дата рождения;Класс\nИванов;Артём;12.05.2014;7а\n".as_bytes(),
        );
        let (ok, said) = import_roster(&app, "school-1", &no_middle, &[]).await;
        assert!(!ok && said.contains("«Отчество»"), "{said}");

        // A parent first listed without a СНИЛС, then with one, stays one person.
        let people = app.count("roster_persons").await;
        let header = "Фамилия;Имя;Отчество;Дата рождения;Класс;Родитель 1: Фамилия;Родитель 1: Имя;Родитель 1: Отчество;Родитель 1: Дата рождения;Родитель 1: СНИЛС";
        let without = format!(
            "{header}\nИванов;Артём;Сергеевич;12.05.2014;7а;Иванова;Мария;Петровна;14.03.1986;\n"
        );
        let with = format!(
            "{header}\nИванов;Артём;Сергеевич;12.05.2014;7а;Иванова;Мария;Петровна;14.03.1986;134-587-260 76\n"
        );
        let first = app.file("first.csv", without.as_bytes());
        assert!(import_roster(&app, "school-1", &first, &[]).await.0);
        let second = app.file("second.csv", with.as_bytes());
        let (ok, report) = import_roster(&app, "school-1", &second, &[]).await;
        assert!(
            ok && report.contains("СНИЛС: «» → «13458726076»"),
            "{report}"
        );
        assert_eq!(
            app.count("roster_persons").await,
            people + 1,
            "one mother, not two"
        );
    }
);

story!(
    a_forwarded_appeal_leaves_its_roster_match_behind,
    |app| async move {
        let (_, number, _) = mother_files_then_school_lists_her(&app).await;
        let staff1 = app.staff("staff-school-1").await;
        let school2 = app.organization_id("«Средняя школа № 2»").await;
        let reason = [
            ("organization_id", school2.as_str()),
            ("resolution", "Учится в школе № 2"),
        ];
        let moved = app.staff_action(&staff1, &number, "forward", &reason).await;
        assert_eq!(crate::support::location(&moved), "/staff/inbox");
        let staff2 = app.staff("staff-school-2").await;
        let (_, inbox) = app.get_html(&staff2, "/staff/inbox").await;
        assert!(inbox.contains(&number), "school 2 has it now");
        assert!(
            !inbox.contains("теперь совпадает"),
            "school 1's roster match stays behind"
        );
    }
);

story!(
    students_a_file_leaves_out_are_archived_when_asked_and_come_back,
    |app| async move {
        // The roster without Смирнов Кирилл (he left the school).
        let without = app.file("without.xlsx", &school1_roster(false));
        let (ok, report) = import_roster(&app, "school-1", &without, &["--archive-missing"]).await;
        assert!(ok, "{report}");
        assert!(
            report.contains("Нет в файле (отправлены в архив): 1")
                && report.contains("Смирнов Кирилл"),
            "{report}"
        );
        let (ok, report) = import_roster(&app, "school-1", &without, &[]).await;
        assert!(
            ok && !report.contains("Нет в файле"),
            "an archived student is not missing again: {report}"
        );

        // He is back the next year.
        let back = app.file(
            "back.csv",
            "Фамилия;Имя;Отчество;Дата рождения;Класс\nСмирнов;Кирилл;Андреевич;08.02.2015;5а\n"
                .as_bytes(),
        );
        let (ok, report) = import_roster(&app, "school-1", &back, &[]).await;
        assert!(ok && report.contains("Возвращены из архива: 1"), "{report}");
        assert!(
            report.contains("без изменений: 1"),
            "the same record, not a new one: {report}"
        );
    }
);
