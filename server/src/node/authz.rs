//! Who may do what: the one table every write endpoint consults.

use std::collections::BTreeSet;

use super::account::Caller;
use super::community::Role;
use super::{NodeError, NodeResult};

/// A write action on the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create a community.
    CreateCommunity,
    /// Change a community's name or description.
    UpdateCommunity,
    /// Rotate a community's issuer key.
    RotateKey,
    /// Add a member or change their roles.
    SetMember,
    /// Remove a member.
    RemoveMember,
    /// Define an achievement.
    CreateAchievement,
    /// Change an achievement.
    UpdateAchievement,
    /// Upload evidence or an image.
    UploadFile,
    /// Issue a badge.
    IssueBadge,
    /// Issue a badge although a prerequisite is missing.
    OverridePrerequisites,
    /// Revoke a badge.
    Revoke,
    /// Suspend a badge.
    Suspend,
    /// Lift a suspension.
    Reinstate,
    /// Endorse a badge or achievement.
    Endorse,
    /// Publish a review protocol.
    PublishProtocol,
    /// Register a product batch.
    RegisterBatch,
    /// Attest a batch (roles are the caller's in every community: a reviewer reviews
    /// other communities' batches).
    Attest,
}

/// Who an action is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// The node's operator.
    Operator,
    /// Members of the community with one of these roles.
    Roles(&'static [Role]),
    /// Anyone holding the achievement concerned (any community, any role).
    Holder,
}

/// The table.
pub fn permission(action: Action) -> Permission {
    use Action::*;
    const ADMIN: &[Role] = &[Role::Admin];
    const AWARDERS: &[Role] = &[Role::Admin, Role::Assessor];
    const PRODUCERS: &[Role] = &[Role::Admin, Role::Producer];
    const REVIEWERS: &[Role] = &[Role::Reviewer];
    match action {
        CreateCommunity => Permission::Operator,
        UpdateCommunity
        | RotateKey
        | SetMember
        | RemoveMember
        | CreateAchievement
        | UpdateAchievement
        | OverridePrerequisites
        | Revoke
        | PublishProtocol => Permission::Roles(ADMIN),
        RegisterBatch => Permission::Roles(PRODUCERS),
        Attest => Permission::Roles(REVIEWERS),
        UploadFile | IssueBadge | Suspend | Reinstate => Permission::Roles(AWARDERS),
        Endorse => Permission::Holder,
    }
}

/// Decides `action` for `caller`, whose roles in the community concerned are `roles`
/// and who holds the achievement concerned if `holds` (only asked for endorsements).
/// Anonymous callers get 401, others who may not 403.
pub fn authorize(
    caller: Option<&Caller>,
    roles: &BTreeSet<Role>,
    action: Action,
    holds: impl FnOnce() -> NodeResult<bool>,
) -> NodeResult<()> {
    let Some(caller) = caller else {
        return Err(NodeError::Unauthenticated(
            "log in or send an API token (Authorization: Bearer …)".into(),
        ));
    };
    let allowed = match permission(action) {
        Permission::Operator => caller.account.operator,
        Permission::Roles(needed) => needed.iter().any(|r| roles.contains(r)),
        Permission::Holder => holds()?,
    };
    if allowed {
        return Ok(());
    }
    Err(NodeError::Forbidden(match permission(action) {
        Permission::Operator => "only the node's operator may do this".to_owned(),
        Permission::Roles(needed) => format!(
            "this needs the role {}",
            needed
                .iter()
                .map(|r| format!("{r:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Permission::Holder => "only members holding the achievement may endorse it".to_owned(),
    }))
}

impl super::Node {
    /// Authorizes `action` in community `slug` for `caller` (404 if there is no such
    /// community).
    pub fn allow(&self, caller: Option<&Caller>, slug: &str, action: Action) -> NodeResult<()> {
        self.community(slug)?;
        let roles = match caller {
            Some(c) => self.roles(slug, &c.account.username)?,
            None => BTreeSet::new(),
        };
        authorize(caller, &roles, action, || Ok(false))
    }

    /// Authorizes an attestation: the caller's roles in every community count (a
    /// reviewer reviews other communities' batches).
    pub fn allow_attest(&self, caller: Option<&Caller>) -> NodeResult<()> {
        let roles: BTreeSet<Role> = match caller {
            Some(c) => self
                .memberships(&c.account.username)?
                .into_iter()
                .flat_map(|(_, roles)| roles)
                .collect(),
            None => BTreeSet::new(),
        };
        authorize(caller, &roles, Action::Attest, || Ok(false))
    }

    /// Authorizes endorsing `target` (a badge URL or achievement id): its holders may.
    pub fn allow_endorse(&self, caller: Option<&Caller>, target: Option<&str>) -> NodeResult<()> {
        authorize(caller, &BTreeSet::new(), Action::Endorse, || {
            let (Some(caller), Some(target)) = (caller, target) else {
                return Ok(false);
            };
            let achievement = self.endorsed_achievement(target)?;
            self.holds(&caller.account.username, &achievement)
        })
    }
}
