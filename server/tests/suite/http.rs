//! A small JSON client for the node's API, as a script or the CLI would use it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A reply: status, headers and the JSON body (Null if none or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts the status, showing the body otherwise.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {:#}", self.body);
        self.body
    }

    /// Asserts a problem document of this status and type slug.
    #[track_caller]
    pub fn problem(self, status: u16, slug: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {:#}", self.body);
        let content_type = self.headers.get("content-type").unwrap().to_str().unwrap();
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(
            self.body["type"],
            format!("urn:guildmark:problem:{slug}"),
            "{:#}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        self.body
    }
}

/// A client bound to one node.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: base.to_owned(),
        }
    }

    /// A client whose connections come from `address` (another loopback address, such
    /// as 127.0.0.2, is another client network to the node).
    pub fn from_address(base: &str, address: &str) -> Api {
        Api {
            client: reqwest::Client::builder()
                .local_address(address.parse::<std::net::IpAddr>().unwrap())
                .build()
                .unwrap(),
            base: base.to_owned(),
        }
    }

    /// Sends a request with an optional Bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Sends raw bytes as JSON.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        reply(request.send().await.unwrap()).await
    }

    /// Creates an account and returns an API token for it.
    pub async fn account(&self, username: &str) -> String {
        let password = format!("{username}-password-1");
        self.post(
            "/api/v1/accounts",
            None,
            json!({"username": username, "password": password}),
        )
        .await
        .expect(201);
        self.token(username, &password).await
    }

    /// Logs in with a session and creates an API token.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let session = self
            .post(
                "/api/v1/session",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        let cookie = session
            .headers
            .get("set-cookie")
            .expect("a session cookie")
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let csrf = session.body["csrfToken"].as_str().unwrap().to_owned();
        let response = self
            .client
            .post(format!("{}/api/v1/me/tokens", self.base))
            .header("cookie", cookie)
            .header("x-csrf-token", csrf)
            .json(&json!({"name": "tests"}))
            .send()
            .await
            .unwrap();
        let body = reply(response).await.expect(201);
        body["token"].as_str().unwrap().to_owned()
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

impl Api {
    /// Registers a new key of the caller's own as their holder key ("bring your own
    /// key"): `guildmark keygen` into `dir/key_file`, then a presentation answering the
    /// node's challenge, signed with `guildmark sign`. Returns the new did:key.
    pub async fn bring_own_key(
        &self,
        token: &str,
        dir: &std::path::Path,
        key_file: &str,
    ) -> String {
        use crate::common::{guildmark, keygen};
        let did = keygen(dir, key_file);
        let challenge = self
            .call(
                Method::GET,
                "/api/v1/me/holder/challenge",
                Some(token),
                None,
            )
            .await
            .expect(200);
        let presentation = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": did,
        });
        let signed = guildmark(
            dir,
            &[
                "sign",
                "--key",
                key_file,
                "--challenge",
                challenge["challenge"].as_str().unwrap(),
                "--domain",
                challenge["domain"].as_str().unwrap(),
            ],
            Some(presentation.to_string().as_bytes()),
        )
        .expect(0);
        let signed: Value = serde_json::from_str(&signed.stdout).unwrap();
        let account = self
            .call(
                Method::PUT,
                "/api/v1/me/holder",
                Some(token),
                Some(json!({"presentation": signed})),
            )
            .await
            .expect(200);
        assert_eq!(account["holder"], did);
        did
    }
}
