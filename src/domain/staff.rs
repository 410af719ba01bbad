//! Staff roles and the scope of appeals each role may see and act on.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRole {
    Responsible,
    MunicipalOperator,
    RegionalOperator,
    Admin,
}

impl StaffRole {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "responsible" => Some(Self::Responsible),
            "municipal_operator" => Some(Self::MunicipalOperator),
            "regional_operator" => Some(Self::RegionalOperator),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Responsible => "Ответственный сотрудник",
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
            StaffRole::Responsible => organization.map(Self::Organization),
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

#[cfg(test)]
mod tests {
    use super::*;

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
