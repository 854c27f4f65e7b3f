//! Who may do what: the one table every write operation consults, and the permit that
//! only it hands out.

use std::collections::BTreeSet;

use super::account::{Account, Caller};
use super::community::Role;
use super::error::AuthError;
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
    /// Add or remove a peer node.
    ManagePeers,
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
        CreateCommunity | ManagePeers => Permission::Operator,
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
        UploadFile | IssueBadge | Reinstate => Permission::Roles(AWARDERS),
        Endorse => Permission::Holder,
    }
}

/// Decides `action` for `caller`, whose roles in the community concerned are `roles`
/// and who holds the achievement concerned if `holds` (only asked for endorsements).
/// Anonymous callers get 401, others who may not 403.
fn authorize<'a>(
    caller: Option<&'a Caller>,
    roles: &BTreeSet<Role>,
    action: Action,
    holds: impl FnOnce(&Caller) -> NodeResult<bool>,
) -> NodeResult<Permit<'a>> {
    let Some(caller) = caller else {
        return Err(AuthError::Missing.into());
    };
    let allowed = match permission(action) {
        Permission::Operator => caller.account().operator,
        Permission::Roles(needed) => needed.iter().any(|r| roles.contains(r)),
        Permission::Holder => holds(caller)?,
    };
    if allowed {
        return Ok(Permit { caller, action });
    }
    let detail = match permission(action) {
        Permission::Operator => "only the node's operator may do this".to_owned(),
        Permission::Roles(needed) => format!(
            "this needs the role {}",
            needed
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        Permission::Holder => "only members holding the achievement may endorse it".to_owned(),
    };
    Err(NodeError::Forbidden { action, detail })
}

/// Proof that a caller may do an action: only the authorization here makes one, so an
/// operation that takes or makes a permit cannot run unchecked (no handler needs to
/// have remembered to ask).
#[derive(Debug, Clone, Copy)]
pub struct Permit<'a> {
    caller: &'a Caller,
    action: Action,
}

impl<'a> Permit<'a> {
    /// Who may act.
    pub fn account(&self) -> &'a Account {
        self.caller.account()
    }

    /// What they may do.
    pub fn action(&self) -> Action {
        self.action
    }
}

impl super::Node {
    /// Authorizes `action` in community `slug` for `caller` (404 if there is no such
    /// community, then 401 for nobody, 403 for someone without the role).
    pub(crate) fn permit<'a>(
        &self,
        caller: Option<&'a Caller>,
        slug: &str,
        action: Action,
    ) -> NodeResult<Permit<'a>> {
        self.community(slug)?;
        let roles = match caller {
            Some(c) => self.roles(slug, &c.account().username)?,
            None => BTreeSet::new(),
        };
        authorize(caller, &roles, action, |_| Ok(false))
    }

    /// Authorizes an action of the node as a whole (creating a community).
    pub(crate) fn permit_on_node<'a>(
        &self,
        caller: Option<&'a Caller>,
        action: Action,
    ) -> NodeResult<Permit<'a>> {
        authorize(caller, &BTreeSet::new(), action, |_| Ok(false))
    }

    /// Authorizes an attestation: the caller's roles in every community count (a
    /// reviewer reviews other communities' batches).
    pub(crate) fn permit_attest<'a>(&self, caller: Option<&'a Caller>) -> NodeResult<Permit<'a>> {
        let roles: BTreeSet<Role> = match caller {
            Some(c) => self
                .memberships(&c.account().username)?
                .into_iter()
                .flat_map(|(_, roles)| roles)
                .collect(),
            None => BTreeSet::new(),
        };
        authorize(caller, &roles, Action::Attest, |_| Ok(false))
    }

    /// Authorizes endorsing `target` (a badge URL or achievement id): its holders may.
    pub(crate) fn permit_endorse<'a>(
        &self,
        caller: Option<&'a Caller>,
        target: Option<&str>,
    ) -> NodeResult<Permit<'a>> {
        authorize(caller, &BTreeSet::new(), Action::Endorse, |caller| {
            let Some(target) = target else {
                return Ok(false);
            };
            let achievement = self.endorsed_achievement(target)?;
            self.holds(&caller.account().username, &achievement)
        })
    }
}
