//! A spreadsheet from the school system as rows of cells: `.xls` (BIFF8, what its
//! «Пакетное обновление» exports), `.xlsx`, or `.csv` in UTF-8 (with or without BOM) or
//! Windows-1251, separated by `;` or `,`. Only the first sheet of a workbook is read.
//!
//! Rows are read on a thread of their own and handed over through a short queue, so a
//! 100,000-row file is never held in memory at once (an `.xls` is read whole by calamine,
//! but BIFF8 holds at most 65,536 rows).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use tokio::sync::mpsc;

/// One cell as the file gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A cell formatted as a date in a workbook (its serial number, read as a date).
    Date(NaiveDate),
}

impl Cell {
    /// The cell as text, as a person reads it (whole numbers without «.0»).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.format("%d.%m.%Y").to_string(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text().is_empty()
    }
}

/// A row: its line number in the file (1-based) and its cells.
pub type Row = (usize, Vec<Cell>);

/// Rows read all at once (directory and staff files have hundreds of rows, not more).
pub struct Sheet {
    pub rows: Vec<Row>,
}

/// How far the reader has got through the file: bytes of a CSV file, rows of a workbook.
#[derive(Debug, Default)]
pub struct Meter {
    done: AtomicU64,
    total: AtomicU64,
}

impl Meter {
    /// (done, total) in the file's unit; total is 0 while unknown.
    pub fn get(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// The rows of a file as the reader thread hands them over.
pub struct Rows {
    rx: mpsc::Receiver<Result<Row, SheetError>>,
    meter: Arc<Meter>,
}

impl Rows {
    /// The next row, an error that ends the file, or `None` at its end.
    pub async fn next(&mut self) -> Option<Result<Row, SheetError>> {
        self.rx.recv().await
    }

    pub fn meter(&self) -> Arc<Meter> {
        self.meter.clone()
    }

    pub async fn collect(mut self) -> Result<Sheet, SheetError> {
        let mut rows = Vec::new();
        while let Some(row) = self.next().await {
            rows.push(row?);
        }
        Ok(Sheet { rows })
    }
}

/// Why a file could not be read at all (each message is shown to the person importing).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SheetError {
    #[error("файл {0} не найден")]
    NotFound(String),
    #[error("файл {0} не удалось открыть (нет прав на чтение или это папка)")]
    Unreadable(String),
    #[error("формат файла не поддерживается: нужен .xls, .xlsx или .csv")]
    UnknownFormat,
    #[error(
        "файл не удалось прочитать как таблицу {kind}: он повреждён, зашифрован или в \
         другом формате (техническая причина: {detail})"
    )]
    Corrupt { kind: &'static str, detail: String },
    #[error("в файле нет ни одного листа с данными")]
    NoSheet,
}

fn unreadable(path: &Path, e: &std::io::Error) -> SheetError {
    let name = path.display().to_string();
    if e.kind() == std::io::ErrorKind::NotFound {
        SheetError::NotFound(name)
    } else {
        SheetError::Unreadable(name)
    }
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Csv,
    Xls,
    Xlsx,
}

/// Rows the reader may be ahead of the importer by.
const QUEUE_ROWS: usize = 256;

/// Hands a row over; false once nobody reads any more (the import stopped).
type Emit<'a> = &'a mut dyn FnMut(Row) -> bool;

/// The format a file's name says it is in, if it is one this reader reads.
fn format_of(path: &Path) -> Option<Format> {
    let extension = path.extension()?.to_str()?.to_lowercase();
    match extension.as_str() {
        "csv" | "txt" => Some(Format::Csv),
        "xls" => Some(Format::Xls),
        "xlsx" | "xlsm" => Some(Format::Xlsx),
        _ => None,
    }
}

/// Whether a file of this name can be read (an upload is refused before it is stored).
pub fn is_readable_name(name: &str) -> bool {
    format_of(Path::new(name)).is_some()
}

