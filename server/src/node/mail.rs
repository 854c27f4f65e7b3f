//! Mail the node sends: claim links for badges awarded to an email address. SMTP through
//! `lettre`, to the relay given with `guildmark serve --smtp smtp://host:port` (a local
//! MTA or relay; the node speaks plain SMTP to it and leaves TLS and delivery to it).

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::Node;

/// Why mail could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The `--smtp` URL or an address is unusable.
    #[error("{0}")]
    Config(String),
    /// The relay refused or could not be reached.
    #[error("the mail relay: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// A configured SMTP relay and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// A mailer for `smtp://host[:port]` (port 25 by default) sending as `from`
    /// (`Name <address>` or an address).
    pub fn new(url: &str, from: &str) -> Result<Mailer, MailError> {
        let rest = url.strip_prefix("smtp://").ok_or_else(|| {
            MailError::Config(format!("--smtp {url:?} must be smtp://host[:port]"))
        })?;
        let (host, port) = match rest.trim_end_matches('/').rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| MailError::Config(format!("--smtp {url:?}: bad port")))?,
            ),
            None => (rest.trim_end_matches('/'), 25),
        };
        if host.is_empty() {
            return Err(MailError::Config(format!("--smtp {url:?} names no host")));
        }
        let from: Mailbox = from
            .parse()
            .map_err(|e| MailError::Config(format!("--mail-from {from:?}: {e}")))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        Ok(Mailer { transport, from })
    }

    /// Mails `to` the link that claims their badge `title` from `community`.
    pub async fn send_claim(
        &self,
        to: &str,
        title: &str,
        community: &str,
        url: &str,
    ) -> Result<(), MailError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| MailError::Config(format!("{to:?}: {e}")))?;
        let body = format!(
            "{community} has awarded you the badge \"{title}\".\n\n\
             To add it to your Guildmark account, bound to your own key, open:\n\n{url}\n\n\
             The link works once, for 90 days. The badge is an Open Badges 3.0 credential \
             that anyone can verify.\n"
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("Your badge from {community}: {title}"))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Config(e.to_string()))?;
        self.transport.send(message).await?;
        Ok(())
    }
}

impl Node {
    /// The node's mailer, if it has a relay.
    pub fn mailer(&self) -> Option<&Mailer> {
        self.mailer.get()
    }

    /// Gives the node a mail relay (once, at start).
    pub fn set_mailer(&self, mailer: Mailer) {
        let _ = self.mailer.set(mailer);
    }
}
