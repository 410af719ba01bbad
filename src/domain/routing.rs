//! Where a new appeal goes: the school's responsible staff, or — when the school has none —
//! the municipal operator, and failing that the regional one (DESIGN.md, «Who uses it»).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Organization,
    Municipality,
    Region,
}

pub fn route(active_responsible: u64, active_municipal_operators: u64) -> Route {
    if active_responsible > 0 {
        Route::Organization
    } else if active_municipal_operators > 0 {
        Route::Municipality
    } else {
        Route::Region
    }
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organization => "organization",
            Self::Municipality => "municipality",
            Self::Region => "region",
        }
    }

    /// The routing decision as written into the appeal's history.
    pub fn history_message(self) -> &'static str {
        match self {
            Self::Organization => "Обращение направлено ответственным сотрудникам организации.",
            Self::Municipality => {
                "В организации нет ответственного сотрудника: обращение направлено оператору муниципального органа управления образованием."
            }
            Self::Region => {
                "В организации и муниципалитете нет ответственных сотрудников: обращение направлено региональному оператору."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_staff_first_then_operators() {
        assert_eq!(route(2, 1), Route::Organization);
        assert_eq!(route(0, 1), Route::Municipality);
        assert_eq!(route(0, 0), Route::Region);
    }
}
