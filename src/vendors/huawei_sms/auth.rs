//! How the SMS client authenticates each request (vendor-apis.md §5.2): an IAM token
//! bought with the user's password, renewed before it lapses and after a 401, or an
//! `SDK-HMAC-SHA256` signature made with the access key, as the vendor's SDKs do.

use std::time::{Duration, SystemTime};

use reqwest::{Method, RequestBuilder, Response, Url};

use super::target::{HuaweiAuth, HuaweiScope};
use crate::api_error::{ApiError, ErrorKind};
use crate::clock::Clock;
use crate::config::{Secret, Target};
use crate::http::client::{HttpClient, sensitive};
use crate::http::host_gate::IAM_LOGIN;
use crate::http::login::LoginCache;
use crate::http::mutation::Exchange;
use crate::vendors::huawei_sms::iam_wire::{
    SUBJECT_TOKEN_HEADER, TOKENS_PATH, TokenRequest, TokenResponse,
};
use crate::vendors::huawei_sms::signer::{self, DATE_HEADER, Signable};
use crate::vendors::huawei_sms::wire::{AUTH_TOKEN_HEADER, PROJECT_ID_HEADER};

/// The documented token lifetime, assumed when IAM's times do not parse or make no
/// sense (§5.2 A).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Renew this long before the token lapses (or a tenth of its life, if shorter).
const RENEW_MARGIN: Duration = Duration::from_secs(5 * 60);
/// The body type both schemes send; IAM documents it with the charset.
pub(super) const JSON: &str = "application/json;charset=utf8";

/// An IAM token and when, on this process's clock, it should be renewed.
#[derive(Clone, PartialEq)]
pub(super) struct Token {
    value: Secret,
    renew_at: SystemTime,
}

impl Token {
    /// A token received at `now` that IAM said lives `lifetime`.
    pub(super) fn new(value: Secret, now: SystemTime, lifetime: Duration) -> Self {
        let margin = RENEW_MARGIN.min(lifetime / 10);
        Self {
            value,
            renew_at: now + lifetime.saturating_sub(margin),
        }
    }

    /// Whether the token should be renewed before it is used at `now`.
    pub(super) fn is_stale(&self, now: SystemTime) -> bool {
        now >= self.renew_at
    }
}

/// One request, ready to be authenticated and sent.
pub(super) struct Outgoing<'a> {
    pub(super) method: Method,
    pub(super) url: &'a Url,
    pub(super) body: &'a [u8],
}

/// An IAM user's login: where, who, and the current token.
pub(super) struct IamLogin {
    /// The target's client, whose host gate names `iam_url` for `iam.login`.
    iam: HttpClient,
    /// The target's `iam_url`.
    iam_url: String,
    user: String,
    password: Secret,
    domain: String,
    project_id: String,
    tokens: LoginCache<Token>,
}

/// The credentials of one target.
pub(super) enum Credentials {
    Token(Box<IamLogin>),
    Signed {
        access_key: String,
        secret_key: Secret,
        project_id: String,
    },
}

impl Credentials {
    /// The credentials `target` names; its secret is read now.
    pub(super) fn new(target: &Target) -> Result<Self, ApiError> {
        let fail = |message: String| ApiError::new(ErrorKind::Validation, message);
        let scope = HuaweiScope::of(target).ok_or_else(|| {
            fail(format!(
                "target `{}` has no IAM scope; is it a huawei_sms target?",
                target.name
            ))
        })?;
        let secret = target
            .password()
            .map_err(|err| ApiError::new(ErrorKind::Auth, err.to_string()))?;
        let project_id = scope.project_id.clone();
        if scope.auth == HuaweiAuth::AccessKey {
            return Ok(Self::Signed {
                access_key: target.user.clone(),
                secret_key: secret,
                project_id,
            });
        }
        let needs = |field: &str| fail(format!("target `{}` needs `{field}`", target.name));
        let iam_url = scope.iam_url.clone().ok_or_else(|| needs("iam_url"))?;
        let domain = scope.domain.clone().ok_or_else(|| needs("domain"))?;
        // IAM is a host of its own, which the host gate lets `iam.login` alone reach.
        let iam = HttpClient::new(target)?;
        Ok(Self::Token(Box::new(IamLogin {
            iam,
            iam_url,
            user: target.user.clone(),
            password: secret,
            domain,
            project_id,
            tokens: LoginCache::new(),
        })))
    }

    /// Sends `outgoing` authenticated. With a token, a stale one is renewed first and a
    /// 401 (expired or revoked) buys a new one and sends once more: nothing was applied.
    pub(super) async fn send(
        &self,
        http: &HttpClient,
        clock: &Clock,
        exchange: Exchange<'_>,
        outgoing: &Outgoing<'_>,
    ) -> Result<Response, ApiError> {
        let base = || {
            http.request(outgoing.method.clone(), outgoing.url.clone())
                .header(reqwest::header::CONTENT_TYPE, JSON)
                .body(outgoing.body.to_vec())
        };
        match self {
            Self::Signed { .. } => {
                let request = self.sign(base(), outgoing);
                http.exchange(exchange, request, super::client::parse_error)
                    .await
            }
            Self::Token(login) => {
                let send = |token: Token| {
                    let request = base().header(AUTH_TOKEN_HEADER, sensitive(token.value.expose()));
                    http.exchange(exchange, request, super::client::parse_error)
                };
                let stale = |token: &Token| token.is_stale(clock.now());
                login
                    .tokens
                    .with_fresh_login(stale, || login.log_in(clock), send)
                    .await
            }
        }
    }

