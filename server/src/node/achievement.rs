//! Achievements (Open Badges 3.0 badge classes): criteria, image, tags, level,
//! prerequisites and the protocol an assessment follows.

use std::collections::BTreeSet;

use guildmark_credentials::badge::{self, Image, Profile};
use guildmark_credentials::Timestamp;
use serde::{Deserialize, Serialize};

use super::account::{check_name, Caller};
use super::authz::Action;
use super::community::{check_line, check_text, check_text_named, Community};
use super::error::{Field, Thing};
use super::file::FileKind;
use super::{key, now, read, scan, write, Node, NodeError, NodeResult};

/// The largest achievement image, in bytes.
pub const MAX_IMAGE: u64 = 256 * 1024;

/// An achievement defined by a community.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Achievement {
    /// Its URL, the `id` badges cite.
    pub id: String,
    /// The defining community.
    pub community: String,
    /// Short name used in URLs.
    pub name: String,
    /// Display title.
    pub title: String,
    /// What it stands for.
    pub description: String,
    /// How it is earned.
    pub criteria: String,
    /// SHA-256 (hex) of its uploaded image (PNG or SVG).
    pub image: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Level, e.g. `1`, `beginner`.
    pub level: Option<String>,
    /// Achievements (ids) a recipient must already hold.
    pub prerequisites: Vec<String>,
    /// The protocol an assessment must follow (its id or content hash).
    pub protocol: Option<String>,
    /// When it was defined.
    #[schema(value_type = String)]
    pub created: Timestamp,
}

/// The fields of an achievement a request sets.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AchievementFields {
    /// Display title.
    pub title: Option<String>,
    /// What it stands for.
    pub description: Option<String>,
    /// How it is earned.
    pub criteria: Option<String>,
    /// SHA-256 of an uploaded PNG or SVG.
    pub image: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Level.
    pub level: Option<String>,
    /// Prerequisites: achievement ids, or names of this community's achievements.
    pub prerequisites: Option<Vec<String>>,
    /// Assessment protocol.
    pub protocol: Option<String>,
}

impl Achievement {
    /// The Open Badges `Achievement` a badge embeds.
    pub fn to_open_badge(&self, community: &Community, public_url: &str) -> badge::Achievement {
        let mut achievement =
            badge::Achievement::new(&self.id, &self.title, &self.description, &self.criteria);
        achievement.achievement_type = Some("Badge".into());
        let mut creator = Profile::new(&community.url, &community.name);
        creator.url = Some(community.url.clone());
        achievement.creator = Some(creator);
        if let Some(hash) = &self.image {
            achievement.image = Some(Image::new(format!("{public_url}/files/{hash}")));
        }
        if !self.tags.is_empty() {
            achievement.tag = Some(self.tags.clone());
        }
        achievement
    }
}

impl Node {
    /// The achievement `name` of `slug`.
    pub fn achievement(&self, slug: &str, name: &str) -> NodeResult<Achievement> {
        read(&self.trees.achievements, &key(&[slug, name]))?.ok_or_else(|| {
            NodeError::not_found(
                Thing::Achievement,
                format!("{slug:?} has no achievement {name:?}"),
            )
        })
    }

