//! The session cookie's `Set-Cookie` values: one session for the API and the web UI, so
//! both adapters start and end it the same way.

use crate::node::account::SESSION_SECONDS;
use crate::node::Node;

/// The session cookie's name.
pub use guildmark_frontend::SESSION_COOKIE;

/// The `Set-Cookie` value that ends a session in the browser.
pub const CLEAR_SESSION: &str = "gm_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0";

/// The `Set-Cookie` value that starts session `cookie` (Secure when the node is served
/// over https).
pub fn start_session(node: &Node, cookie: &str) -> String {
    let secure = if node.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_SECONDS}{secure}")
}
