//! What an import did, or would do: added, changed (field: old → new), unchanged, and
//! the rows it rejected with line, column, value and reason. Printed in Russian for the
//! person who ran it.

use std::fmt;

/// How many entries of each list a report keeps; the rest are counted. A 100,000-row file
/// is read in bounded memory, and nobody reads 100,000 lines of «добавлено».
pub const LISTED: usize = 1000;

/// A list that keeps its first [`LISTED`] entries and counts all of them.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    items: Vec<T>,
    total: usize,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            items: Vec::new(),
            total: 0,
        }
    }
}

impl<T> Listed<T> {
    pub fn push(&mut self, item: T) {
        self.total += 1;
        if self.items.len() < LISTED {
            self.items.push(item);
        }
    }

    /// How many there are, kept or not.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The entries kept.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// How many were counted but not kept.
    pub fn untold(&self) -> usize {
        self.total - self.items.len()
    }

    pub fn clear(&mut self) {
        *self = Listed::default();
    }

    /// Counts `n` more that are not kept (the list is full).
    pub fn count_more(&mut self, n: usize) {
        self.total += n;
    }

    pub fn sort_by_key<K: Ord>(&mut self, key: impl FnMut(&T) -> K) {
        self.items.sort_by_key(key);
    }
}

/// A row the import refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: usize,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// One field of a record that the import changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Default)]
pub struct Report {
    /// What was imported, for the title («Справочник организаций»).
    pub title: &'static str,
    pub file: String,
    pub added: Listed<String>,
    pub changed: Listed<(String, Vec<FieldChange>)>,
    pub unchanged: usize,
    /// Fields staff corrected through an appeal that the file still has the old way:
    /// kept as corrected unless the import was told to prefer the file.
    pub conflicts: Listed<(String, FieldChange)>,
    /// Records the file leaves out (kept as they are, or archived).
    pub absent: Listed<String>,
    /// Whether those left out were archived (`--archive-missing`).
    pub archived: bool,
    /// Archived records the file has again, brought back.
    pub restored: usize,
    /// Open appeals whose applicant now matches a record exactly.
    pub matched: Listed<String>,
    pub rejected: Listed<Rejected>,
    /// Rows with at least one rejection (a row's rejections come one after another).
    rejected_lines: usize,
    last_rejected_line: Option<usize>,
    /// Whether the changes were written (not for a dry run or a refused file).
    pub written: bool,
    /// Why nothing was written, when the file was refused as a whole.
    pub refused: Option<String>,
}

impl Report {
    pub fn new(title: &'static str, file: String) -> Self {
        Report {
            title,
            file,
            ..Report::default()
        }
    }

    /// How many rows were rejected (a row may have several reasons).
    pub fn rejected_lines(&self) -> usize {
        self.rejected_lines
    }

    pub fn reject(&mut self, line: usize, column: &str, value: &str, reason: impl Into<String>) {
        if self.last_rejected_line != Some(line) {
            self.rejected_lines += 1;
            self.last_rejected_line = Some(line);
        }
        self.rejected.push(Rejected {
            line,
            column: column.to_string(),
            value: value.chars().take(80).collect(),
            reason: reason.into(),
        });
    }

    /// A refused file writes nothing: what it would have changed is not reported.
    pub fn forget_changes(&mut self) {
        self.added.clear();
        self.changed.clear();
        self.unchanged = 0;
        self.conflicts.clear();
        self.absent.clear();
        self.restored = 0;
        self.matched.clear();
    }
}

/// «… и ещё N» under a list that was cut.
fn untold<T>(f: &mut fmt::Formatter<'_>, list: &Listed<T>) -> fmt::Result {
    match list.untold() {
        0 => Ok(()),
        n => writeln!(f, "  … и ещё {n}"),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {}", self.title, self.file)?;
        if self.written {
            writeln!(f, "Записано.")?;
        } else if self.refused.is_none() {
            writeln!(f, "Проверка без записи: так будет при загрузке.")?;
        }
        writeln!(
            f,
            "Добавлено: {}, изменено: {}, без изменений: {}, отклонено строк: {}.",
            self.added.len(),
            self.changed.len(),
            self.unchanged,
            self.rejected_lines()
        )?;
        for added in self.added.iter() {
            writeln!(f, "  + {added}")?;
        }
        untold(f, &self.added)?;
        for (what, fields) in self.changed.iter() {
            writeln!(f, "  ~ {what}")?;
            for c in fields {
                writeln!(f, "      {}: «{}» → «{}»", c.field, c.old, c.new)?;
            }
        }
        untold(f, &self.changed)?;
        if !self.conflicts.is_empty() {
            writeln!(
                f,
                "Конфликты — исправлено сотрудником по обращению, в файле прежнее значение:"
            )?;
            for (what, c) in self.conflicts.iter() {
                writeln!(
                    f,
                    "  ! {what}: {}: здесь «{}», в файле «{}»",
                    c.field, c.old, c.new
                )?;
            }
            untold(f, &self.conflicts)?;
        }
        if self.restored > 0 {
            writeln!(f, "Возвращены из архива: {}", self.restored)?;
        }
        if !self.absent.is_empty() {
            let fate = if self.archived {
                "отправлены в архив"
            } else {
                "оставлены как есть; отправить их в архив можно параметром «в архив тех, кого нет в файле» (--archive-missing)"
            };
            writeln!(f, "Нет в файле ({fate}): {}", self.absent.len())?;
            for who in self.absent.iter() {
                writeln!(f, "  - {who}")?;
            }
            untold(f, &self.absent)?;
        }
        if !self.matched.is_empty() {
            writeln!(
                f,
                "Обращения, заявитель которых теперь совпадает с записью в списке: {}",
                self.matched.iter().cloned().collect::<Vec<_>>().join(", ")
            )?;
            untold(f, &self.matched)?;
        }
        if !self.rejected.is_empty() {
            writeln!(f, "Отклонённые строки:")?;
            for r in self.rejected.iter() {
                writeln!(
                    f,
                    "  строка {}, столбец «{}», значение «{}»: {}",
                    r.line, r.column, r.value, r.reason
                )?;
            }
            untold(f, &self.rejected)?;
        }
        if let Some(why) = &self.refused {
            writeln!(f, "Ничего не записано: {why}")?;
        }
        Ok(())
    }
}