    /// An achievement by its URL, if it is one of this node's.
    pub fn achievement_by_id(&self, id: &str) -> NodeResult<Option<Achievement>> {
        let prefix = format!("{}/communities/", self.public_url());
        let Some((slug, name)) = id
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split_once("/achievements/"))
        else {
            return Ok(None);
        };
        read(&self.trees.achievements, &key(&[slug, name]))
    }

    /// A community's achievements.
    pub fn achievements(&self, slug: &str) -> NodeResult<Vec<Achievement>> {
        self.community(slug)?;
        scan(&self.trees.achievements, &key(&[slug, ""]))
    }

    /// Defines an achievement of `slug` (its admins).
    pub async fn create_achievement(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        name: &str,
        fields: AchievementFields,
    ) -> NodeResult<Achievement> {
        self.permit(caller, slug, Action::CreateAchievement)?;
        let community = self.community(slug)?;
        check_name(name, "achievement name").map_err(|e| e.at(Field::Name))?;
        if self.trees.achievements.contains_key(key(&[slug, name]))? {
            return Err(NodeError::conflict(
                Thing::Achievement,
                format!("{slug:?} already has an achievement {name:?}"),
            )
            .at(Field::Name));
        }
        let mut achievement = Achievement {
            id: format!("{}/achievements/{name}", community.url),
            community: slug.to_owned(),
            name: name.to_owned(),
            title: String::new(),
            description: String::new(),
            criteria: String::new(),
            image: None,
            tags: Vec::new(),
            level: None,
            prerequisites: Vec::new(),
            protocol: None,
            created: now(),
        };
        let required = [
            (fields.title.is_none(), Field::Title),
            (fields.description.is_none(), Field::Description),
            (fields.criteria.is_none(), Field::Criteria),
        ];
        if let Some((_, field)) = required.iter().find(|(missing, _)| *missing) {
            return Err(NodeError::invalid(
                *field,
                "an achievement needs a title, a description and criteria",
            ));
        }
        self.apply(&mut achievement, fields)?;
        write(&self.trees.achievements, &key(&[slug, name]), &achievement)?;
        self.flush().await?;
        Ok(achievement)
    }

    /// Changes an achievement's fields (its community's admins). Badges already issued
    /// keep what they embed.
    pub async fn update_achievement(
        &self,
        caller: Option<&Caller>,
        slug: &str,
        name: &str,
        fields: AchievementFields,
    ) -> NodeResult<Achievement> {
        self.permit(caller, slug, Action::UpdateAchievement)?;
        let mut achievement = self.achievement(slug, name)?;
        self.apply(&mut achievement, fields)?;
        write(&self.trees.achievements, &key(&[slug, name]), &achievement)?;
        self.flush().await?;
        Ok(achievement)
    }

    fn apply(&self, achievement: &mut Achievement, fields: AchievementFields) -> NodeResult<()> {
        if let Some(title) = fields.title {
            check_line(&title, Field::Title, 1, 200)?;
            achievement.title = title;
        }
        if let Some(description) = fields.description {
            check_text(&description, Field::Description, 1, 5000)?;
            achievement.description = description;
        }
        if let Some(criteria) = fields.criteria {
            check_text(&criteria, Field::Criteria, 1, 10_000)?;
            achievement.criteria = criteria;
        }
        if let Some(hash) = fields.image {
            let file = self.file(&hash).map_err(|e| e.at(Field::Image))?;
            if !matches!(file.kind, FileKind::Png | FileKind::Svg) {
                return Err(NodeError::invalid(
                    Field::Image,
                    format!(
                        "an achievement image must be PNG or SVG; {hash} is {}",
                        file.kind.media_type()
                    ),
                ));
            }
            if file.size > MAX_IMAGE {
                return Err(NodeError::too_large(
                    Some(Field::Image),
                    format!(
                        "an achievement image must be at most {MAX_IMAGE} bytes; {hash} has {}",
                        file.size
                    ),
                ));
            }
            achievement.image = Some(hash);
        }
        if let Some(tags) = fields.tags {
            for tag in &tags {
                check_text_named(tag, Field::Tags, "a tag", 1, 50)?;
            }
            achievement.tags = tags;
        }
        if let Some(level) = fields.level {
            check_line(&level, Field::Level, 1, 50)?;
            achievement.level = Some(level);
        }
        if let Some(protocol) = fields.protocol {
            check_line(&protocol, Field::Protocol, 1, 200)?;
            achievement.protocol = Some(protocol);
        }
        if let Some(prerequisites) = fields.prerequisites {
            let mut ids = Vec::new();
            for given in prerequisites {
                let id = if given.contains("://") {
                    given
                } else {
                    format!(
                        "{}/communities/{}/achievements/{given}",
                        self.public_url(),
                        achievement.community
                    )
                };
                if self.achievement_by_id(&id)?.is_none() {
                    return Err(NodeError::invalid(
                        Field::Prerequisites,
                        format!("the prerequisite {id} is not an achievement on this node"),
                    ));
                }
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            self.refuse_cycles(&achievement.id, &ids)?;
            achievement.prerequisites = ids;
        }
        Ok(())
    }

    /// Refuses prerequisites that lead back to `id`.
    fn refuse_cycles(&self, id: &str, prerequisites: &[String]) -> NodeResult<()> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = prerequisites.to_vec();
        while let Some(next) = stack.pop() {
            if next == id {
                return Err(NodeError::invalid(
                    Field::Prerequisites,
                    format!("the prerequisites would make {id} a prerequisite of itself"),
                ));
            }
            if seen.insert(next.clone()) {
                if let Some(a) = self.achievement_by_id(&next)? {
                    stack.extend(a.prerequisites);
                }
            }
        }
        Ok(())
    }
}
