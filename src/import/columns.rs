//! Columns are found by their header text, not by position, through the files in
//! `config/import/`: each names, per kind of file, the header texts a column accepts. The
//! shipped `columns.toml` holds the headers of DESIGN.md; a region adds its own in another
//! file there (read at every import, no rebuild).

use std::collections::HashMap;
use std::path::Path;

use super::sheet::{Cell, Row};

/// What a kind of file needs: its columns, required or not.
pub struct Layout {
    /// The section of the mapping files (`directory`, `staff`, `roster`).
    pub kind: &'static str,
    /// (column key, required)
    pub columns: &'static [(&'static str, bool)],
}

/// Header aliases: kind → column key → header texts (the first one names the column in
/// messages).
#[derive(Debug, Default)]
pub struct Aliases(HashMap<String, HashMap<String, Vec<String>>>);

/// Header text as compared: case, spaces and «ё»/«е» do not matter.
pub fn normalize(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

impl Aliases {
    /// Reads every `*.toml` of `dir` (sorted by name) and merges their aliases.
    pub fn load(dir: &Path) -> Result<Aliases, String> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        let mut aliases = Aliases::default();
        for file in files {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let parsed: HashMap<String, HashMap<String, Vec<String>>> =
                toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            for (kind, columns) in parsed {
                let known = aliases.0.entry(kind).or_default();
                for (column, headers) in columns {
                    known.entry(column).or_default().extend(headers);
                }
            }
        }
        Ok(aliases)
    }

    fn column_of(&self, layout: &Layout, header: &str) -> Option<&'static str> {
        let header = normalize(header);
        let known = self.0.get(layout.kind)?;
        layout.columns.iter().map(|(key, _)| *key).find(|key| {
            known
                .get(*key)
                .is_some_and(|h| h.iter().any(|alias| normalize(alias) == header))
        })
    }

    /// The column's name for people: its first header text in the mapping files.
    pub fn name(&self, layout: &Layout, key: &str) -> String {
        self.0
            .get(layout.kind)
            .and_then(|k| k.get(key))
            .and_then(|h| h.first())
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }
}

/// Where the header row is and which column holds what.
#[derive(Debug)]
pub struct Located {
    /// Index among the file's rows of the header row; data rows follow it.
    pub header_row: usize,
    /// Column key → (index, header text as the file has it).
    columns: HashMap<&'static str, (usize, String)>,
}

impl Located {
    /// The cell of `key` in `row`, empty when the column is absent or the row short.
    pub fn cell<'a>(&self, row: &'a [Cell], key: &str) -> Option<&'a Cell> {
        self.columns.get(key).and_then(|(i, _)| row.get(*i))
    }

    /// The cell of `key` in `row` as trimmed text, empty when absent.
    pub fn text(&self, row: &[Cell], key: &str) -> String {
        self.cell(row, key).map(Cell::text).unwrap_or_default()
    }

    pub fn has(&self, key: &str) -> bool {
        self.columns.contains_key(key)
    }

    /// The header of `key` as the file has it, for reports.
    pub fn header(&self, key: &str) -> String {
        self.columns
            .get(key)
            .map(|(_, h)| h.clone())
            .unwrap_or_else(|| key.to_string())
    }
}

/// The header row could not be found: the required columns missing from the best
/// candidate row, and that row's headers.
#[derive(Debug)]
pub struct MissingColumns {
    pub missing: Vec<&'static str>,
    pub found: Vec<String>,
}

/// How many rows from the top may be titles above the header row.
pub const HEADER_SEARCH_ROWS: usize = 30;

/// Finds the header row: the first of the top rows in which every required column of
/// `layout` is named (export files often have title rows above it).
pub fn locate(top: &[Row], layout: &Layout, aliases: &Aliases) -> Result<Located, MissingColumns> {
    let mut best: Option<(usize, Vec<&'static str>, Vec<String>)> = None;
    for (index, (_, row)) in top.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        let mut columns = HashMap::new();
        for (i, cell) in row.iter().enumerate() {
            let header = cell.text();
            if let Some(key) = aliases.column_of(layout, &header) {
                columns.entry(key).or_insert((i, header));
            }
        }
        let missing: Vec<&'static str> = layout
            .columns
            .iter()
            .filter(|(key, required)| *required && !columns.contains_key(key))
            .map(|(key, _)| *key)
            .collect();
        if missing.is_empty() {
            return Ok(Located {
                header_row: index,
                columns,
            });
        }
        let found: Vec<String> = row
            .iter()
            .map(Cell::text)
            .filter(|t| !t.is_empty())
            .collect();
        if best
            .as_ref()
            .is_none_or(|(_, m, _)| missing.len() < m.len())
        {
            best = Some((index, missing, found));
        }
    }
    let (_, missing, found) = best.unwrap_or_else(|| {
        (
            0,
            layout
                .columns
                .iter()
                .filter(|(_, r)| *r)
                .map(|(k, _)| *k)
                .collect(),
            Vec::new(),
        )
    });
    Err(MissingColumns { missing, found })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: Layout = Layout {
        kind: "directory",
        columns: &[("region", true), ("code", true), ("classes", false)],
    };

    fn aliases() -> Aliases {
        let mut a = Aliases::default();
        let d = a.0.entry("directory".into()).or_default();
        d.insert("region".into(), vec!["Регион".into()]);
        d.insert("code".into(), vec!["Код".into()]);
        d.insert("classes".into(), vec!["Классы".into()]);
        a
    }

    fn row(cells: &[&str]) -> Vec<Cell> {
        cells.iter().map(|c| Cell::Text(c.to_string())).collect()
    }

    #[test]
    fn the_header_row_may_follow_title_rows_and_differ_in_case_and_spaces() {
        let rows = vec![
            (1, row(&["Выгрузка из СГО"])),
            (2, row(&[])),
            (3, row(&["  КОД ", "регион", "Классы"])),
            (4, row(&["41001", "Камчатский край", "1а"])),
        ];
        let located = locate(&rows, &LAYOUT, &aliases()).unwrap();
        assert_eq!(located.header_row, 2);
        assert_eq!(
            located.cell(&rows[3].1, "region").unwrap().text(),
            "Камчатский край"
        );
    }

    #[test]
    fn missing_required_columns_are_named_with_the_headers_found() {
        let rows = vec![(1, row(&["Регион", "Название"]))];
        let err = locate(&rows, &LAYOUT, &aliases()).unwrap_err();
        assert_eq!(err.missing, vec!["code"]);
        assert_eq!(err.found, vec!["Регион", "Название"]);
    }

    #[test]
    fn yo_and_ye_are_the_same_letter() {
        assert_eq!(
            normalize("Населённый пункт"),
            normalize("населенный  пункт")
        );
    }
}
