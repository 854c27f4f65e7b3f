//! The provenance of `testdata/` cannot rot: every file listed in `testdata/SHA256SUMS`
//! exists with that SHA-256, and every file under `testdata/` (except `README.md`,
//! `SHA256SUMS` and `LICENSES/`) is listed there.

use crate::common::vectors;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// `SHA256SUMS` as path → hex digest (`sha256sum` format: `<hex>  <path>`).
fn listed() -> BTreeMap<String, String> {
    let path = vectors().join("SHA256SUMS");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut sums = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let (hex, file) = line
            .split_once("  ")
            .unwrap_or_else(|| panic!("SHA256SUMS line {}: not `<sha256>  <path>`", n + 1));
        assert!(
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "SHA256SUMS line {}: {hex:?} is not a lowercase SHA-256",
            n + 1
        );
        assert!(
            sums.insert(file.to_owned(), hex.to_owned()).is_none(),
            "SHA256SUMS lists {file} twice"
        );
    }
    sums
}

/// Every file under `dir`, as paths relative to `root` with `/` separators.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).unwrap();
            let parts: Vec<_> = rel.iter().map(|p| p.to_str().unwrap()).collect();
            out.push(parts.join("/"));
        }
    }
}

#[test]
fn every_file_has_the_listed_sha256() {
    let root = vectors();
    let sums = listed();
    assert!(sums.len() > 100, "only {} files in SHA256SUMS", sums.len());
    let mut wrong = Vec::new();
    for (file, expected) in &sums {
        match std::fs::read(root.join(file)) {
            Ok(bytes) => {
                let got = hex::encode(Sha256::digest(&bytes));
                if &got != expected {
                    wrong.push(format!("{file}: SHA-256 {got}, SHA256SUMS says {expected}"));
                }
            }
            Err(e) => wrong.push(format!("{file}: {e}")),
        }
    }
    assert!(
        wrong.is_empty(),
        "testdata/ differs from SHA256SUMS:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_file_is_listed() {
    let root = vectors();
    let sums = listed();
    let mut on_disk = Vec::new();
    files_under(&root, &root, &mut on_disk);
    let unlisted: Vec<_> = on_disk
        .iter()
        .filter(|f| *f != "README.md" && *f != "SHA256SUMS" && !f.starts_with("LICENSES/"))
        .filter(|f| !sums.contains_key(*f))
        .collect();
    assert!(
        unlisted.is_empty(),
        "files in testdata/ not in SHA256SUMS (add them with their source in README.md):\n{}",
        unlisted
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        !sums
            .keys()
            .any(|f| f == "README.md" || f == "SHA256SUMS" || f.starts_with("LICENSES/")),
        "SHA256SUMS lists README.md, itself or a licence text"
    );
}
