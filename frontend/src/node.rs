//! The interface the UI needs from a node, and the data its pages show. The server
//! implements [`NodeView`] over its stores; the UI never reaches storage itself.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use guildmark_credentials::report::Report;
use guildmark_review_protocols::evaluation::Evaluation;
use guildmark_review_protocols::protocol::Protocol;
pub use guildmark_review_protocols::ReviewerVerdict;

/// A shared handle on the node, as pages receive it.
pub type SharedNode = Arc<dyn NodeView>;

/// A boxed future, so that [`NodeView`] stays object-safe.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a page cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// Nothing is at that address.
    NotFound(String),
    /// The node failed to read it.
    Failed(String),
}

/// Why a form was refused: a message for one field, or for the whole form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The form field at fault (its `name`), if one is.
    pub field: Option<String>,
    /// What was wrong, in words the user can act on.
    pub message: String,
    /// The HTTP status the page is answered with (422, 403, 409, …).
    pub status: u16,
}

impl Refusal {
    /// A refusal of one field's value.
    pub fn field(field: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            field: Some(field.to_owned()),
            message: message.into(),
            status: 422,
        }
    }

    /// A refusal of the whole form.
    pub fn form(status: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            field: None,
            message: message.into(),
            status,
        }
    }
}

/// A value a form sent that is none of the ones it offers (a forged or stale form):
/// refused, never read as a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// What kind of value (`role`, `standing change`, `verdict`).
    pub kind: &'static str,
    /// What was sent.
    pub value: String,
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a {}", self.value, self.kind)
    }
}

impl std::error::Error for UnknownValue {}

/// A member's role in a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Runs the community.
    Admin,
    /// Awards badges.
    Assessor,
    /// Reviews other communities' batches.
    Reviewer,
    /// Produces hardware.
    Producer,
    /// Learns.
    Apprentice,
}

impl Role {
    /// Every role, in the order pages list them.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Assessor,
        Role::Reviewer,
        Role::Producer,
        Role::Apprentice,
    ];

    /// Its name in forms and on pages (`admin`, `assessor`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Assessor => "assessor",
            Role::Reviewer => "reviewer",
            Role::Producer => "producer",
            Role::Apprentice => "apprentice",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownValue;

    fn from_str(text: &str) -> Result<Role, UnknownValue> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| UnknownValue {
                kind: "role",
                value: text.to_owned(),
            })
    }
}

/// Roles as a page lists them: `admin, assessor`.
pub fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A change of a badge's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandingChange {
    /// Revoke for good.
    Revoke,
    /// Lift a suspension (set before suspension was withdrawn).
    Reinstate,
}

impl std::str::FromStr for StandingChange {
    type Err = UnknownValue;

    fn from_str(text: &str) -> Result<StandingChange, UnknownValue> {
        match text {
            "revoke" => Ok(StandingChange::Revoke),
            "reinstate" => Ok(StandingChange::Reinstate),
            _ => Err(UnknownValue {
                kind: "standing change",
                value: text.to_owned(),
            }),
        }
    }
}

/// A reviewer's verdict as the attestation form sends it (`pass` / `fail`).
pub fn parse_verdict(text: &str) -> Result<ReviewerVerdict, UnknownValue> {
    match text {
        "pass" => Ok(ReviewerVerdict::Pass),
        "fail" => Ok(ReviewerVerdict::Fail),
        _ => Err(UnknownValue {
            kind: "verdict",
            value: text.to_owned(),
        }),
    }
}

/// What a successful form leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// See the result at this path (Post/Redirect/Get).
    Redirect(String),
    /// Show the form's page again with this notice (for what is shown once, such as a
    /// new API token's secret).
    Notice(String),
}

/// The signed-in person looking at a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// Their account.
    pub username: String,
    /// The session's CSRF token, echoed by every form.
    pub csrf: String,
    /// Whether they run the node.
    pub operator: bool,
    /// Their communities and roles there.
    pub memberships: Vec<Membership>,
}

impl Viewer {
    /// Whether they have `role` in community `slug`.
    pub fn has_role(&self, slug: &str, role: Role) -> bool {
        self.memberships
            .iter()
            .any(|m| m.community == slug && m.roles.contains(&role))
    }

    /// Whether they have `role` in any community.
    pub fn has_role_anywhere(&self, role: Role) -> bool {
        self.memberships.iter().any(|m| m.roles.contains(&role))
    }
}

/// A membership in a community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The community's slug.
    pub community: String,
    /// Its display name.
    pub community_name: String,
    /// Roles there.
    pub roles: Vec<Role>,
}