/// Starts reading `path` on a thread of its own.
pub fn open(path: &Path) -> Result<Rows, SheetError> {
    let format = format_of(path).ok_or(SheetError::UnknownFormat)?;
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, &e))?;
    if file.metadata().map_or(true, |m| m.is_dir()) {
        return Err(SheetError::Unreadable(path.display().to_string()));
    }
    let (tx, rx) = mpsc::channel(QUEUE_ROWS);
    let meter = Arc::new(Meter::default());
    let (owned, counted) = (path.to_owned(), meter.clone());
    std::thread::Builder::new()
        .name("import-reader".into())
        .spawn(move || {
            let mut emit = |row: Row| tx.blocking_send(Ok(row)).is_ok();
            // calamine has known panics on malformed files: a broken file is a broken file.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match format {
                Format::Csv => read_csv(file, &owned, &counted, &mut emit),
                _ => read_workbook(&owned, format, &counted, &mut emit),
            }));
            let failed = match read {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e,
                Err(_) => SheetError::Corrupt {
                    kind: "Excel",
                    detail: "структура файла нарушена".into(),
                },
            };
            let _ = tx.blocking_send(Err(failed));
        })
        .map_err(|e| unreadable(path, &e))?;
    Ok(Rows { rx, meter })
}

/// Counts the bytes read from the file for the progress bar.
struct Counted<'a, R> {
    inner: R,
    meter: &'a Meter,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.done.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads CRLF line ends as LF: csv ends a record at the CR and counts the LF into the
/// next record, whose line number would then be one short.
struct LfOnly<R> {
    inner: R,
    /// A CR ended the last buffer: whether an LF follows is seen on the next read.
    pending_cr: bool,
}

impl<R: BufRead> Read for LfOnly<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if out.is_empty() {
                return Ok(0);
            }
            let input = self.inner.fill_buf()?;
            if std::mem::take(&mut self.pending_cr) && input.first() != Some(&b'\n') {
                out[0] = b'\r';
                return Ok(1);
            }
            if input.is_empty() {
                return Ok(0);
            }
            let (mut i, mut o) = (0, 0);
            while i < input.len() && o < out.len() {
                if input[i] == b'\r' {
                    match input.get(i + 1) {
                        Some(b'\n') => {
                            i += 1;
                            continue;
                        }
                        None => {
                            i += 1;
                            self.pending_cr = true;
                            break;
                        }
                        _ => {}
                    }
                }
                out[o] = input[i];
                i += 1;
                o += 1;
            }
            self.inner.consume(i);
            if o > 0 {
                return Ok(o);
            }
        }
    }
}

/// What one pass over a CSV file found out before it is parsed.
struct Sniffed {
    utf8: bool,
    bom: bool,
    separator: u8,
}

/// How much of the top of a file decides the separator.
const HEAD_BYTES: usize = 64 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A UTF-8 BOM or valid UTF-8 throughout is UTF-8; anything else is taken as
/// Windows-1251 (what Excel saves «CSV» as on a Russian Windows). Reads the whole file
/// once, a buffer at a time.
fn sniff(file: &mut std::fs::File) -> std::io::Result<Result<Sniffed, SheetError>> {
    let mut reader = BufReader::with_capacity(HEAD_BYTES, file);
    let (mut head, mut carry, mut utf8) = (Vec::new(), Vec::new(), true);
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        if chunk.contains(&0) {
            return Ok(Err(SheetError::Corrupt {
                kind: "CSV",
                detail: "в файле есть двоичные данные".into(),
            }));
        }
        if head.len() < HEAD_BYTES {
            head.extend_from_slice(&chunk[..chunk.len().min(HEAD_BYTES - head.len())]);
        }
        if utf8 {
            carry.extend_from_slice(chunk);
            match std::str::from_utf8(&carry) {
                Ok(_) => carry.clear(),
                // A character cut by the buffer's end: the rest comes with the next one.
                Err(e) if e.error_len().is_none() => {
                    carry.drain(..e.valid_up_to());
                }
                Err(_) => utf8 = false,
            }
        }
        let n = chunk.len();
        reader.consume(n);
    }
    let bom = head.starts_with(BOM);
    let utf8 = bom || (utf8 && carry.is_empty());
    let text = if utf8 {
        String::from_utf8_lossy(&head).into_owned()
    } else {
        encoding_rs::WINDOWS_1251.decode(&head).0.into_owned()
    };
    Ok(Ok(Sniffed {
        utf8,
        bom,
        separator: separator(&text),
    }))
}

