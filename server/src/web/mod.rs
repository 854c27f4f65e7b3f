//! The web UI's view of the node: [`guildmark_frontend::NodeView`] over the node's
//! stores and ledger. Pages read through `views`; forms' changes become node
//! operations in `change`, authorized by the node exactly as the same operation through
//! the JSON API, so a form can do exactly what its user could do with a token.

mod change;
mod views;

use std::sync::Arc;

use guildmark_credentials::merkle;
use guildmark_credentials::Report;
use guildmark_frontend::capitalised;
use guildmark_frontend::node::*;
use guildmark_review_protocols::evaluation::Verdict;

use crate::cookie::{start_session, CLEAR_SESSION};
use crate::ledger::entry::LedgerEntry;
use crate::node::account::Credential;
use crate::node::badge::CredentialKind;
use crate::node::{Node, NodeError, Thing};
use views::{checkpoint_view, protocol_summary, receipt_view, word};

/// The node as the web UI sees it.
pub struct WebNode {
    node: Arc<Node>,
}

impl WebNode {
    /// Wraps `node` for the UI.
    pub fn shared(node: Arc<Node>) -> SharedNode {
        Arc::new(WebNode { node })
    }
}

/// Why a page cannot be shown: nothing there, or the node failed.
fn unavailable(error: NodeError) -> Unavailable {
    match error {
        NodeError::NotFound { detail, .. } => Unavailable::NotFound(detail),
        other => Unavailable::Failed(crate::problem::Problem::from(other).detail),
    }
}

impl NodeView for WebNode {
    fn public_url(&self) -> String {
        self.node.public_url().to_owned()
    }

    fn trust_file(&self) -> Result<String, Unavailable> {
        crate::api::reviews::trust_file(&self.node).map_err(|p| Unavailable::Failed(p.detail))
    }

    fn viewer(&self, session: &str) -> Option<Viewer> {
        let caller = self.node.session(session).ok()?;
        let Credential::Session { csrf } = caller.credential() else {
            return None;
        };
        let account = caller.account();
        Some(Viewer {
            memberships: self.memberships(&account.username).ok()?,
            username: account.username.clone(),
            csrf: csrf.clone(),
            operator: account.operator,
        })
    }

    fn home(&self) -> Result<Home, Unavailable> {
        let run = || -> Result<Home, NodeError> {
            let communities = self
                .node
                .communities()?
                .iter()
                .map(|c| self.community_summary(c))
                .collect::<Result<_, _>>()?;
            let batches = self.node.batches()?;
            let published = self.node.ledger().published();
            let size = published.checkpoint.size;
            Ok(Home {
                communities,
                badges_issued: self.node.badge_count()?,
                batches: batches.len(),
                batches_certified: batches
                    .iter()
                    .filter(|b| b.verdict == Verdict::Certified)
                    .count(),
                checkpoint: checkpoint_view(&published.note),
                recent: self.entries(size.saturating_sub(10), size)?,
            })
        };
        run().map_err(unavailable)
    }

    fn community(&self, slug: &str) -> Result<CommunityPage, Unavailable> {
        let run = || -> Result<CommunityPage, NodeError> {
            let community = self.node.community(slug)?;
            let batches = self
                .node
                .batches()?
                .iter()
                .filter(|b| b.community == slug)
                .map(|b| self.batch_summary(b))
                .collect::<Result<_, _>>()?;
            let protocols = self
                .node
                .protocols()?
                .into_iter()
                .filter(|p| p.community == slug)
                .map(protocol_summary)
                .collect();
            Ok(CommunityPage {
                community: self.community_summary(&community)?,
                achievements: self.achievement_views(slug)?,
                members: self.member_views(slug)?,
                batches,
                protocols,
            })
        };
        run().map_err(unavailable)
    }

    fn achievement(&self, slug: &str, name: &str) -> Result<AchievementPage, Unavailable> {
        let run = || -> Result<AchievementPage, NodeError> {
            let achievement = self.node.achievement(slug, name)?;
            let prerequisites = achievement
                .prerequisites
                .iter()
                .filter_map(|id| self.node.achievement_by_id(id).transpose())
                .map(|a| a.map(|a| self.achievement_view(&a)))
                .collect::<Result<_, _>>()?;
            let holders = self
                .node
                .badges_for(&achievement.id)?
                .iter()
                .map(|r| self.badge_view(r))
                .collect::<Result<_, _>>()?;
            Ok(AchievementPage {
                community_name: self.node.community(slug)?.name,
                prerequisites,
                holders,
                endorsements: self.endorsement_views(&achievement.id)?,
                members: self.member_views(slug)?,
                achievement: self.achievement_view(&achievement),
            })
        };
        run().map_err(unavailable)
    }