/// A community in lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunitySummary {
    /// Short name used in URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it is.
    pub description: String,
    /// Number of members.
    pub members: usize,
    /// Number of achievements.
    pub achievements: usize,
    /// Its current issuer did:key.
    pub issuer: String,
}

/// A ledger checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointView {
    /// The log's origin line.
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Root hash, base64.
    pub root: String,
    /// The whole signed note.
    pub note: String,
}

/// One ledger entry in lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySummary {
    /// Its index.
    pub index: u64,
    /// Its kind (`badge`, `status-list`, …).
    pub kind: String,
    /// When it was logged (RFC 3339).
    pub time: String,
    /// What it is, in a line.
    pub summary: String,
    /// A page about what it records, if there is one.
    pub link: Option<String>,
}

/// The home page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    /// The communities on this node.
    pub communities: Vec<CommunitySummary>,
    /// Badges issued in all.
    pub badges_issued: usize,
    /// Batches registered in all.
    pub batches: usize,
    /// Batches certified.
    pub batches_certified: usize,
    /// The current checkpoint.
    pub checkpoint: CheckpointView,
    /// The latest ledger entries, newest first.
    pub recent: Vec<EntrySummary>,
}

/// An achievement (badge class).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AchievementView {
    /// Its id (URL).
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
    /// The image's URL, if it has one.
    pub image: Option<String>,
    /// Level.
    pub level: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Ids of achievements that must be held first.
    pub prerequisites: Vec<String>,
    /// The assessment protocol, if any.
    pub protocol: Option<String>,
}

/// A person listed with their roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    /// Their account.
    pub username: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// Their holder did:key.
    pub holder: String,
}

/// A batch in lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSummary {
    /// Its UUID.
    pub uuid: String,
    /// The product.
    pub product: String,
    /// The producing community.
    pub community: String,
    /// `certified`, `rejected` or `pending`.
    pub verdict: String,
    /// Number of units.
    pub units: usize,
    /// First and last serial.
    pub first_serial: String,
    /// Last serial.
    pub last_serial: String,
    /// Number of attestations.
    pub attestations: usize,
}

/// A community's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityPage {
    /// The community.
    pub community: CommunitySummary,
    /// Its achievements.
    pub achievements: Vec<AchievementView>,
    /// Its members.
    pub members: Vec<MemberView>,
    /// Batches it produced.
    pub batches: Vec<BatchSummary>,
    /// Protocols it published.
    pub protocols: Vec<ProtocolSummary>,
}

/// A badge's standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeView {
    /// The credential's UUID.
    pub uuid: String,
    /// The achievement's id.
    pub achievement: String,
    /// The achievement's title.
    pub title: String,
    /// The issuing community's slug.
    pub community: String,
    /// The recipient's account.
    pub holder: String,
    /// `active`, `suspended`, `revoked`, `expired` or `not-yet-valid`.
    pub standing: String,
    /// When it was issued (RFC 3339).
    pub issued: String,
    /// When it expires, if it does.
    pub valid_until: Option<String>,
    /// The achievement's image URL, if it has one.
    pub image: Option<String>,
    /// The issuer's name, as the credential states it.
    pub issuer_name: String,
}

impl BadgeView {
    /// Where the badge baked into its image is downloaded (`png` or `svg`).
    pub fn baked_url(&self, format: &str) -> String {
        format!("/credentials/{}/baked/{format}", self.uuid)
    }

    /// LinkedIn's "add a licence or certification" link, filled in: the badge's name,
    /// issuer, issue month, and its public page (on `public_url`) as the certificate URL.
    pub fn linkedin_url(&self, public_url: &str) -> String {
        let (year, month) = (
            self.issued.get(..4).unwrap_or_default(),
            self.issued
                .get(5..7)
                .map(|m| m.trim_start_matches('0'))
                .unwrap_or_default(),
        );
        let query = serde_urlencoded::to_string([
            ("startTask", "CERTIFICATION_NAME"),
            ("name", self.title.as_str()),
            ("organizationName", self.issuer_name.as_str()),
            ("issueYear", year),
            ("issueMonth", month),
            ("certUrl", &format!("{public_url}/cred/{}", self.uuid)),
            ("certId", self.uuid.as_str()),
        ])
        .unwrap_or_default();
        format!("https://www.linkedin.com/profile/add?{query}")
    }
}

