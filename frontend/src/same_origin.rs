//! Forms are taken only from this node's own pages. A browser says where a post came
//! from (`Sec-Fetch-Site`, `Origin`); a post from another site is refused before it is
//! read, so a page elsewhere can neither act in a visitor's session, nor show its own
//! text inside a page of this node (the Verify page echoes what was posted), nor sign a
//! visitor into someone else's account. The sign-in form, which has no session to tie
//! it to, also carries a token that the page set in a cookie (double submit), and where
//! it sends the visitor next must be a path on this node.

use axum::http::{header, HeaderMap};
use leptos::prelude::*;

/// The cookie holding the sign-in form's token.
pub const SIGN_IN_COOKIE: &str = "gm_signin";

/// Why a post is refused as coming from another site, or `None` if it may be from
/// this node's pages. `public_url` is where the node says it is served (a proxy in
/// front may present another `Host`). Clients that send neither header (scripts,
/// the CLI) are not browsers acting for a visitor and are let through.
pub fn cross_site(headers: &HeaderMap, public_url: &str) -> Option<String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        // `none`: the visitor typed or bookmarked it; `same-origin`: one of our pages.
        if site != "same-origin" && site != "none" {
            return Some(format!("the browser says it came from a {site} page"));
        }
    }
    let origin = text(header::ORIGIN.as_str())?;
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    let host = text(header::HOST.as_str());
    let public = public_url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest));
    match authority {
        Some(a) if Some(a) == host || Some(a) == public => None,
        _ => Some(format!("it came from a page of {origin}")),
    }
}

/// A new sign-in token, sent both in the form and in a cookie.
pub fn new_sign_in_token() -> String {
    let mut bytes = [0u8; 16];
    // The system's random source failing leaves no safe token to give; the sign-in
    // post is then refused as not matching, which is the safe side.
    if getrandom::fill(&mut bytes).is_err() {
        return String::new();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Set-Cookie` value carrying `token` to the sign-in post (and nowhere else).
pub fn sign_in_cookie(token: &str) -> String {
    format!("{SIGN_IN_COOKIE}={token}; Path=/signin; HttpOnly; SameSite=Strict; Max-Age=3600")
}

/// Gives the page being rendered a fresh sign-in token: sets its cookie on the response
/// and returns it for the form.
pub fn provide_sign_in_token() -> String {
    let token = new_sign_in_token();
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        header::HeaderValue::from_str(&sign_in_cookie(&token)),
    ) {
        response.append_header(header::SET_COOKIE, value);
    }
    token
}

/// Whether the posted sign-in `token` is the one in the request's cookie.
pub fn sign_in_token_matches(headers: &HeaderMap, token: &str) -> bool {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SIGN_IN_COOKIE)
        .map(|(_, value)| value);
    !token.is_empty() && cookie == Some(token)
}

/// `next` if it is a path on this node: it starts with one `/`, has no backslash, no
/// whitespace or control character (browsers drop tabs and newlines, so `/\t/host`
/// would become `//host`), and parses as a path.
pub fn local_path(next: &str) -> Option<&str> {
    let plain = next
        .chars()
        .all(|c| !c.is_control() && !c.is_whitespace() && c != '\\');
    let rooted = next.starts_with('/') && !next.starts_with("//");
    let parses = next
        .parse::<axum::http::uri::PathAndQuery>()
        .is_ok_and(|p| p.as_str() == next);
    (plain && rooted && parses).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn posts_from_other_sites_are_refused() {
        let public = "https://kestrel.example";
        let ours = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert_eq!(cross_site(&ours, public), None);
        let proxied = headers(&[("host", "10.0.0.5"), ("origin", "https://kestrel.example")]);
        assert_eq!(cross_site(&proxied, public), None);
        let script = headers(&[("host", "127.0.0.1:3000")]);
        assert_eq!(cross_site(&script, public), None);
        let typed = headers(&[("host", "h"), ("sec-fetch-site", "none")]);
        assert_eq!(cross_site(&typed, public), None);
        for hostile in [
            headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:4000"),
            ]),
            headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]),
            headers(&[("host", "h"), ("sec-fetch-site", "cross-site")]),
            headers(&[("host", "h"), ("sec-fetch-site", "same-site")]),
            headers(&[
                ("host", "127.0.0.1:3000"),
                ("sec-fetch-site", "same-origin"),
                ("origin", "http://evil.example"),
            ]),
        ] {
            assert!(cross_site(&hostile, public).is_some(), "{hostile:?}");
        }
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        for ok in ["/", "/account", "/c/kestrel/manage?tab=members"] {
            assert_eq!(local_path(ok), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "https://evil.example",
            "evil.example",
            "/\u{7f}x",
            "/a\r\nSet-Cookie: x=1",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_sign_in_token_must_match_its_cookie() {
        let token = new_sign_in_token();
        assert_eq!(token.len(), 32);
        assert_ne!(token, new_sign_in_token());
        let cookie = format!("gm_session=x; {SIGN_IN_COOKIE}={token}");
        let mut map = HeaderMap::new();
        map.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        assert!(sign_in_token_matches(&map, &token));
        assert!(!sign_in_token_matches(&map, "0123"));
        assert!(!sign_in_token_matches(&HeaderMap::new(), &token));
        assert!(!sign_in_token_matches(&HeaderMap::new(), ""));
    }
}
