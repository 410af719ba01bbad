//! The Russian production calendar: which days are working days. The `holidays-ru` crate
//! has the official calendars (and a prediction by the Labour Code for later years); a
//! decree published after the crate's release goes into `config/calendar-overrides.toml`,
//! which wins over the crate.

use std::collections::HashSet;

use chrono::{Datelike, Days, NaiveDate};
use serde::Deserialize;

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// Weekdays that are not working days (holidays, days off moved by a decree).
    days_off: HashSet<NaiveDate>,
    /// Saturdays and Sundays made working days by a decree.
    working: HashSet<NaiveDate>,
}

/// One year of the override file: as `../shared/calendar/` writes it.
#[derive(Debug, Default, Deserialize)]
struct Year {
    #[serde(default)]
    holidays: Vec<NaiveDate>,
    #[serde(default)]
    working_weekends: Vec<NaiveDate>,
}

impl Calendar {
    /// The crate's calendar with the overrides of `toml_text` (tables `[y2027]` with
    /// `holidays` and `working_weekends` lists of `YYYY-MM-DD`; other keys are notes).
    pub fn with_overrides(toml_text: &str) -> Result<Self, String> {
        let table: toml::Table = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        let mut calendar = Calendar::default();
        for (key, value) in table {
            if !key.starts_with('y') {
                continue;
            }
            let year: Year = value
                .try_into()
                .map_err(|e: toml::de::Error| format!("[{key}]: {e}"))?;
            calendar.days_off.extend(year.holidays);
            calendar.working.extend(year.working_weekends);
        }
        Ok(calendar)
    }

    pub fn is_working(&self, day: NaiveDate) -> bool {
        if self.working.contains(&day) {
            return true;
        }
        if self.days_off.contains(&day) {
            return false;
        }
        // Out of the crate's range (before 1900, after 2100): the five-day week.
        holidays_ru::is_working_day::<holidays_ru::Federal, _>(day).map_or_else(
            || !matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun),
            |r| r.value(),
        )
    }

    /// `day` if it is a working day, else the next one (ГК РФ ст. 193).
    pub fn next_working(&self, day: NaiveDate) -> NaiveDate {
        let mut d = day;
        // A year has no run of non-working days longer than a few weeks.
        for _ in 0..60 {
            if self.is_working(d) {
                return d;
            }
            d = d.succ_opt().unwrap_or(d);
        }
        d
    }

    /// The working day `n` working days after `day` (`day` itself not counted).
    pub fn add_working_days(&self, day: NaiveDate, n: u32) -> NaiveDate {
        let mut d = day;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().unwrap_or(d);
            if self.is_working(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days from the day after `from` through `to`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut count = 0;
        let mut d = from;
        while d < to {
            d = d.checked_add_days(Days::new(1)).unwrap_or(to);
            if self.is_working(d) {
                count += 1;
            }
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Every day of 2025–2027 against the independent data set in `../shared/calendar/`,
    /// with the overrides this repository ships.
    #[test]
    fn the_calendar_agrees_with_the_shared_data_set_day_by_day() {
        let shared = std::fs::read_to_string("../shared/calendar/ru-production-calendar.toml")
            .expect("../shared/calendar beside the project");
        let expected = Calendar::with_overrides(&shared).unwrap();
        let overrides = std::fs::read_to_string("config/calendar-overrides.toml").unwrap();
        let ours = Calendar::with_overrides(&overrides).unwrap();
        let mut d = day("2025-01-01");
        let mut differ = Vec::new();
        while d <= day("2027-12-31") {
            let weekend = matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
            let shared_working = if weekend {
                expected.working.contains(&d)
            } else {
                !expected.days_off.contains(&d)
            };
            if ours.is_working(d) != shared_working {
                differ.push(d);
            }
            d = d.succ_opt().unwrap();
        }
        assert!(differ.is_empty(), "days that differ: {differ:?}");
    }

    #[test]
    fn a_deadline_on_a_day_off_moves_to_the_next_working_day() {
        let cal = Calendar::default();
        // New Year 2026: 1–11 January off, Monday 12 January works.
        assert_eq!(cal.next_working(day("2026-01-03")), day("2026-01-12"));
        assert_eq!(cal.next_working(day("2026-01-12")), day("2026-01-12"));
        // Three working days after Thursday 30 April 2026: 1 May and the weekend are off,
        // so Monday 4, Tuesday 5, Wednesday 6 May.
        assert_eq!(
            cal.add_working_days(day("2026-04-30"), 3),
            day("2026-05-06")
        );
    }

    #[test]
    fn an_override_wins_over_the_crate() {
        let cal = Calendar::with_overrides(
            "[y2026]\nholidays = [\"2026-07-01\"]\nworking_weekends = [\"2026-07-04\"]\n",
        )
        .unwrap();
        assert!(!cal.is_working(day("2026-07-01")));
        assert!(cal.is_working(day("2026-07-04")));
        assert!(Calendar::with_overrides("[y2026]\nholidays = [\"soon\"]").is_err());
    }
}
