//! sea-orm entities, one module per table (schema: `migration/`).

pub mod region {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "regions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod municipality {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "municipalities")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub region_id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod organization {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organizations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub municipality_id: i32,
        pub locality: String,
        pub org_type: String,
        pub name: String,
        /// The school system's code: what a directory import matches the organization by.
        pub code: Option<String>,
        pub short_name: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod class {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "classes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub organization_id: i32,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod staff {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "staff")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub snils: String,
        pub last_name: String,
        pub first_name: String,
        pub middle_name: String,
        pub email: String,
        pub role: String,
        pub organization_id: Option<i32>,
        pub municipality_id: Option<i32>,
        pub region_id: Option<i32>,
        pub active: bool,
        pub notify_digest: bool,
        pub digest_sent_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod roster_person {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "roster_persons")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub organization_id: i32,
        pub role: String,
        pub last_name: String,
        pub first_name: String,
        pub middle_name: String,
        pub birth_date: Date,
        pub snils: Option<String>,
        pub passport: Option<String>,
        pub class_id: Option<i32>,
        pub name_norm: String,
        pub gender: Option<String>,
        pub email: Option<String>,
        pub phone: Option<String>,
        /// Left out of a roster import run with `--archive-missing`: no longer matched.
        pub archived_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod roster_guardian {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "roster_guardians")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub parent_id: i32,
        #[sea_orm(primary_key, auto_increment = false)]
        pub student_id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod esia_link {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "esia_links")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub esia_oid: String,
        pub roster_person_id: i32,
        pub method: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod binding_code {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "binding_codes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub roster_person_id: i32,
        pub code_hash: String,
        pub expires_at: DateTimeUtc,
        pub used_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod appeal {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "appeals")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub number: String,
        pub applicant_oid: String,
        pub applicant_role: String,
        #[sea_orm(column_type = "Text")]
        pub snapshot: String,
        pub applicant_email: String,
        pub search_norm: String,
        pub child_esia_id: Option<String>,
        pub organization_id: i32,
        pub class_id: i32,
        #[sea_orm(column_type = "Text")]
        pub comment: Option<String>,
        pub status: String,
        pub route: String,
        pub assigned_staff_id: Option<i32>,
        pub submission_id: String,
        pub version: i32,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub due_at: DateTimeUtc,
        pub subject_key: String,
        /// The roster record a roster import found the applicant to match exactly.
        pub roster_match_id: Option<i32>,
        /// The answer term was extended (once, 59-ФЗ ст. 12 ч. 2): when, and why.
        pub extended_at: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text")]
        pub extension_reason: Option<String>,
        /// When the appeal was resolved or rejected.
        pub answered_at: Option<DateTimeUtc>,
        /// Personal data replaced after the retention term (152-ФЗ).
        pub anonymized_at: Option<DateTimeUtc>,
        /// The consent to personal-data processing the appeal was filed under.
        pub consent_version: Option<String>,
        pub consent_given_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod appeal_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "appeal_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub appeal_id: i64,
        pub kind: String,
        pub from_status: Option<String>,
        pub to_status: Option<String>,
        pub actor: String,
        pub actor_staff_id: Option<i32>,
        #[sea_orm(column_type = "Text")]
        pub message: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub appeal_id: Option<i64>,
        pub kind: String,
        pub recipient: String,
        pub subject: String,
        #[sea_orm(column_type = "Text")]
        pub body_text: String,
        #[sea_orm(column_type = "Text")]
        pub body_html: String,
        pub status: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub locked_until: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text")]
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(column_type = "Text")]
        pub data: String,
        pub expiry_date: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod appeal_counter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "appeal_counters")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub year: i32,
        pub last_value: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod consent {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consents")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub applicant_oid: String,
        pub version: String,
        pub given_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod submission_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "submission_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token: String,
        pub applicant_oid: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod appeal_access {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "appeal_access_log")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub appeal_id: i64,
        pub staff_id: i32,
        pub action: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod staff_digest_item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "staff_digest_items")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub staff_id: i32,
        pub appeal_id: i64,
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod roster_correction {
    use sea_orm::entity::prelude::*;

    /// A roster person's key before staff corrected it through an appeal.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "roster_corrections")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub roster_person_id: i32,
        pub name_norm_before: String,
        pub birth_date_before: Date,
        pub snils_before: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod import_run {
    use sea_orm::entity::prelude::*;

    /// An import started from the admin pages: checked first (a dry run whose report is
    /// the preview), then applied when the person confirms.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "import_runs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub kind: String,
        pub organization_id: Option<i32>,
        pub staff_id: i32,
        pub file_name: String,
        pub skip_invalid: bool,
        pub prefer_file: bool,
        pub archive_missing: bool,
        pub status: String,
        pub progress_done: i64,
        pub progress_total: i64,
        pub rows_read: i64,
        pub added: i32,
        pub changed: i32,
        pub unchanged: i32,
        pub rejected: i32,
        pub preview: Option<String>,
        pub report: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub finished_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod import_file {
    use sea_orm::entity::prelude::*;

    /// The file of an import, kept until it is applied or dropped.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "import_files")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub import_run_id: i32,
        pub data: Vec<u8>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_entry {
    use sea_orm::entity::prelude::*;

    /// One change to the directory, staff or a roster: who (a staff record, or nobody for
    /// the command line), what, and through which import.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub at: DateTimeUtc,
        pub staff_id: Option<i32>,
        pub organization_id: Option<i32>,
        pub roster_person_id: Option<i32>,
        pub import_run_id: Option<i32>,
        pub action: String,
        pub detail: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod escalation_day {
    use sea_orm::entity::prelude::*;

    /// A day whose deadline digest was sent (by whichever instance claimed it).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "escalation_days")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: Date,
        pub sent_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
