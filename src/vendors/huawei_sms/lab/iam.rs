//! IAM's password login, `POST {IAM_PREFIX}/v3/auth/tokens` (vendor-apis.md §5.2 A): a
//! token in `X-Subject-Token` that expires after the configured lab time, or a 401 with
//! IAM's own error body.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::vendors::huawei_sms::iam_wire::{
    DomainRef, Project, Role, SUBJECT_TOKEN_HEADER, TokenBody, TokenRequest, TokenResponse,
    TokenUser,
};

use super::error::iam_error;
use super::state::{IssuedToken, LAB_DOMAIN, LAB_PROJECT_ID, LAB_USER, LabState, REGION};

/// The bad-credentials message of IAM (§5.2 A).
const WRONG_PASSWORD: &str = "The username or password is wrong.";
/// Characters of the opaque token, as long as real ones tend to be.
const TOKEN_LENGTH: usize = 1200;

/// `POST /iam/v3/auth/tokens`: checks user, account, password and project.
pub(super) async fn tokens_create(State(lab): State<LabState>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<TokenRequest>(&body) else {
        return iam_error(StatusCode::BAD_REQUEST, "The request body is malformed.");
    };
    let identity = &request.auth.identity;
    let Some(user) = identity
        .password
        .as_ref()
        .filter(|_| identity.methods.iter().any(|m| m == "password"))
        .map(|p| &p.user)
    else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "The authentication method is not supported.",
        );
    };
    let known = user.name == LAB_USER
        && user.domain.name == LAB_DOMAIN
        && user.password == lab.credentials().password.expose();
    if !known {
        lab.at_now().auth_refused += 1;
        return iam_error(StatusCode::UNAUTHORIZED, WRONG_PASSWORD);
    }
    let project = request.auth.scope.project.as_ref().map(|p| p.id.as_str());
    if project.is_some_and(|id| id != LAB_PROJECT_ID) {
        return iam_error(
            StatusCode::UNAUTHORIZED,
            "The project does not exist or the user has no access to it.",
        );
    }
    let (now, mut inventory) = lab.now_and_at();
    let ttl = Duration::from_secs(inventory.config.token_ttl_seconds);
    let value = token(inventory.rng());
    inventory.tokens.retain(|t| t.expires > now);
    inventory.tokens.push(IssuedToken {
        value: value.clone(),
        expires: now + ttl,
    });
    inventory.tokens_issued += 1;
    drop(inventory);
    let mut response = (
        StatusCode::CREATED,
        Json(body_at(now, ttl, project.is_some())),
    )
        .into_response();
    if let Ok(header) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(SUBJECT_TOKEN_HEADER, header);
    }
    response
}

/// A token that looks like IAM's: `MII…`, long, opaque.
fn token(rng: &mut fastrand::Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let tail: String = (0..TOKEN_LENGTH)
        .map(|_| char::from(ALPHABET[rng.usize(..ALPHABET.len())]))
        .collect();
    format!("MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEw{tail}")
}

fn body_at(now: SystemTime, ttl: Duration, project: bool) -> TokenResponse {
    let domain = DomainRef {
        id: "d78cbac186b744899480f25bd022f468".to_owned(),
        name: LAB_DOMAIN.to_owned(),
    };
    let time = |at: SystemTime| humantime::format_rfc3339_micros(at).to_string();
    TokenResponse {
        token: TokenBody {
            expires_at: time(now + ttl),
            issued_at: time(now),
            methods: vec!["password".to_owned()],
            catalog: Vec::new(),
            project: project.then(|| Project {
                id: LAB_PROJECT_ID.to_owned(),
                name: REGION.to_owned(),
                domain: domain.clone(),
            }),
            domain: (!project).then(|| domain.clone()),
            roles: vec![Role {
                id: "0".to_owned(),
                name: "te_admin".to_owned(),
            }],
            user: TokenUser {
                id: "9c2e5f1f3f0a4e5bb0b7a3c4d5e6f708".to_owned(),
                name: LAB_USER.to_owned(),
                domain,
                password_expires_at: String::new(),
            },
        },
    }
}
