//! A minimal Excel 97-2003 (.xls, BIFF8) writer for test fixtures, since no maintained
//! crate writes the format the school system exports: a compound file with a «Workbook»
//! stream holding the globals (BOF, one BoundSheet8, EOF) and one worksheet of LABEL
//! (UTF-16 text) and NUMBER cells ([MS-XLS] 2.4.21, 2.4.28, 2.4.148, 2.4.180).

use std::io::{Cursor, Write};

pub enum XlsCell<'a> {
    Text(&'a str),
    Number(f64),
}

fn record(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(body.len() as u16).to_le_bytes());
    out.extend_from_slice(body);
}

/// BOF of the globals (0x0005) or of a worksheet (0x0010), BIFF8.
fn bof(out: &mut Vec<u8>, substream: u16) {
    let mut body = Vec::new();
    body.extend_from_slice(&0x0600u16.to_le_bytes());
    body.extend_from_slice(&substream.to_le_bytes());
    body.extend_from_slice(&0x0DBBu16.to_le_bytes());
    body.extend_from_slice(&0x07CCu16.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes());
    body.extend_from_slice(&0x0006u32.to_le_bytes());
    record(out, 0x0809, &body);
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The bytes of an .xls file with one sheet named «Лист1» holding `rows`.
pub fn workbook(rows: &[Vec<XlsCell<'_>>]) -> Vec<u8> {
    let name = "Лист1";
    let mut globals = Vec::new();
    bof(&mut globals, 0x0005);
    // BoundSheet8: the sheet's BOF offset is patched in once the globals' length is known.
    let mut sheet_entry = vec![0u8; 4];
    sheet_entry.extend_from_slice(&[0, 0]);
    sheet_entry.push(name.encode_utf16().count() as u8);
    sheet_entry.push(1);
    sheet_entry.extend(utf16(name));
    let offset_at = globals.len() + 4;
    record(&mut globals, 0x0085, &sheet_entry);
    record(&mut globals, 0x000A, &[]);
    let sheet_start = globals.len() as u32;
    globals[offset_at..offset_at + 4].copy_from_slice(&sheet_start.to_le_bytes());

    let mut sheet = Vec::new();
    bof(&mut sheet, 0x0010);
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0) as u16;
    let mut dimensions = Vec::new();
    dimensions.extend_from_slice(&0u32.to_le_bytes());
    dimensions.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    dimensions.extend_from_slice(&0u16.to_le_bytes());
    dimensions.extend_from_slice(&columns.to_le_bytes());
    dimensions.extend_from_slice(&0u16.to_le_bytes());
    record(&mut sheet, 0x0200, &dimensions);
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let mut body = Vec::new();
            body.extend_from_slice(&(r as u16).to_le_bytes());
            body.extend_from_slice(&(c as u16).to_le_bytes());
            body.extend_from_slice(&0u16.to_le_bytes());
            match cell {
                XlsCell::Text(text) => {
                    body.extend_from_slice(&(text.encode_utf16().count() as u16).to_le_bytes());
                    body.push(1);
                    body.extend(utf16(text));
                    record(&mut sheet, 0x0204, &body);
                }
                XlsCell::Number(n) => {
                    body.extend_from_slice(&n.to_le_bytes());
                    record(&mut sheet, 0x0203, &body);
                }
            }
        }
    }
    record(&mut sheet, 0x000A, &[]);

    let mut stream = globals;
    stream.extend(sheet);
    let mut file =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
            .expect("compound file");
    let mut workbook = file.create_stream("/Workbook").expect("Workbook stream");
    workbook.write_all(&stream).expect("write Workbook");
    drop(workbook);
    file.flush().expect("flush");
    file.into_inner().into_inner()
}
