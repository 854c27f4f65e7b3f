//! Uploaded evidence and images, stored by SHA-256 and served as inert content.

use guildmark_credentials::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::account::Caller;
use super::authz::Action;
use super::error::{Field, StorageError, Thing};
use super::{now, read, write, Node, NodeError, NodeResult};

/// The largest upload, in bytes.
pub const MAX_FILE: usize = 5 * 1024 * 1024;

/// What a file is, decided from its bytes (never from what the uploader claimed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// PNG image.
    Png,
    /// JPEG image.
    Jpeg,
    /// SVG image (served sandboxed: it may contain script).
    Svg,
    /// PDF document.
    Pdf,
    /// UTF-8 text.
    Text,
    /// Anything else.
    Binary,
}

impl FileKind {
    /// Recognises a file by its content.
    pub fn sniff(bytes: &[u8]) -> FileKind {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            FileKind::Png
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            FileKind::Jpeg
        } else if bytes.starts_with(b"%PDF-") {
            FileKind::Pdf
        } else if let Ok(text) = std::str::from_utf8(bytes) {
            let head = text.trim_start_matches('\u{feff}').trim_start();
            // The first KiB, cut where a character starts (slicing mid-character panics).
            let mut end = head.len().min(1024);
            while !head.is_char_boundary(end) {
                end -= 1;
            }
            let looks_svg = head.starts_with("<svg")
                || ((head.starts_with("<?xml") || head.starts_with("<!--"))
                    && head[..end].contains("<svg"));
            if looks_svg {
                FileKind::Svg
            } else {
                FileKind::Text
            }
        } else {
            FileKind::Binary
        }
    }

    /// The media type it is served as.
    pub fn media_type(self) -> &'static str {
        match self {
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Svg => "image/svg+xml",
            FileKind::Pdf => "application/pdf",
            FileKind::Text => "text/plain; charset=utf-8",
            FileKind::Binary => "application/octet-stream",
        }
    }
}

/// An uploaded file's record.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredFile {
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// What it is.
    pub kind: FileKind,
    /// Size in bytes.
    pub size: u64,
    /// The name it was uploaded with.
    pub name: String,
    /// Who uploaded it first.
    pub uploaded_by: String,
    /// When.
    #[schema(value_type = String)]
    pub uploaded: Timestamp,
}

/// Checks an uploaded file's name: a plain name, not a path.
pub fn check_file_name(name: &str) -> NodeResult<()> {
    let bad = name.is_empty()
        || name.len() > 255
        || name == "."
        || name.contains("..")
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(NodeError::invalid(
            Field::File,
            format!(
                "the file name {name:?} must be a plain name (no path, '..' or control characters)"
            ),
        ));
    }
    Ok(())
}

impl Node {
    /// Refuses a caller who may not upload to `slug`, before a large body is read
    /// ([`Node::store_file`] decides again).
    pub fn may_upload(&self, caller: Option<&Caller>, slug: &str) -> NodeResult<()> {
        self.permit(caller, slug, Action::UploadFile).map(|_| ())
    }

    /// Stores an upload to `slug` (its admins and assessors; idempotent: the same bytes
    /// are stored once).
    pub async fn store_file(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        name: &str,
        bytes: &[u8],
    ) -> NodeResult<StoredFile> {
        let permit = self.permit(caller, slug, Action::UploadFile)?;
        check_file_name(name)?;
        if bytes.len() > MAX_FILE {
            return Err(too_large_file());
        }
        if bytes.is_empty() {
            return Err(NodeError::invalid(Field::File, "the file is empty"));
        }
        let sha256 = hex(&Sha256::digest(bytes));
        if let Some(existing) = read(&self.trees.files, sha256.as_bytes())? {
            return Ok(existing);
        }
        self.room(bytes.len() as u64 * 2)?;
        let file = StoredFile {
            sha256: sha256.clone(),
            kind: FileKind::sniff(bytes),
            size: bytes.len() as u64,
            name: name.to_owned(),
            uploaded_by: permit.account().username.clone(),
            uploaded: now(),
        };
        self.trees
            .files
            .insert(format!("data:{sha256}").as_bytes(), bytes)?;
        write(&self.trees.files, sha256.as_bytes(), &file)?;
        self.flush().await?;
        Ok(file)
    }

    /// An uploaded file's record.
    pub fn file(&self, sha256: &str) -> NodeResult<StoredFile> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(NodeError::invalid_request(format!(
                "{sha256:?} is not a SHA-256 in hex"
            )));
        }
        read(&self.trees.files, sha256.to_ascii_lowercase().as_bytes())?
            .ok_or_else(|| NodeError::not_found(Thing::File, format!("there is no file {sha256}")))
    }

    /// An uploaded file's content.
    pub fn file_bytes(&self, sha256: &str) -> NodeResult<(StoredFile, Vec<u8>)> {
        let file = self.file(sha256)?;
        let bytes = self
            .trees
            .files
            .get(format!("data:{}", file.sha256).as_bytes())?
            .ok_or_else(|| StorageError::Missing(format!("the content of {sha256}")))?;
        Ok((file, bytes.to_vec()))
    }
}

/// The refusal of a file over [`MAX_FILE`].
pub fn too_large_file() -> NodeError {
    NodeError::too_large(
        Some(Field::File),
        format!("files may have at most {MAX_FILE} bytes"),
    )
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::FileKind;

    #[test]
    fn sniffing_cuts_the_first_kib_between_characters() {
        // 'é' straddles byte 1024: slicing there used to panic.
        let text = format!("<?xml{}é<svg>", "a".repeat(1018));
        assert_eq!(FileKind::sniff(text.as_bytes()), FileKind::Text);
        let early = format!("<?xml{}<svg>", "é".repeat(100));
        assert_eq!(FileKind::sniff(early.as_bytes()), FileKind::Svg);
    }
}
