//! Plain-text tables for people: columns padded to their widest cell.

use crate::error::Result;
use crate::output;

/// Prints `header` and `rows` as aligned columns, two spaces apart.
pub fn print<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> Result<()> {
    let header = header.map(String::from);
    let mut widths = header.each_ref().map(|cell| cell.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        output::line(line.join("  ").trim_end())?;
    }
    Ok(())
}