/// An endorsement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsementView {
    /// The credential's UUID.
    pub uuid: String,
    /// The endorser's account.
    pub endorser: String,
    /// What they said.
    pub comment: String,
    /// When.
    pub issued: String,
}

/// An achievement's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AchievementPage {
    /// The achievement.
    pub achievement: AchievementView,
    /// The defining community's name.
    pub community_name: String,
    /// Its prerequisites, resolved.
    pub prerequisites: Vec<AchievementView>,
    /// Badges awarding it.
    pub holders: Vec<BadgeView>,
    /// Endorsements of it.
    pub endorsements: Vec<EndorsementView>,
    /// Members of the community (for the issue form).
    pub members: Vec<MemberView>,
}

/// A community's skill tree as one member sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeView {
    /// The community's slug.
    pub community: String,
    /// Its name.
    pub community_name: String,
    /// Its achievements.
    pub achievements: Vec<AchievementView>,
}

/// A member's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPage {
    /// Their account.
    pub username: String,
    /// Their communities and roles.
    pub memberships: Vec<Membership>,
    /// Their badges, newest first.
    pub badges: Vec<BadgeView>,
    /// The skill trees of their communities and of the communities that awarded them.
    pub trees: Vec<TreeView>,
}

/// A ledger receipt, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptView {
    /// The entry's index.
    pub index: u64,
    /// The checkpoint it is proved against.
    pub checkpoint: CheckpointView,
    /// The inclusion proof's hashes, base64.
    pub proof: Vec<String>,
    /// The receipt in its C2SP text form.
    pub text: String,
}

/// A credential's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialPage {
    /// Its UUID.
    pub uuid: String,
    /// `badge`, `endorsement` or `attestation`.
    pub kind: String,
    /// A heading: the achievement's title, "Endorsement of …", "Review of …".
    pub title: String,
    /// The badge (badges only).
    pub badge: Option<BadgeView>,
    /// Facts to show as a definition list, in order.
    pub facts: Vec<(String, String)>,
    /// The credential, pretty-printed JSON.
    pub json: String,
    /// The verification report, made now.
    pub report: Report,
    /// Its ledger receipt.
    pub receipt: ReceiptView,
    /// Endorsements of it.
    pub endorsements: Vec<EndorsementView>,
}

/// A published protocol in lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolSummary {
    /// `sha256:…`.
    pub hash: String,
    /// Title.
    pub title: String,
    /// Version.
    pub version: String,
    /// Publishing community.
    pub community: String,
}

/// One recorded result of an attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultView {
    /// The unit.
    pub serial: String,
    /// The step's id.
    pub step: String,
    /// What was recorded: `11.8 mA`, `passed`, a note.
    pub recorded: String,
    /// Within the step's limits (`None`: an observation, or not judgeable).
    pub passed: Option<bool>,
}

/// An attestation of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationView {
    /// The credential's UUID.
    pub uuid: String,
    /// The reviewer's account, or their DID if not an account here.
    pub reviewer: String,
    /// The reviewer's communities.
    pub communities: Vec<String>,
    /// When it was logged.
    pub logged: String,
    /// The reviewer's own verdict (`pass` / `fail`).
    pub verdict: String,
    /// Units inspected.
    pub sampled: Vec<String>,
    /// Every result.
    pub results: Vec<ResultView>,
    /// How the evaluation judged it (`passes`, `fails`, …), and whether it counted.
    pub standing: String,
    /// Whether it counts toward the verdict.
    pub counted: bool,
    /// What the evaluation found about it.
    pub findings: Vec<String>,
    /// The qualifying badges it cites (credential UUIDs on this node).
    pub qualifications: Vec<BadgeView>,
}

/// A batch's page.
#[derive(Debug, Clone)]
pub struct BatchPage {
    /// The batch.
    pub summary: BatchSummary,
    /// The producing community's name.
    pub community_name: String,
    /// Lot size.
    pub lot_size: u64,
    /// Production date.
    pub production_date: String,
    /// Notes.
    pub notes: Option<String>,
    /// Every serial.
    pub serials: Vec<String>,
    /// The protocol.
    pub protocol: Protocol,
    /// Its hash.
    pub protocol_hash: String,
    /// Attestations, in ledger order.
    pub attestations: Vec<AttestationView>,
    /// The evaluation behind the verdict.
    pub evaluation: Option<Evaluation>,
    /// The peer node the batch is registered on, when not this one: its reviews and
    /// verdict are kept there; reviewers here can still review it.
    pub home: Option<String>,
}

