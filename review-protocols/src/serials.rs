//! Serial numbers of a batch as producers write them: single serials and ranges such as
//! `MPPT20-2026-0001..0050` (or `MPPT20-2026-0001..MPPT20-2026-0050`), expanded to the
//! list of serials. A batch credential keeps the ranges, so a lot of thousands of units
//! stays small; every verifier expands them the same way.

/// The most units one batch may list (it bounds what a verifier expands).
pub const MAX_LOT: u64 = 100_000;

/// Why serial numbers were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("serial numbers: {0}")]
pub struct SerialError(pub String);

/// Expands serials and ranges, in order, refusing duplicates, empty serials, characters
/// outside printable ASCII without spaces, and more than [`MAX_LOT`] units.
pub fn expand(items: &[String]) -> Result<Vec<String>, SerialError> {
    let mut out = Vec::new();
    let too_many = || SerialError(format!("more than {MAX_LOT} units"));
    for item in items {
        match item.split_once("..") {
            None => out.push(checked(item)?.to_owned()),
            Some((first, last)) => {
                let (prefix, from, to, width) = range(item, checked(first)?, checked(last)?)?;
                if to - from + 1 > MAX_LOT {
                    return Err(SerialError(format!(
                        "{item:?} has more than {MAX_LOT} units"
                    )));
                }
                out.extend((from..=to).map(|n| numbered(prefix, n, width)));
            }
        }
        if out.len() as u64 > MAX_LOT {
            return Err(too_many());
        }
    }
    // Every batch is expanded on every verification: find duplicates by sorting
    // references, and only when there is one, name the first repeated in listing order.
    let mut sorted: Vec<&str> = out.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
        let mut seen = std::collections::HashSet::new();
        if let Some(serial) = out.iter().find(|s| !seen.insert(s.as_str())) {
            return Err(SerialError(format!("{serial:?} is listed twice")));
        }
    }
    Ok(out)
}

/// `prefix` and `n` zero-padded to `width` digits, written into one allocation.
fn numbered(prefix: &str, n: u64, width: usize) -> String {
    use std::fmt::Write;
    let mut serial = String::with_capacity(prefix.len() + width.max(20));
    // Writing to a String cannot fail.
    let _ = write!(serial, "{prefix}{n:0width$}");
    serial
}

fn checked(serial: &str) -> Result<&str, SerialError> {
    if serial.is_empty() || serial.len() > 64 {
        return Err(SerialError(format!(
            "{serial:?} must have 1 to 64 characters"
        )));
    }
    if !serial.bytes().all(|b| b.is_ascii_graphic() && b != b'/') || serial.contains("..") {
        return Err(SerialError(format!(
            "{serial:?} may hold only printable ASCII without spaces, '/' or '..'"
        )));
    }
    Ok(serial)
}

/// `PREFIX0001..0050` or `PREFIX0001..PREFIX0050` → (prefix, 1, 50, 4).
fn range<'a>(
    item: &str,
    first: &'a str,
    last: &str,
) -> Result<(&'a str, u64, u64, usize), SerialError> {
    let bad = |why: &str| SerialError(format!("{item:?} is not a range ({why})"));
    let digits = first.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 18 {
        return Err(bad("the first serial must end in 1 to 18 digits"));
    }
    let (prefix, from) = first.split_at(first.len() - digits);
    let to = last.strip_prefix(prefix).unwrap_or(last);
    if to.len() != digits || !to.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(&format!(
            "the last serial must be {digits} digits, or the first serial's prefix {prefix:?} and {digits} digits"
        )));
    }
    let (from, to): (u64, u64) = (
        from.parse().map_err(|_| bad("not a number"))?,
        to.parse().map_err(|_| bad("not a number"))?,
    );
    if to < from {
        return Err(bad("it runs backwards"));
    }
    Ok((prefix, from, to, digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ranges_expand_with_their_width() {
        let serials = expand(&strings(&["MPPT20-2026-0001..0003", "X-9"])).unwrap();
        assert_eq!(
            serials,
            [
                "MPPT20-2026-0001",
                "MPPT20-2026-0002",
                "MPPT20-2026-0003",
                "X-9"
            ]
        );
        let full = expand(&strings(&["A08..A10"])).unwrap();
        assert_eq!(full, ["A08", "A09", "A10"]);
        let widest = expand(&strings(&["Z000000000000000009..000000000000000010"])).unwrap();
        assert_eq!(widest, ["Z000000000000000009", "Z000000000000000010"]);
        let bare = expand(&strings(&["0..2"])).unwrap();
        assert_eq!(bare, ["0", "1", "2"]);
    }

    #[test]
    fn the_first_serial_repeated_is_named() {
        let error = expand(&strings(&["B9", "A1..3", "B9", "A2"])).unwrap_err();
        assert_eq!(
            error.to_string(),
            SerialError("\"B9\" is listed twice".into()).to_string()
        );
    }

    #[test]
    fn bad_serials_are_refused() {
        for bad in [
            &["A1..A0"][..],
            &["A..B"],
            &["A1..12"],
            &["A1", "A1"],
            &["A1..3", "A2"],
            &[""],
            &["a b"],
            &["a/b"],
            &["A000001..A100002"],
            &["A0000000000000000001..2"],
        ] {
            assert!(expand(&strings(bad)).is_err(), "{bad:?}");
        }
    }
}