/// The separator is the one of `;` and `,` that the most of the first 30 lines hold
/// more of (a title row above the header may have a comma in it; Russian Excel saves `;`,
/// because `,` is its decimal mark).
fn separator(text: &str) -> u8 {
    let (mut semicolon, mut comma) = (0, 0);
    for line in text.lines().take(30) {
        let (s, c) = (line.matches(';').count(), line.matches(',').count());
        if s > c {
            semicolon += 1;
        } else if c > s {
            comma += 1;
        }
    }
    if comma > semicolon { b',' } else { b';' }
}

fn read_csv(
    mut file: std::fs::File,
    path: &Path,
    meter: &Meter,
    emit: Emit<'_>,
) -> Result<(), SheetError> {
    use std::io::{Seek, SeekFrom};
    let io_error = |e: std::io::Error| unreadable(path, &e);
    meter
        .total
        .store(file.metadata().map_or(0, |m| m.len()), Ordering::Relaxed);
    let sniffed = sniff(&mut file).map_err(io_error)??;
    let skip = if sniffed.bom { BOM.len() as u64 } else { 0 };
    file.seek(SeekFrom::Start(skip)).map_err(io_error)?;
    let counted = Counted { inner: file, meter };
    let text: Box<dyn Read + '_> = if sniffed.utf8 {
        Box::new(counted)
    } else {
        Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding_rs::WINDOWS_1251))
                .build(counted),
        )
    };
    csv_rows(text, sniffed.separator, emit)
}

fn csv_rows(text: impl Read, separator: u8, emit: Emit<'_>) -> Result<(), SheetError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .from_reader(LfOnly {
            inner: BufReader::new(text),
            pending_cr: false,
        });
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => {
                return Err(SheetError::Corrupt {
                    kind: "CSV",
                    detail: e.to_string(),
                });
            }
        }
        // A quoted cell may span lines: a record's line is where it starts.
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cells = record
            .iter()
            .map(|c| {
                let text = String::from_utf8_lossy(c);
                if text.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(text.into_owned())
                }
            })
            .collect();
        if !emit((line, cells)) {
            return Ok(());
        }
    }
}

/// Columns past this one hold nothing an import reads (a stray cell far to the right
/// must not make every row that wide).
const MAX_COLUMNS: usize = 512;

fn cell_of(data: calamine::Data) -> Cell {
    use calamine::Data;
    match data {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s),
        Data::Int(n) => Cell::Number(n as f64),
        Data::Float(f) => Cell::Number(f),
        Data::Bool(b) => Cell::Text(if b { "да" } else { "нет" }.into()),
        Data::DateTime(d) => excel_date(d.as_f64())
            .map(Cell::Date)
            .unwrap_or(Cell::Number(d.as_f64())),
    }
}

fn read_workbook(
    path: &Path,
    format: Format,
    meter: &Meter,
    emit: Emit<'_>,
) -> Result<(), SheetError> {
    use calamine::Reader;
    let kind = match format {
        Format::Xls => "Excel 97-2003",
        _ => "Excel",
    };
    let corrupt = |e: String| SheetError::Corrupt { kind, detail: e };
    let opened = |e: calamine::Error| match e {
        calamine::Error::Io(io) => unreadable(path, &io),
        other => corrupt(other.to_string()),
    };
    if let Format::Xlsx = format {
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook(path).map_err(|e| opened(calamine::Error::Xlsx(e)))?;
        let name = book
            .sheet_names()
            .first()
            .cloned()
            .ok_or(SheetError::NoSheet)?;
        let mut cells = book
            .worksheet_cells_reader(&name)
            .map_err(|e| corrupt(e.to_string()))?;
        meter
            .total
            .store(u64::from(cells.dimensions().end.0) + 1, Ordering::Relaxed);
        let (mut row, mut at): (Vec<Cell>, Option<u32>) = (Vec::new(), None);
        while let Some(cell) = cells.next_cell().map_err(|e| corrupt(e.to_string()))? {
            let (r, c) = cell.get_position();
            if at != Some(r) {
                if let Some(done) = at
                    && !emit((done as usize + 1, std::mem::take(&mut row)))
                {
                    return Ok(());
                }
                at = Some(r);
                meter.done.store(u64::from(r), Ordering::Relaxed);
            }
            let c = c as usize;
            if c < MAX_COLUMNS {
                if row.len() <= c {
                    row.resize(c + 1, Cell::Empty);
                }
                row[c] = cell_of(cell.get_value().clone().into());
            }
        }
        if let Some(done) = at {
            emit((done as usize + 1, row));
        }
        return Ok(());
    }
    let mut book = calamine::open_workbook_auto(path).map_err(opened)?;
    let range = book
        .worksheet_range_at(0)
        .ok_or(SheetError::NoSheet)?
        .map_err(|e| corrupt(e.to_string()))?;
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    meter.total.store(range.height() as u64, Ordering::Relaxed);
    for (i, row) in range.rows().enumerate() {
        meter.done.store(i as u64, Ordering::Relaxed);
        let cells = row
            .iter()
            .take(MAX_COLUMNS)
            .map(|c| cell_of(c.clone()))
            .collect();
        if !emit((first_row + i + 1, cells)) {
            break;
        }
    }
    Ok(())
}