/// A device's page (the QR code's target).
#[derive(Debug, Clone)]
pub struct DevicePage {
    /// The serial number.
    pub serial: String,
    /// Its batch.
    pub batch: BatchPage,
}

/// A page of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerPage {
    /// The current checkpoint.
    pub checkpoint: CheckpointView,
    /// Entries, newest first.
    pub entries: Vec<EntrySummary>,
    /// Who witnesses this log (empty: nobody, the log's signature stands alone).
    pub witnessing: WitnessingView,
}

/// The witnessing of a node's log, for its ledger page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WitnessingView {
    /// How many witnesses must cosign.
    pub quorum: usize,
    /// The size of the latest witnessed checkpoint.
    pub witnessed_size: Option<u64>,
    /// A rollback or fork caught by witnesses, in words.
    pub alarm: Option<String>,
    /// Each witness: name, state, detail.
    pub witnesses: Vec<(String, String, Option<String>)>,
    /// The peer nodes: URL and log origin.
    pub peers: Vec<(String, String)>,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPage {
    /// The entry.
    pub entry: EntrySummary,
    /// Its payload, pretty-printed JSON.
    pub payload: String,
    /// Its inclusion proof against the current checkpoint.
    pub receipt: ReceiptView,
}

/// A consistency proof between two sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyPage {
    /// The older size.
    pub old: u64,
    /// Root at the older size, base64.
    pub old_root: String,
    /// The newer size.
    pub new: u64,
    /// Root at the newer size, base64.
    pub new_root: String,
    /// The proof's hashes, base64.
    pub proof: Vec<String>,
    /// Whether the proof verified.
    pub verified: bool,
}

/// An API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenView {
    /// Its id.
    pub id: String,
    /// Its label.
    pub name: String,
    /// When it was created.
    pub created: String,
    /// When it expires, if it does.
    pub expires: Option<String>,
}

/// The signed-in person's account page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPage {
    /// Their API tokens.
    pub tokens: Vec<TokenView>,
}

/// One result a reviewer entered for one unit and step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnteredResult {
    /// The unit.
    pub serial: String,
    /// The step's id.
    pub step: String,
    /// What was entered: a quantity (`11.8 mA`), `pass`/`fail` for a check, or a note.
    pub entered: Entered,
}

/// What a reviewer entered for one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entered {
    /// A measured value with its unit.
    Value(String),
    /// A check's outcome.
    Passed(bool),
    /// An observation.
    Note(String),
}

/// Issue a badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueBadge {
    /// The issuing community.
    pub community: String,
    /// The recipient's username.
    pub recipient: String,
    /// The achievement's name in that community.
    pub achievement: String,
    /// How it was earned.
    pub narrative: Option<String>,
    /// A link to evidence.
    pub evidence_url: Option<String>,
    /// When it expires (RFC 3339).
    pub valid_until: Option<String>,
}

/// Revoke, suspend or reinstate a badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetStanding {
    /// The badge's UUID.
    pub uuid: String,
    /// What to do.
    pub change: StandingChange,
}

/// Endorse a badge (its URL) or an achievement (its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorse {
    /// What is endorsed.
    pub target: String,
    /// What the endorser says.
    pub comment: String,
}

/// Define an achievement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefineAchievement {
    /// The community.
    pub community: String,
    /// Short name for URLs.
    pub name: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Criteria.
    pub criteria: String,
    /// Level.
    pub level: Option<String>,
    /// Prerequisites: names of this community's achievements.
    pub prerequisites: Vec<String>,
}

/// Add a member or change their roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMember {
    /// The community.
    pub community: String,
    /// The account.
    pub username: String,
    /// Roles (at least one).
    pub roles: Vec<Role>,
}

/// Publish a protocol from its TOML source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishProtocol {
    /// The community.
    pub community: String,
    /// The TOML.
    pub source: String,
}

/// Register a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterBatch {
    /// The producing community.
    pub community: String,
    /// The product.
    pub product: String,
    /// The protocol's hash.
    pub protocol: String,
    /// Lot size.
    pub lot_size: u64,
    /// Serials and ranges, one per line.
    pub serials: Vec<String>,
    /// `YYYY-MM-DD`.
    pub production_date: String,
    /// Notes.
    pub notes: Option<String>,
}

/// Attest a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attest {
    /// The batch's UUID.
    pub batch: String,
    /// Units inspected.
    pub sampled: Vec<String>,
    /// Results.
    pub results: Vec<EnteredResult>,
    /// The reviewer's verdict.
    pub verdict: ReviewerVerdict,
}

