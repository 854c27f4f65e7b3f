//! Accounts: passwords (argon2id), cookie sessions with a CSRF token, revocable API
//! tokens, login rate limits, and each account's holder did:key.

use base64::Engine as _;
use guildmark_credentials::{KeyPair, Timestamp, VerifyOptions};
use rand_core::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::error::{AuthError, Field, KeyError, StorageError, Thing};
use super::{key, now, read, scan, write, Node, NodeError, NodeResult};
use crate::keys;

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;
/// The longest password accepted (argon2 would take anything; a limit keeps it cheap).
pub const MAX_PASSWORD: usize = 1024;
/// How long a session lasts.
pub const SESSION_SECONDS: i64 = 7 * 24 * 3600;

/// An account on this node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Login name: 2–32 of `a-z 0-9 . _ -`, starting with a letter or digit.
    pub username: String,
    /// The argon2id PHC string.
    pub password: String,
    /// Whether this account may create communities (the node's first account is).
    pub operator: bool,
    /// The did:key badges are issued to.
    pub holder: String,
    /// Whether the node keeps the holder key (false: the member brought their own).
    pub holder_managed: bool,
    /// When the account was created.
    pub created: Timestamp,
}

/// A login session, stored under the SHA-256 of its cookie value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    username: String,
    csrf: String,
    expires: Timestamp,
}

/// An API token's record, stored under the SHA-256 of the secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    /// The token's public id (for listing and revoking).
    pub id: String,
    /// Its owner.
    pub username: String,
    /// What it is for.
    pub name: String,
    /// When it was created.
    pub created: Timestamp,
    /// When it stops working, if ever.
    pub expires: Option<Timestamp>,
}

/// How a request proved who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A session cookie; unsafe methods must echo its CSRF token.
    Session {
        /// The session's CSRF token.
        csrf: String,
    },
    /// A Bearer API token.
    Token,
    /// The node itself acting for the account (seeding the demo world); never a request.
    Internal,
}

/// An authenticated caller. Only authentication here makes one (from a session cookie or
/// an API token), so an operation given a caller knows who really asked.
#[derive(Debug, Clone)]
pub struct Caller {
    account: Account,
    credential: Credential,
}

impl Caller {
    /// The caller's account.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// How the caller authenticated.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The node acting for `account` itself, as when it seeds the demo world: the same
    /// authorization applies as to a request of that account.
    pub(crate) fn internal(account: Account) -> Caller {
        Caller {
            account,
            credential: Credential::Internal,
        }
    }
}

/// Checks a username's shape.
pub fn check_username(name: &str) -> NodeResult<()> {
    check_name(name, "username").map_err(|e| e.at(Field::Username))
}

/// Checks a name used in URLs and keys: 2–32 of `a-z 0-9 . _ -`, starting with a letter
/// or digit. The error names no field: the caller attributes it.
pub fn check_name(name: &str, what: &str) -> NodeResult<()> {
    let ok = (2..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(NodeError::invalid_request(format!(
            "{what} {name:?} must be 2-32 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
        )))
    }
}

fn taken(username: &str) -> NodeError {
    NodeError::conflict(
        Thing::Account,
        format!("the username {username:?} is taken"),
    )
    .at(Field::Username)
}

/// Passwords refused whatever their length: the commonest long ones.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789012",
    "0987654321",
    "qwertyuiop",
    "1q2w3e4r5t",
    "password123",
    "password1234",
    "passwordpassword",
    "iloveyou123",
    "qwerty12345",
    "1qaz2wsx3edc",
    "abcdefghij",
    "letmeinplease",
    "administrator",
    "guildmark123",
];