/// An Excel serial day number (1900 date system) as a date.
pub fn excel_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    // Day 1 is 1900-01-01, and Excel counts a 29 February 1900 that never was: from day
    // 61 on, the epoch is 1899-12-30.
    let epoch = if serial < 61.0 {
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    epoch.checked_add_days(chrono::Days::new(serial.trunc() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_csv(bytes: &[u8]) -> Result<Sheet, SheetError> {
        let path = std::env::temp_dir().join(format!("sheet-{}.csv", uuid::Uuid::new_v4()));
        std::fs::write(&path, bytes).expect("temp file");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let sheet = runtime.block_on(async { open(&path)?.collect().await });
        let _ = std::fs::remove_file(&path);
        sheet
    }

    #[test]
    fn crlf_cut_by_the_buffer_end_is_one_line_end() {
        let mut text = String::new();
        LfOnly {
            inner: BufReader::with_capacity(3, "ab\r\ncd\r\ne\rf".as_bytes()),
            pending_cr: false,
        }
        .read_to_string(&mut text)
        .unwrap();
        assert_eq!(text, "ab\ncd\ne\rf");
    }

    #[test]
    fn windows_1251_with_semicolons_is_read() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Регион;Код\nКамчатский край;41001\n");
        let sheet = read_csv(&bytes).unwrap();
        assert_eq!(sheet.rows.len(), 2);
        assert_eq!(sheet.rows[1].1[0].text(), "Камчатский край");
        assert_eq!(sheet.rows[1].0, 2);
    }

    #[test]
    fn line_numbers_count_crlf_and_quoted_line_breaks() {
        let sheet = read_csv("t;;\r\n;;\r\nh;x\r\n\"a\r\nb\";b\r\nc;d\r\n".as_bytes()).unwrap();
        let lines: Vec<usize> = sheet.rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![1, 2, 3, 4, 6]);
    }

    #[test]
    fn utf8_with_bom_and_commas_is_read() {
        let sheet = read_csv("\u{feff}Регион,Код\n\"Край, южный\",7\n".as_bytes()).unwrap();
        assert_eq!(sheet.rows[0].1[0].text(), "Регион");
        assert_eq!(sheet.rows[1].1[0].text(), "Край, южный");
    }

    #[test]
    fn a_comma_in_the_title_does_not_decide_the_separator() {
        let sheet =
            read_csv("Список МБОУ «СОШ № 1», 2025/2026\nФамилия;Имя\nИванов;Артём\n".as_bytes())
                .unwrap();
        assert_eq!(sheet.rows[1].1.len(), 2);
    }

    #[test]
    fn binary_data_is_not_csv() {
        assert!(matches!(
            read_csv(b"PK\x03\x04\0\0"),
            Err(SheetError::Corrupt { .. })
        ));
    }

    #[test]
    fn excel_serial_numbers_are_dates() {
        assert_eq!(excel_date(45658.0), NaiveDate::from_ymd_opt(2025, 1, 1));
        assert_eq!(excel_date(1.0), NaiveDate::from_ymd_opt(1900, 1, 1));
        assert_eq!(excel_date(-3.0), None);
    }
}
