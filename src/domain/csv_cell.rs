//! CSV cells that are safe to open in a spreadsheet (OWASP's CSV-injection
//! rule): a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
//! would be read as a formula, so exports prefix it with `'`, which the
//! spreadsheet shows as text; imports take that `'` off again, so an exported
//! file imports back unchanged (a phone `+4930…` included).

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as an export writes it.
pub fn neutralise(cell: String) -> String {
    if cell.starts_with(TRIGGERS) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// The value of a cell an import reads (the inverse of [`neutralise`]).
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(TRIGGERS) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_restored() {
        for cell in [
            "=HYPERLINK(\"http://x\")",
            "+4930123456",
            "-1",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            let safe = neutralise(cell.to_string());
            assert_eq!(safe, format!("'{cell}"));
            assert_eq!(restore(&safe), cell);
        }
        assert_eq!(neutralise("Ana".into()), "Ana");
        assert_eq!(
            restore("'quoted"),
            "'quoted",
            "a leading quote of ordinary text stays"
        );
    }
}