/// A change a form asks for. The node authorizes each for the session's caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Issue a badge.
    IssueBadge(IssueBadge),
    /// Revoke, suspend or reinstate a badge.
    SetStanding(SetStanding),
    /// Endorse a badge or an achievement.
    Endorse(Endorse),
    /// Define an achievement.
    DefineAchievement(DefineAchievement),
    /// Add a member or change their roles.
    SetMember(SetMember),
    /// Publish a protocol.
    PublishProtocol(PublishProtocol),
    /// Register a batch.
    RegisterBatch(RegisterBatch),
    /// Attest a batch.
    Attest(Attest),
    /// Create an API token (its secret is shown once), with this label.
    CreateToken(String),
    /// Revoke the API token with this id.
    RevokeToken(String),
    /// Claim the badge behind this claim token.
    Claim(String),
    /// Offer this badge (its UUID) to the holder's wallet (OpenID4VCI).
    OfferToWallet(String),
    /// Trust another node (operator).
    AddPeer(AddPeer),
}

/// A peer to add: its URL and its log's verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddPeer {
    /// The peer's URL.
    pub url: String,
    /// Its log's verifier key.
    pub log_key: String,
}

/// A claim link's page: the badge awarded to an email address, and whether it can still
/// be claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPage {
    /// The emailed badge, as shown on profiles.
    pub badge: BadgeView,
    /// `open`, `claimed` or `expired`.
    pub state: String,
    /// When the link stops working.
    pub expires: String,
}

/// What the UI needs from a node. Reads are synchronous (the node's records are in
/// memory-mapped sled trees and answer in microseconds); changes are asynchronous,
/// because they wait for the ledger.
pub trait NodeView: Send + Sync + 'static {
    /// The node's public URL, without a trailing slash.
    fn public_url(&self) -> String;
    /// The node's trust file (`/api/v1/trust`): its communities, logs and witnesses.
    fn trust_file(&self) -> Result<String, Unavailable>;
    /// Who holds the session cookie `session`, if it is a live session.
    fn viewer(&self, session: &str) -> Option<Viewer>;
    /// The home page.
    fn home(&self) -> Result<Home, Unavailable>;
    /// A community's page.
    fn community(&self, slug: &str) -> Result<CommunityPage, Unavailable>;
    /// An achievement's page.
    fn achievement(&self, slug: &str, name: &str) -> Result<AchievementPage, Unavailable>;
    /// A member's profile.
    fn member(&self, username: &str) -> Result<MemberPage, Unavailable>;
    /// A credential's page (verified now).
    fn credential(&self, uuid: &str) -> Result<CredentialPage, Unavailable>;
    /// A batch's page.
    fn batch(&self, uuid: &str) -> Result<BatchPage, Unavailable>;
    /// A device's page.
    fn device(&self, serial: &str) -> Result<DevicePage, Unavailable>;
    /// A claim link's page.
    fn claim(&self, token: &str) -> Result<ClaimPage, Unavailable>;
    /// Published protocols.
    fn protocols(&self) -> Result<Vec<ProtocolSummary>, Unavailable>;
    /// Verifies a pasted credential, presentation or provenance bundle (in the node's
    /// bounded verification pool).
    fn verify<'a>(&'a self, document: &'a str) -> Pending<'a, Result<Report, String>>;
    /// Ledger entries `[start, start + count)`, newest first, clipped to the log.
    fn ledger(&self, start: u64, count: u64) -> Result<LedgerPage, Unavailable>;
    /// One ledger entry with its inclusion proof.
    fn ledger_entry(&self, index: u64) -> Result<EntryPage, Unavailable>;
    /// A consistency proof between two sizes, verified.
    fn consistency(&self, old: u64, new: u64) -> Result<ConsistencyPage, Unavailable>;
    /// The viewer's account page.
    fn account(&self, username: &str) -> Result<AccountPage, Unavailable>;
    /// Signs in; on success the `Set-Cookie` header value that starts the session.
    fn sign_in<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
        address: &'a str,
    ) -> Pending<'a, Result<String, Refusal>>;
    /// Ends a session; the `Set-Cookie` header value that clears its cookie.
    fn sign_out(&self, session: &str) -> String;
    /// Makes `change` for the holder of session cookie `session`, if they may (the node
    /// authorizes it exactly as the same change through its API).
    fn change<'a>(
        &'a self,
        session: &'a str,
        change: Change,
    ) -> Pending<'a, Result<Outcome, Refusal>>;
}