    fn member(&self, username: &str) -> Result<MemberPage, Unavailable> {
        let run = || -> Result<MemberPage, NodeError> {
            if self.node.account(username)?.is_none() {
                return Err(NodeError::not_found(
                    Thing::Account,
                    format!("There is no member {username:?} on this node."),
                ));
            }
            let memberships = self.memberships(username)?;
            let records = self.node.badges_of(username)?;
            let mut badges = records
                .iter()
                .map(|r| self.badge_view(r))
                .collect::<Result<Vec<_>, _>>()?;
            badges.reverse();
            let mut slugs: Vec<String> = memberships.iter().map(|m| m.community.clone()).collect();
            for b in &badges {
                if !slugs.contains(&b.community) {
                    slugs.push(b.community.clone());
                }
            }
            let trees = slugs
                .iter()
                .map(|slug| {
                    Ok(TreeView {
                        community_name: self.node.community(slug)?.name,
                        achievements: self.achievement_views(slug)?,
                        community: slug.clone(),
                    })
                })
                .collect::<Result<_, NodeError>>()?;
            Ok(MemberPage {
                username: username.to_owned(),
                memberships,
                badges,
                trees,
            })
        };
        run().map_err(unavailable)
    }

    fn credential(&self, uuid: &str) -> Result<CredentialPage, Unavailable> {
        let run = || -> Result<CredentialPage, NodeError> {
            let record = self.node.credential(uuid)?;
            let c = &record.credential;
            let views::CredentialFacts {
                title,
                badge,
                facts,
            } = self.credential_facts(&record)?;
            let report: Report = self.node.verify_document(c.clone())?;
            let endorsements = match record.kind {
                CredentialKind::Badge => self
                    .endorsement_views(&format!("{}/credentials/{uuid}", self.node.public_url()))?,
                _ => Vec::new(),
            };
            Ok(CredentialPage {
                uuid: record.uuid.clone(),
                kind: word(&record.kind),
                title,
                badge,
                facts,
                json: serde_json::to_string_pretty(c).unwrap_or_default(),
                report,
                receipt: receipt_view(&self.node.receipt(&record)?),
                endorsements,
            })
        };
        run().map_err(unavailable)
    }

    fn batch(&self, uuid: &str) -> Result<BatchPage, Unavailable> {
        match self.node.batch(uuid) {
            Ok(record) => self.batch_page(record).map_err(unavailable),
            // A peer's batch, from the mirror: reviewers here review it from here.
            Err(e @ NodeError::NotFound { .. }) => match self.node.mirrored_batch(uuid) {
                Ok(Some(mirrored)) => self.peer_batch_page(mirrored).map_err(unavailable),
                _ => Err(unavailable(e)),
            },
            Err(e) => Err(unavailable(e)),
        }
    }

    fn claim(&self, token: &str) -> Result<ClaimPage, Unavailable> {
        let (claim, record) = self.node.claim(token).map_err(unavailable)?;
        Ok(ClaimPage {
            badge: self.badge_view(&record).map_err(unavailable)?,
            state: claim.state().into(),
            expires: claim.expires.to_string(),
        })
    }

    fn device(&self, serial: &str) -> Result<DevicePage, Unavailable> {
        let record = self.node.batch_of_serial(serial).map_err(|e| match e {
            NodeError::NotFound { .. } => Unavailable::NotFound(format!(
                "No batch on this node has the serial number {serial:?}. Check the label, or ask the maker which node logged it."
            )),
            other => unavailable(other),
        })?;
        Ok(DevicePage {
            serial: serial.to_owned(),
            batch: self.batch_page(record).map_err(unavailable)?,
        })
    }

    fn protocols(&self) -> Result<Vec<ProtocolSummary>, Unavailable> {
        Ok(self
            .node
            .protocols()
            .map_err(unavailable)?
            .into_iter()
            .map(protocol_summary)
            .collect())
    }

    fn verify<'a>(&'a self, document: &'a str) -> Pending<'a, Result<Report, String>> {
        Box::pin(async move {
            if let Err(e) = guildmark_credentials::json::Json::parse(document.as_bytes()) {
                return Err(format!("This is not well-formed JSON: {e}."));
            }
            let value: serde_json::Value = serde_json::from_str(document)
                .map_err(|e| format!("This is not well-formed JSON: {e}."))?;
            self.node
                .verify_untrusted(value)
                .await
                .map_err(|e| capitalised(&e.to_string()))
        })
    }

