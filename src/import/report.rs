//! What an import did, or would do: added, changed (field: old → new), unchanged, and
//! the rows it rejected with line, column, value and reason. Printed in Russian for the
//! person who ran it.

use std::fmt;

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
    pub added: Vec<String>,
    pub changed: Vec<(String, Vec<FieldChange>)>,
    pub unchanged: usize,
    /// Fields staff corrected through an appeal that the file still has the old way:
    /// kept as corrected unless the import was told to prefer the file.
    pub conflicts: Vec<(String, FieldChange)>,
    /// Records the file leaves out (kept as they are, or archived).
    pub absent: Vec<String>,
    /// Whether those left out were archived (`--archive-missing`).
    pub archived: bool,
    /// Archived records the file has again, brought back.
    pub restored: usize,
    /// Open appeals whose applicant now matches a record exactly.
    pub matched: Vec<String>,
    pub rejected: Vec<Rejected>,
    /// Whether the changes were written (not for a dry run or a refused file).
    pub written: bool,
    /// Why nothing was written, when the file was refused as a whole.
    pub refused: Option<String>,
}

impl Report {
    /// How many rows were rejected (a row may have several reasons).
    pub fn rejected_lines(&self) -> usize {
        let mut lines: Vec<usize> = self.rejected.iter().map(|r| r.line).collect();
        lines.sort_unstable();
        lines.dedup();
        lines.len()
    }

    pub fn reject(&mut self, line: usize, column: &str, value: &str, reason: impl Into<String>) {
        self.rejected.push(Rejected {
            line,
            column: column.to_string(),
            value: value.chars().take(80).collect(),
            reason: reason.into(),
        });
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
        for added in &self.added {
            writeln!(f, "  + {added}")?;
        }
        for (what, fields) in &self.changed {
            writeln!(f, "  ~ {what}")?;
            for c in fields {
                writeln!(f, "      {}: «{}» → «{}»", c.field, c.old, c.new)?;
            }
        }
        if !self.conflicts.is_empty() {
            writeln!(
                f,
                "Конфликты — исправлено сотрудником по обращению, в файле прежнее значение:"
            )?;
            for (what, c) in &self.conflicts {
                writeln!(
                    f,
                    "  ! {what}: {}: здесь «{}», в файле «{}»",
                    c.field, c.old, c.new
                )?;
            }
        }
        if self.restored > 0 {
            writeln!(f, "Возвращены из архива: {}", self.restored)?;
        }
        if !self.absent.is_empty() {
            let fate = if self.archived {
                "отправлены в архив"
            } else {
                "оставлены как есть; --archive-missing отправит в архив"
            };
            writeln!(f, "Нет в файле ({fate}): {}", self.absent.len())?;
            for who in &self.absent {
                writeln!(f, "  - {who}")?;
            }
        }
        if !self.matched.is_empty() {
            writeln!(
                f,
                "Обращения, заявитель которых теперь совпадает с записью в списке: {}",
                self.matched.join(", ")
            )?;
        }
        if !self.rejected.is_empty() {
            writeln!(f, "Отклонённые строки:")?;
            for r in &self.rejected {
                writeln!(
                    f,
                    "  строка {}, столбец «{}», значение «{}»: {}",
                    r.line, r.column, r.value, r.reason
                )?;
            }
        }
        if let Some(why) = &self.refused {
            writeln!(f, "Ничего не записано: {why}")?;
        }
        Ok(())
    }
}