/// Refuses a password that is short, too long, the username, one repeated character or
/// block, a run of consecutive characters, or one of the commonest.
fn check_password(username: &str, password: &str) -> NodeResult<()> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        return Err(NodeError::invalid(
            Field::Password,
            format!("the password must have at least {MIN_PASSWORD} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD {
        return Err(NodeError::invalid(
            Field::Password,
            format!("the password must have at most {MAX_PASSWORD} bytes"),
        ));
    }
    let weak = |why: &str| {
        Err(NodeError::invalid(
            Field::Password,
            format!("the password is too easy to guess: {why}"),
        ))
    };
    let lower = password.to_lowercase();
    let name = username.to_lowercase();
    if !name.is_empty() && lower.replace(&name, "").chars().count() < MIN_PASSWORD / 2 {
        return weak("it is mostly the username");
    }
    let chars: Vec<char> = lower.chars().collect();
    let repeats = (1..=chars.len() / 2)
        .any(|n| chars.len().is_multiple_of(n) && chars.chunks(n).all(|c| c == &chars[..n]));
    if repeats {
        return weak("it repeats one character or block");
    }
    let run = |step: i64| {
        chars
            .windows(2)
            .all(|w| i64::from(u32::from(w[1])) - i64::from(u32::from(w[0])) == step)
    };
    if run(1) || run(-1) {
        return weak("it is a run of consecutive characters");
    }
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return weak("it is among the most common passwords");
    }
    Ok(())
}

fn hash_password(password: &str) -> NodeResult<String> {
    super::password::hash(password).map_err(|e| NodeError::Keys(KeyError::Password(e)))
}

/// A random secret (32 bytes, base64url) with a prefix saying what it is.
pub(crate) fn secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// How a secret is stored: its SHA-256, never the secret.
pub(crate) fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> NodeResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| NodeError::Storage(StorageError::Task(e)))
}

impl Node {
    fn holder_key_path(&self, username: &str) -> std::path::PathBuf {
        self.keys_dir
            .join("holders")
            .join(format!("{username}.key"))
    }

    /// The node-held holder key of `username`, if the node keeps it.
    pub fn holder_key(&self, account: &Account) -> NodeResult<Option<KeyPair>> {
        if !account.holder_managed {
            return Ok(None);
        }
        let pair = keys::load_or_create(&self.holder_key_path(&account.username))?;
        Ok(Some(pair))
    }

    /// Creates an account with a node-held holder key. The node's first account becomes
    /// its operator.
    /// Creates an account; `address` is the client's (`None`: the node itself, for
    /// the demo), whose network may create [`SIGN_UPS`](super::throttle::SIGN_UPS) accounts an hour.
    pub async fn create_account(
        &self,
        username: &str,
        password: &str,
        address: Option<&str>,
    ) -> NodeResult<Account> {
        check_username(username)?;
        check_password(username, password)?;
        if self.trees.accounts.contains_key(username)? {
            return Err(taken(username));
        }
        if let Some(address) = address {
            self.throttle.sign_up(address)?;
        }
        self.room(64 * 1024)?; // the account, its holder key file and indexes
        let password = password.to_owned();
        let phc = self
            .throttle
            .hash(move || hash_password(&password))
            .await??;
        let path = self.holder_key_path(username);
        let holder = blocking(move || keys::load_or_create(&path)).await??;
        let account = Account {
            username: username.to_owned(),
            password: phc,
            operator: self.trees.accounts.is_empty(),
            holder: holder.did_key().did().to_owned(),
            holder_managed: true,
            created: now(),
        };
        let bytes = serde_json::to_vec(&account)?;
        let swapped =
            self.trees
                .accounts
                .compare_and_swap(username, None as Option<&[u8]>, Some(bytes))?;
        if swapped.is_err() {
            return Err(taken(username));
        }
        self.trees
            .holders
            .insert(account.holder.as_bytes(), username.as_bytes())?;
        self.flush().await?;
        Ok(account)
    }

    /// An account by name.
    pub fn account(&self, username: &str) -> NodeResult<Option<Account>> {
        read(&self.trees.accounts, username.as_bytes())
    }

