//! What every page template gets: the shared layout context.

use tower_sessions::Session;

use super::csrf;
use super::error::AppResult;

/// Passed to every page as `layout`: the logout form needs the CSRF token, the header
/// needs to know whether someone is signed in.
pub struct Layout {
    pub csrf_token: String,
    pub signed_in: bool,
    /// Staff pages show the staff menu.
    pub staff: bool,
    /// What the last action did, shown once on the page it led to.
    pub flash: Option<String>,
}

const FLASH: &str = "flash";

/// Says on the next page what an action did (post/redirect/get loses the response).
pub async fn flash(session: &Session, message: impl Into<String>) -> AppResult<()> {
    Ok(session.insert(FLASH, message.into()).await?)
}

impl Layout {
    /// Anonymous visitors see no form, so they get no token — and no session row. A staff
    /// member gets the staff menu on any page (error pages included).
    pub async fn new(session: &Session) -> AppResult<Self> {
        // No session cookie and nothing put in this request: nobody is signed in, and
        // there is no record to load (most visits to the entry page).
        if session.id().is_none() && !session.is_modified() {
            return Ok(Self::anonymous());
        }
        let staff = super::session::StaffSession::load(session).await?.is_some();
        let signed_in = staff || super::session::SessionUser::load(session).await?.is_some();
        let (csrf_token, flash) = if signed_in {
            (
                csrf::token(session).await?,
                session.remove::<String>(FLASH).await?,
            )
        } else {
            (String::new(), None)
        };
        Ok(Self {
            csrf_token,
            signed_in,
            staff,
            flash,
        })
    }

    /// Nobody signed in (or the session could not be read).
    pub fn anonymous() -> Self {
        Self {
            csrf_token: String::new(),
            signed_in: false,
            staff: false,
            flash: None,
        }
    }
}

/// `ДД.ММ.ГГГГ`, as Russian forms write dates.
pub fn ru_date(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

pub fn ru_datetime(t: chrono::DateTime<chrono::Utc>, offset: chrono::FixedOffset) -> String {
    t.with_timezone(&offset)
        .format("%d.%m.%Y %H:%M")
        .to_string()
}

/// One `<option>` of a select (rendered by `partials/macros.html`).
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub fn opt(value: impl Into<String>, label: impl Into<String>, current: &str) -> Opt {
    let value = value.into();
    let selected = value == current;
    Opt {
        value,
        label: label.into(),
        selected,
    }
}

/// Options from `items`; `selected` marks the one whose value matches.
pub fn opts<T>(
    items: impl IntoIterator<Item = T>,
    selected: Option<&str>,
    f: impl Fn(&T) -> (String, String),
) -> Vec<Opt> {
    items
        .into_iter()
        .map(|item| {
            let (value, label) = f(&item);
            let selected = selected == Some(value.as_str());
            Opt {
                value,
                label,
                selected,
            }
        })
        .collect()
}

/// An appeal's 59-ФЗ terms as its pages show them (`partials/terms.html`).
pub struct Terms {
    pub registered: String,
    /// The last day of the answer term (extended, if it was).
    pub due: String,
    pub answered: Option<String>,
    /// Why the term was extended, if it was.
    pub extended: Option<String>,
    pub forwarding_due: String,
    pub extension_days: u32,
}

impl Terms {
    pub fn of(a: &crate::domain::appeal::Appeal, d: &crate::domain::deadlines::Deadlines) -> Self {
        let day =
            |t: chrono::DateTime<chrono::Utc>| ru_date(t.with_timezone(&d.offset).date_naive());
        Terms {
            registered: ru_datetime(a.created_at, d.offset),
            due: day(a.due_at),
            answered: a.answered_at.map(|t| ru_datetime(t, d.offset)),
            extended: a.extension.as_ref().map(|(_, why)| why.clone()),
            forwarding_due: day(d.forwarding_due(a.created_at)),
            extension_days: d.rules.extension.days,
        }
    }
}

/// `n` with the Russian word form for it: 1 группа, 2 группы, 5 групп, 11 групп, 21 группа.
pub fn plural(n: i64, one: &str, few: &str, many: &str) -> String {
    let (last, last_two) = (n.abs() % 10, n.abs() % 100);
    let word = if (11..=14).contains(&last_two) {
        many
    } else {
        match last {
            1 => one,
            2..=4 => few,
            _ => many,
        }
    };
    format!("{n} {word}")
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn russian_plurals() {
        let g = |n| plural(n, "группа", "группы", "групп");
        assert_eq!(g(1), "1 группа");
        assert_eq!(g(2), "2 группы");
        assert_eq!(g(5), "5 групп");
        assert_eq!(g(11), "11 групп");
        assert_eq!(g(21), "21 группа");
        assert_eq!(g(0), "0 групп");
    }
}
