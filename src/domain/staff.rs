//! Staff roles and the scope of appeals each role may see and act on.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffRole {
    Responsible,
    /// «Администратор школы»: the school's data and appeals, like a responsible one.
    SchoolAdmin,
    MunicipalOperator,
    RegionalOperator,
    Admin,
}

impl StaffRole {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "responsible" => Some(Self::Responsible),
            "school_admin" => Some(Self::SchoolAdmin),
            "municipal_operator" => Some(Self::MunicipalOperator),
            "regional_operator" => Some(Self::RegionalOperator),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Responsible => "responsible",
            Self::SchoolAdmin => "school_admin",
            Self::MunicipalOperator => "municipal_operator",
            Self::RegionalOperator => "regional_operator",
            Self::Admin => "admin",
        }
    }

    /// A role as an import file names it: the code, or the Russian name in any case
    /// («ответственный», «администратор школы», «муниципальный оператор», …).
    pub fn from_import(text: &str) -> Option<Self> {
        let t = super::names::normalize(text);
        Self::parse(&t).or(match t.as_str() {
            "ответственный" | "ответственный сотрудник" => {
                Some(Self::Responsible)
            }
            "администратор школы" | "администратор оо" => {
                Some(Self::SchoolAdmin)
            }
            "муниципальный оператор" | "оператор муниципалитета" => {
                Some(Self::MunicipalOperator)
            }
            "региональный оператор" | "оператор региона" => {
                Some(Self::RegionalOperator)
            }
            "администратор" | "администратор системы" => {
                Some(Self::Admin)
            }
            _ => None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Responsible => "Ответственный сотрудник",
            Self::SchoolAdmin => "Администратор школы",
            Self::MunicipalOperator => "Оператор муниципалитета",
            Self::RegionalOperator => "Оператор региона",
            Self::Admin => "Администратор",
        }
    }
}

/// Which organizations a staff record covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Organization(i32),
    Municipality(i32),
    Region(i32),
    All,
}

impl Scope {
    /// The scope a staff record grants; a record missing the unit its role needs grants
    /// nothing (it is a data error, not a reason to show everything).
    pub fn of(
        role: StaffRole,
        organization: Option<i32>,
        municipality: Option<i32>,
        region: Option<i32>,
    ) -> Option<Self> {
        match role {
            StaffRole::Responsible | StaffRole::SchoolAdmin => organization.map(Self::Organization),
            StaffRole::MunicipalOperator => municipality.map(Self::Municipality),
            StaffRole::RegionalOperator => region.map(Self::Region),
            StaffRole::Admin => Some(Self::All),
        }
    }

    /// Whether an organization located in `municipality` of `region` is in scope.
    pub fn covers(self, organization: i32, municipality: i32, region: i32) -> bool {
        match self {
            Self::Organization(o) => o == organization,
            Self::Municipality(m) => m == municipality,
            Self::Region(r) => r == region,
            Self::All => true,
        }
    }
}

/// A valid row of a staff file; its organization, municipality or region is still a
/// name or code, found in the directory when the file is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffEntry {
    pub line: usize,
    pub snils: super::snils::Snils,
    pub name: super::names::PersonName,
    pub role: StaffRole,
    pub unit: Unit,
    /// `None`: the file says nothing (no column, or an empty cell): the record keeps its.
    pub email: Option<String>,
}

/// Where a staff record works, as an import file names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Unit {
    /// The organization's code in the directory.
    Organization(String),
    Municipality(String),
    /// The region's name; `None`: the directory's only region.
    Region(Option<String>),
    Everywhere,
}

impl Unit {
    /// The place as the file names it, for reports.
    pub fn describe(&self) -> String {
        match self {
            Unit::Organization(code) => format!("организация {code}"),
            Unit::Municipality(name) => name.clone(),
            Unit::Region(Some(name)) => name.clone(),
            Unit::Region(None) => "регион".into(),
            Unit::Everywhere => "все организации".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_read_from_russian_names_and_codes() {
        assert_eq!(
            StaffRole::from_import("Администратор  школы"),
            Some(StaffRole::SchoolAdmin)
        );
        assert_eq!(
            StaffRole::from_import("ОТВЕТСТВЕННЫЙ"),
            Some(StaffRole::Responsible)
        );
        assert_eq!(
            StaffRole::from_import("municipal_operator"),
            Some(StaffRole::MunicipalOperator)
        );
        assert_eq!(StaffRole::from_import("директор"), None);
    }

    #[test]
    fn scopes_nest() {
        assert!(Scope::Organization(1).covers(1, 10, 100));
        assert!(!Scope::Organization(1).covers(2, 10, 100));
        assert!(Scope::Municipality(10).covers(2, 10, 100));
        assert!(!Scope::Municipality(10).covers(3, 11, 100));
        assert!(Scope::Region(100).covers(3, 11, 100));
        assert!(Scope::All.covers(9, 9, 9));
    }

    #[test]
    fn incomplete_records_grant_nothing() {
        assert_eq!(Scope::of(StaffRole::Responsible, None, Some(1), None), None);
        assert_eq!(
            Scope::of(StaffRole::MunicipalOperator, None, Some(1), None),
            Some(Scope::Municipality(1))
        );
    }
}
