//! A badge baked into its achievement's image (Open Badges 3.0 §5.3), as PNG or SVG: the
//! uploaded image when it is in that format, else the node's artwork for the achievement.

use guildmark_credentials::baked::{self, ImageFormat};

use super::artwork;
use super::badge::CredentialKind;
use super::error::Thing;
use super::file::FileKind;
use super::{Node, NodeError, NodeResult};

impl Node {
    /// Badge `uuid` baked into its achievement's image in `format`.
    pub fn baked_badge(&self, uuid: &str, format: ImageFormat) -> NodeResult<Vec<u8>> {
        let record = self.credential(uuid)?;
        if record.kind != CredentialKind::Badge {
            return Err(NodeError::not_found(
                Thing::Credential,
                format!("{uuid} is not a badge, so there is no image to bake it into"),
            ));
        }
        let achievement = self.achievement_by_id(&record.subject)?;
        let uploaded = match achievement.as_ref().and_then(|a| a.image.as_deref()) {
            Some(hash) => {
                let (file, bytes) = self.file_bytes(hash)?;
                let same = matches!(
                    (file.kind, format),
                    (FileKind::Png, ImageFormat::Png) | (FileKind::Svg, ImageFormat::Svg)
                );
                same.then_some(bytes)
            }
            None => None,
        };
        let credential = serde_json::to_string(&record.credential)?;
        if let Some(image) = uploaded {
            match baked::bake(&image, &credential) {
                Ok(baked) => return Ok(baked),
                // An upload that passed the PNG/SVG sniff but does not parse (a malformed
                // SVG, say): the node's own artwork stands in.
                Err(error) => tracing::warn!(uuid, %error, "the achievement image cannot be baked"),
            }
        }
        let slug = record.community.as_deref().unwrap_or_default();
        let hue = artwork::hue_of(slug);
        let level = achievement.as_ref().and_then(|a| a.level.as_deref());
        let image = match format {
            ImageFormat::Png => artwork::badge_png(hue, level.is_some()),
            ImageFormat::Svg => {
                let title = achievement
                    .as_ref()
                    .map(|a| a.title.as_str())
                    .unwrap_or("Badge");
                let community = self
                    .community(slug)
                    .map(|c| c.name)
                    .unwrap_or_else(|_| slug.to_owned());
                artwork::badge_svg(title, &community, level, hue).into_bytes()
            }
        };
        // The node's artwork always bakes; failing would be a bug in it.
        baked::bake(&image, &credential).map_err(|e| NodeError::stored("badge artwork")(e.into()))
    }
}
