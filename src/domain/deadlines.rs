//! 59-ФЗ deadlines on the production calendar: registration within 3 days of receipt
//! (ст. 8 ч. 2), forwarding within 7 days of registration (ст. 8 ч. 3), the answer within
//! 30 days of registration (ст. 12 ч. 1), one extension of up to 30 days (ст. 12 ч. 2).
//! A term runs from the day after its start (ГК ст. 191); a last day that is not a
//! working day moves to the next working day (ГК ст. 193).

use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;

use super::calendar::Calendar;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DayKind {
    Calendar,
    Working,
}

/// A term: so many calendar or working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub days: u32,
    pub kind: DayKind,
}

impl Rule {
    const fn calendar(days: u32) -> Self {
        Rule {
            days,
            kind: DayKind::Calendar,
        }
    }

    /// The last day of the term that starts on `from`.
    pub fn last_day(&self, from: NaiveDate, calendar: &Calendar) -> NaiveDate {
        match self.kind {
            DayKind::Calendar => calendar.next_working(
                from.checked_add_days(Days::new(self.days.into()))
                    .unwrap_or(from),
            ),
            DayKind::Working => calendar.add_working_days(from, self.days),
        }
    }
}

/// The four terms of 59-ФЗ, each configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub registration: Rule,
    pub forwarding: Rule,
    pub answer: Rule,
    pub extension: Rule,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            registration: Rule::calendar(3),
            forwarding: Rule::calendar(7),
            answer: Rule::calendar(30),
            extension: Rule::calendar(30),
        }
    }
}

/// «Истекает в ближайшие … рабочих дня»: how far ahead the inbox and the digest look.
pub const DUE_SOON_WORKING_DAYS: u32 = 3;

/// The terms on the region's calendar and clock.
#[derive(Debug, Clone)]
pub struct Deadlines {
    pub calendar: Calendar,
    pub rules: Rules,
    pub offset: FixedOffset,
}

impl Deadlines {
    fn local_day(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.offset).date_naive()
    }

    /// The end of `day` in the region (a term lasts to the end of its last day).
    fn end_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let end = day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default());
        end.and_local_timezone(self.offset)
            .single()
            .map_or_else(|| end.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// The end of `rule`'s term that starts on the region's day of `from`.
    fn term_end(&self, rule: Rule, from: DateTime<Utc>) -> DateTime<Utc> {
        self.end_of(rule.last_day(self.local_day(from), &self.calendar))
    }

    /// When the answer is due for an appeal registered at `registered_at`.
    pub fn answer_due(&self, registered_at: DateTime<Utc>) -> DateTime<Utc> {
        self.term_end(self.rules.answer, registered_at)
    }

    /// By when an appeal registered at `registered_at` may still be forwarded.
    pub fn forwarding_due(&self, registered_at: DateTime<Utc>) -> DateTime<Utc> {
        self.term_end(self.rules.forwarding, registered_at)
    }

    /// The answer term after the one extension, counted from the current due date.
    pub fn extended_due(&self, due: DateTime<Utc>) -> DateTime<Utc> {
        self.term_end(self.rules.extension, due)
    }

    /// Not yet overdue, and due within [`DUE_SOON_WORKING_DAYS`] working days.
    pub fn due_soon(&self, due: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        if due < now {
            return false;
        }
        let (today, last) = (self.local_day(now), self.local_day(due));
        self.calendar.working_days_between(today, last) <= DUE_SOON_WORKING_DAYS
    }

    /// The last day that counts as «due soon» today: the end of the third working day.
    pub fn soon_horizon(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let last = self
            .calendar
            .add_working_days(self.local_day(now), DUE_SOON_WORKING_DAYS);
        self.end_of(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn deadlines() -> Deadlines {
        Deadlines {
            calendar: Calendar::default(),
            rules: Rules::default(),
            offset: FixedOffset::east_opt(12 * 3600).unwrap(),
        }
    }

    /// Registered at noon of `registered` in the region; the answer's last day.
    fn answer_day(registered: &str) -> NaiveDate {
        let d = deadlines();
        let noon = day(registered).and_hms_opt(12, 0, 0).unwrap();
        let at = noon
            .and_local_timezone(d.offset)
            .unwrap()
            .with_timezone(&Utc);
        d.answer_due(at).with_timezone(&d.offset).date_naive()
    }

    // Hand-computed from ../shared/calendar/ru-production-calendar.toml.
    #[test]
    fn thirty_days_that_end_in_the_new_year_holidays_end_after_them() {
        // 05.12.2025 + 30 = Sun 04.01.2026; 1–11 January are off → Mon 12.01.2026.
        assert_eq!(answer_day("2025-12-05"), day("2026-01-12"));
        // 10.12.2026 + 30 = Sat 09.01.2027; 1–10 January 2027 off → Mon 11.01.2027.
        assert_eq!(answer_day("2026-12-10"), day("2027-01-11"));
    }

    #[test]
    fn thirty_days_that_end_in_the_may_holidays_end_after_them() {
        // 01.04.2026 + 30 = Fri 01.05.2026 (Labour Day); 2–3 May weekend → Mon 04.05.2026.
        assert_eq!(answer_day("2026-04-01"), day("2026-05-04"));
        // 09.04.2026 + 30 = Sat 09.05.2026; Sun 10.05, Mon 11.05 off → Tue 12.05.2026.
        assert_eq!(answer_day("2026-04-09"), day("2026-05-12"));
    }

    #[test]
    fn a_transferred_working_saturday_is_a_last_day_like_any_working_day() {
        // 21.01.2027 + 30 = Sat 20.02.2027, a working Saturday by the 2027 decree.
        assert_eq!(answer_day("2027-01-21"), day("2027-02-20"));
        // 23.01.2027 + 30 = Mon 22.02.2027, a day off moved from that Saturday; 23.02 is a
        // holiday → Wed 24.02.2027.
        assert_eq!(answer_day("2027-01-23"), day("2027-02-24"));
    }

    #[test]
    fn working_day_terms_skip_days_off() {
        let d = Deadlines {
            rules: Rules {
                answer: Rule {
                    days: 3,
                    kind: DayKind::Working,
                },
                ..Rules::default()
            },
            ..deadlines()
        };
        let at = day("2026-04-30")
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_local_timezone(d.offset)
            .unwrap()
            .with_timezone(&Utc);
        // Thu 30.04: Fri 1 May off, weekend → Mon 4, Tue 5, Wed 6.
        assert_eq!(
            d.answer_due(at).with_timezone(&d.offset).date_naive(),
            day("2026-05-06")
        );
    }

    #[test]
    fn the_extension_counts_from_the_current_due_date() {
        let d = deadlines();
        let due = d.end_of(day("2026-05-12"));
        // 12.05.2026 + 30 = Thu 11.06.2026, a working day (12.06 is the holiday).
        assert_eq!(
            d.extended_due(due).with_timezone(&d.offset).date_naive(),
            day("2026-06-11")
        );
    }
}