    /// The account a holder DID belongs to (current or earlier holder keys).
    pub fn account_of_holder(&self, did: &str) -> NodeResult<Option<String>> {
        Ok(self
            .trees
            .holders
            .get(did.as_bytes())?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Every holder DID an account has had, current first.
    pub fn holder_dids(&self, account: &Account) -> NodeResult<Vec<String>> {
        let mut dids = vec![account.holder.clone()];
        for item in self.trees.holders.iter() {
            let (did, user) = item?;
            if user.as_ref() == account.username.as_bytes()
                && did.as_ref() != account.holder.as_bytes()
            {
                dids.push(String::from_utf8_lossy(&did).into_owned());
            }
        }
        Ok(dids)
    }

    /// Checks a password and opens a session: `(cookie secret, CSRF token)`.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: &str,
    ) -> NodeResult<(String, String)> {
        let attempt = self.throttle.begin_sign_in(username, address)?;
        let account = self.account(username)?;
        // Without an account, still spend the time of a hash, so timing does not tell
        // which usernames exist.
        let phc = account.as_ref().map(|a| a.password.clone());
        let candidate = password.to_owned();
        let matches = self
            .throttle
            .hash(move || {
                static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let decoy = || {
                    DECOY
                        .get_or_init(|| hash_password("decoy password").unwrap_or_default())
                        .clone()
                };
                super::password::matches(&candidate, &phc.unwrap_or_else(decoy))
            })
            .await?;
        let Some(account) = account.filter(|_| matches) else {
            attempt.failed();
            return Err(AuthError::WrongPassword.into());
        };
        attempt.succeeded();
        let cookie = secret("gms_");
        let csrf = secret("");
        let session = Session {
            username: account.username,
            csrf: csrf.clone(),
            expires: now().plus_seconds(SESSION_SECONDS),
        };
        write(&self.trees.sessions, &digest(&cookie), &session)?;
        Ok((cookie, csrf))
    }

    /// The caller a session cookie stands for.
    pub fn session(&self, cookie: &str) -> NodeResult<Caller> {
        let session: Session =
            read(&self.trees.sessions, &digest(cookie))?.ok_or(AuthError::SessionEnded)?;
        if session.expires < now() {
            self.trees.sessions.remove(digest(cookie))?;
            return Err(AuthError::SessionExpired.into());
        }
        let account = self
            .account(&session.username)?
            .ok_or(AuthError::AccountGone)?;
        Ok(Caller {
            account,
            credential: Credential::Session { csrf: session.csrf },
        })
    }

    /// Ends a session.
    pub fn logout(&self, cookie: &str) -> NodeResult<()> {
        self.trees.sessions.remove(digest(cookie))?;
        Ok(())
    }

    /// Creates an API token for the caller; the secret is returned once and stored only
    /// as a hash.
    pub async fn create_token(
        &self,
        caller: &Caller,
        name: &str,
        expires: Option<Timestamp>,
    ) -> NodeResult<(String, Token)> {
        let account = caller.account();
        if name.trim().is_empty() || name.len() > 100 {
            return Err(NodeError::invalid(
                Field::Name,
                "a token needs a name of 1-100 characters",
            ));
        }
        if expires.is_some_and(|t| t <= now()) {
            return Err(NodeError::invalid(
                Field::ExpiresAt,
                "the expiry must be in the future",
            ));
        }
        let secret = secret("gmt_");
        let token = Token {
            id: uuid::Uuid::new_v4().to_string(),
            username: account.username.clone(),
            name: name.to_owned(),
            created: now(),
            expires,
        };
        let hash = digest(&secret);
        write(&self.trees.tokens, &hash, &token)?;
        self.trees
            .token_ids
            .insert(key(&[&account.username, &token.id]), hash)?;
        self.flush().await?;
        Ok((secret, token))
    }

    /// The caller a Bearer token stands for.
    pub fn bearer(&self, secret: &str) -> NodeResult<Caller> {
        let token: Token =
            read(&self.trees.tokens, &digest(secret))?.ok_or(AuthError::UnknownToken)?;
        if token.expires.is_some_and(|t| t <= now()) {
            return Err(AuthError::TokenExpired.into());
        }
        let account = self
            .account(&token.username)?
            .ok_or(AuthError::AccountGone)?;
        Ok(Caller {
            account,
            credential: Credential::Token,
        })
    }

    /// The caller's tokens (without secrets).
    pub fn tokens(&self, caller: &Caller) -> NodeResult<Vec<Token>> {
        self.tokens_of(caller.account())
    }

    /// An account's tokens (without secrets), for its own account page.
    pub(crate) fn tokens_of(&self, account: &Account) -> NodeResult<Vec<Token>> {
        let mut tokens = Vec::new();
        for item in self
            .trees
            .token_ids
            .scan_prefix(key(&[&account.username, ""]))
        {
            let (_, hash) = item?;
            if let Some(token) = read(&self.trees.tokens, &hash)? {
                tokens.push(token);
            }
        }
        Ok(tokens)
    }

    /// Revokes one of the caller's tokens.
    pub async fn revoke_token(&self, caller: &Caller, id: &str) -> NodeResult<()> {
        let account = caller.account();
        let Some(hash) = self.trees.token_ids.remove(key(&[&account.username, id]))? else {
            return Err(NodeError::not_found(
                Thing::Token,
                format!("you have no token {id:?}"),
            ));
        };
        self.trees.tokens.remove(hash)?;
        self.flush().await?;
        Ok(())
    }

    /// A fresh challenge for the caller to register a holder key, valid for ten minutes.
    pub fn holder_challenge(&self, caller: &Caller) -> NodeResult<String> {
        let account = caller.account();
        // Prefixed: a challenge starting with "-" would read as an option on a command line.
        let challenge = secret("gmc_");
        let expires = now().plus_seconds(600);
        write(
            &self.trees.meta,
            &key(&["challenge", &account.username]),
            &(challenge.clone(), expires),
        )?;
        Ok(challenge)
    }

    /// Registers the member's own did:key ("bring your own key"): `presentation` must be
    /// a verifiable presentation whose holder is that key, signed by it for the
    /// challenge from [`Node::holder_challenge`] and this node's URL as domain.
    pub async fn register_holder(
        &self,
        caller: &Caller,
        presentation: &serde_json::Value,
    ) -> NodeResult<Account> {
        let account = caller.account();
        let stored: Option<(String, Timestamp)> =
            read(&self.trees.meta, &key(&["challenge", &account.username]))?;
        let Some((challenge, _)) = stored.filter(|(_, e)| *e > now()) else {
            return Err(NodeError::invalid(
                Field::Presentation,
                "ask for a challenge first (GET /api/v1/me/holder/challenge); it lasts ten minutes",
            ));
        };
        let holder = presentation
            .get("holder")
            .and_then(|h| h.as_str().or_else(|| h.get("id").and_then(|i| i.as_str())))
            .ok_or_else(|| {
                NodeError::invalid(Field::Presentation, "the presentation names no holder")
            })?
            .to_owned();
        guildmark_credentials::DidKey::parse(&holder).map_err(|e| {
            NodeError::invalid(
                Field::Presentation,
                format!("the holder must be an Ed25519 did:key: {e}"),
            )
        })?;
        let keys = guildmark_credentials::KnownKeys::default();
        let options = VerifyOptions {
            challenge: Some(&challenge),
            domain: Some(&self.public_url),
            ..VerifyOptions::new(now(), &self.contexts, &keys)
        };
        let report = guildmark_credentials::verify::verify_presentation(presentation, &options);
        if !report.verified {
            return Err(NodeError::invalid(
                Field::Presentation,
                format!("the presentation does not verify:\n{report}"),
            ));
        }
        if let Some(owner) = self.account_of_holder(&holder)? {
            if owner != account.username {
                return Err(NodeError::conflict(
                    Thing::HolderKey,
                    "that did:key is registered to another account",
                )
                .at(Field::Presentation));
            }
        }
        self.trees
            .meta
            .remove(key(&["challenge", &account.username]))?;
        let mut updated = account.clone();
        updated.holder = holder.clone();
        updated.holder_managed = false;
        write(&self.trees.accounts, account.username.as_bytes(), &updated)?;
        self.trees
            .holders
            .insert(holder.as_bytes(), account.username.as_bytes())?;
        self.flush().await?;
        Ok(updated)
    }

    /// Every account (for the operator and the demo).
    pub fn accounts(&self) -> NodeResult<Vec<Account>> {
        scan(&self.trees.accounts, b"")
    }
}