    fn ledger(&self, start: u64, count: u64) -> Result<LedgerPage, Unavailable> {
        let published = self.node.ledger().published();
        let size = published.checkpoint.size;
        let start = start.min(size);
        let end = start.saturating_add(count).min(size);
        let status = self.node.witnessing().map_err(unavailable)?;
        let peers = self.node.peers().map_err(unavailable)?;
        Ok(LedgerPage {
            checkpoint: checkpoint_view(&published.note),
            entries: self.entries(start, end).map_err(unavailable)?,
            witnessing: guildmark_frontend::node::WitnessingView {
                quorum: status.quorum,
                witnessed_size: status.witnessed_size,
                alarm: status.alarm,
                witnesses: status
                    .witnesses
                    .into_iter()
                    .map(|w| (w.name, w.state.to_owned(), w.detail))
                    .collect(),
                peers: peers
                    .into_iter()
                    .map(|p| (p.url.clone(), p.origin().to_owned()))
                    .collect(),
            },
        })
    }

    fn ledger_entry(&self, index: u64) -> Result<EntryPage, Unavailable> {
        let run = || -> Result<EntryPage, NodeError> {
            let size = self.node.ledger().published().checkpoint.size;
            if index >= size {
                return Err(NodeError::not_found(
                    Thing::Entry,
                    format!("The ledger has {size} entries; there is no entry #{index}."),
                ));
            }
            let bytes = self.node.ledger().entry(index)?;
            let payload = LedgerEntry::parse(&bytes)
                .map(|e| serde_json::to_string_pretty(&e.payload).unwrap_or_default())
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
            Ok(EntryPage {
                entry: self.entry_summary(index, &bytes)?,
                payload,
                receipt: receipt_view(&self.node.receipts(&[index])?.remove(0)),
            })
        };
        run().map_err(unavailable)
    }

    fn consistency(&self, old: u64, new: u64) -> Result<ConsistencyPage, Unavailable> {
        let run = || -> Result<ConsistencyPage, NodeError> {
            let size = self.node.ledger().published().checkpoint.size;
            if old == 0 || old > new || new > size {
                return Err(NodeError::not_found(
                    Thing::Entry,
                    format!("Give sizes with 1 ≤ older ≤ newer ≤ {size} (the ledger's size)."),
                ));
            }
            let ledger = self.node.ledger();
            let proof = ledger.consistency_proof(old, new)?;
            let (old_root, new_root) = (ledger.root(old)?, ledger.root(new)?);
            Ok(ConsistencyPage {
                old,
                new,
                verified: merkle::verify_consistency(old, new, &old_root, &new_root, &proof)
                    .is_ok(),
                old_root: old_root.to_base64(),
                new_root: new_root.to_base64(),
                proof: proof.iter().map(|h| h.to_base64()).collect(),
            })
        };
        run().map_err(unavailable)
    }

    fn account(&self, username: &str) -> Result<AccountPage, Unavailable> {
        let run = || -> Result<AccountPage, NodeError> {
            let account = self.node.account(username)?.ok_or_else(|| {
                NodeError::not_found(Thing::Account, format!("there is no account {username:?}"))
            })?;
            Ok(AccountPage {
                tokens: self
                    .node
                    .tokens_of(&account)?
                    .into_iter()
                    .map(|t| TokenView {
                        id: t.id,
                        name: t.name,
                        created: t.created.to_string(),
                        expires: t.expires.map(|e| e.to_string()),
                    })
                    .collect(),
            })
        };
        run().map_err(unavailable)
    }

    fn sign_in<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
        address: &'a str,
    ) -> Pending<'a, Result<String, Refusal>> {
        Box::pin(async move {
            let (cookie, _csrf) = self
                .node
                .login(username, password, address)
                .await
                .map_err(|e| change::refusal(e, &[]))?;
            Ok(start_session(&self.node, &cookie))
        })
    }

    fn sign_out(&self, session: &str) -> String {
        if let Err(e) = self.node.logout(session) {
            tracing::warn!(error = %e, "ending a session failed");
        }
        CLEAR_SESSION.to_owned()
    }

    fn change<'a>(
        &'a self,
        session: &'a str,
        change: Change,
    ) -> Pending<'a, Result<Outcome, Refusal>> {
        Box::pin(self.make(session, change))
    }
}