    /// Adds the signing headers and the signature, dated now by the wall clock: the
    /// gateway compares it with real time, whatever speed a rehearsal runs at.
    fn sign(&self, request: RequestBuilder, outgoing: &Outgoing<'_>) -> RequestBuilder {
        let Self::Signed {
            access_key,
            secret_key,
            project_id,
        } = self
        else {
            return request;
        };
        let date = signer::sdk_date(SystemTime::now());
        let headers: Vec<(String, String)> = [
            ("Content-Type", JSON.to_owned()),
            ("Host", host_of(outgoing.url)),
            (PROJECT_ID_HEADER, project_id.clone()),
            (DATE_HEADER, date.clone()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        let query = signer::parse_query(outgoing.url.query().unwrap_or(""));
        let signable = Signable {
            method: outgoing.method.as_str(),
            path: outgoing.url.path(),
            query: &query,
            headers: &headers,
            body: outgoing.body,
        };
        let (signature, signed) = signer::sign(&signable, &date, secret_key.expose().as_bytes());
        let authorization = signer::authorization(access_key, &signed, &signature);
        headers
            .into_iter()
            .filter(|(name, _)| name != "Content-Type")
            .fold(request, |request, (name, value)| {
                request.header(name, value)
            })
            .header(reqwest::header::AUTHORIZATION, sensitive(&authorization))
    }
}

impl IamLogin {
    /// Buys a token with the user's password (§5.2 A).
    async fn log_in(&self, clock: &Clock) -> Result<Token, ApiError> {
        let Self {
            iam,
            iam_url,
            user,
            password,
            domain,
            project_id,
            ..
        } = self;
        let tokens = format!(
            "{}/{}?nocatalog=true",
            iam_url.trim_end_matches('/'),
            TOKENS_PATH.join("/")
        );
        let url = iam.check_link(&tokens, IAM_LOGIN)?;
        let body = TokenRequest::password(user, password.expose(), domain, project_id);
        let request = iam
            .request(Method::POST, url)
            .header(reqwest::header::CONTENT_TYPE, JSON)
            .json(&body);
        let response = iam
            .session(IAM_LOGIN, request, super::client::parse_error)
            .await?;
        let value = response
            .headers()
            .get(SUBJECT_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(Secret::new)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::Auth,
                    format!("IAM answered without an `{SUBJECT_TOKEN_HEADER}` header"),
                )
                .at(iam.target(), IAM_LOGIN)
            })?;
        let body: TokenResponse = iam.read_json(IAM_LOGIN, response).await?;
        let lifetime = lifetime(&body.token.issued_at, &body.token.expires_at);
        tracing::debug!(target = iam.target(), ?lifetime, "got an IAM token");
        Ok(Token::new(value, clock.now(), lifetime))
    }
}

/// How long a token lives, from IAM's own times (so a skewed local clock does not
/// matter): `expires_at - issued_at`. A token that would expire as it is issued, or
/// before, would be renewed before every request, so then the documented lifetime
/// is assumed and a 401 renews it if IAM meant what it said.
fn lifetime(issued_at: &str, expires_at: &str) -> Duration {
    match (
        humantime::parse_rfc3339_weak(issued_at),
        humantime::parse_rfc3339_weak(expires_at),
    ) {
        (Ok(issued), Ok(expires)) => expires
            .duration_since(issued)
            .ok()
            .filter(|lifetime| !lifetime.is_zero())
            .unwrap_or(DEFAULT_LIFETIME),
        _ => DEFAULT_LIFETIME,
    }
}

/// The `Host` header a request to `url` carries: the port only when it is not the
/// scheme's default, as HTTP clients send it.
fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_shortly_before_they_lapse() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let day = Token::new(Secret::new("t"), start, Duration::from_secs(24 * 3600));
        assert!(!day.is_stale(start + Duration::from_secs(23 * 3600)));
        assert!(day.is_stale(start + Duration::from_secs(24 * 3600 - 299)));
        let short = Token::new(Secret::new("t"), start, Duration::from_secs(600));
        assert!(!short.is_stale(start + Duration::from_secs(539)));
        assert!(short.is_stale(start + Duration::from_secs(540)));
    }

    #[test]
    fn lifetimes_come_from_iam_times() {
        assert_eq!(
            lifetime("2025-01-03T09:08:49.965000Z", "2025-01-04T09:08:49.965000Z"),
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(
            lifetime("2025-01-03T09:08:49Z", "2025-01-03T09:18:49Z"),
            Duration::from_secs(600)
        );
        assert_eq!(lifetime("soon", "later"), DEFAULT_LIFETIME);
    }

    #[test]
    fn a_token_that_expires_as_it_is_issued_gets_the_documented_lifetime() {
        let issued = "2025-01-03T09:08:49Z";
        assert_eq!(lifetime(issued, issued), DEFAULT_LIFETIME);
        assert_eq!(
            lifetime(issued, "2025-01-02T09:08:49Z"),
            DEFAULT_LIFETIME,
            "expires before it is issued"
        );
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let token = Token::new(Secret::new("t"), start, lifetime(issued, issued));
        assert!(!token.is_stale(start + Duration::from_secs(3600)));
    }

    #[test]
    fn host_headers_keep_only_explicit_ports() {
        let url = |text: &str| Url::parse(text).unwrap();
        assert_eq!(
            host_of(&url("https://sms.myhuaweicloud.eu/v3")),
            "sms.myhuaweicloud.eu"
        );
        assert_eq!(host_of(&url("https://sms.example:443/v3")), "sms.example");
        assert_eq!(host_of(&url("http://127.0.0.1:8443/v3")), "127.0.0.1:8443");
    }
}
