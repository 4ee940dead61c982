//! Wire types of IAM's password login, `POST /v3/auth/tokens` (vendor-apis.md §5.2 A):
//! the request, the token body, and IAM's error body.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The path of the token endpoint below the IAM URL.
pub const TOKENS_PATH: [&str; 3] = ["v3", "auth", "tokens"];
/// The response header that carries the token.
pub const SUBJECT_TOKEN_HEADER: &str = "X-Subject-Token";

/// A name, as IAM nests them: `{"name": "acme"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub name: String,
}

/// An id, as IAM nests them: `{"id": "0215…"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    pub id: String,
}

/// The IAM user of a password login.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordUser {
    pub name: String,
    pub password: String,
    pub domain: Named,
}

debug_showing_only!(PasswordUser: name, domain);

/// `auth.identity.password`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordIdentity {
    pub user: PasswordUser,
}

/// `auth.identity`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub methods: Vec<String>,
    pub password: Option<PasswordIdentity>,
}

/// `auth.scope`: a project, or (for global services) a domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<IdRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Named>,
}

/// `auth`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth {
    pub identity: Identity,
    #[serde(default)]
    pub scope: Scope,
}

/// The body of `POST /v3/auth/tokens`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    pub auth: Auth,
}

impl TokenRequest {
    /// A password login of `user` of account `domain`, scoped to `project_id`.
    pub fn password(user: &str, password: &str, domain: &str, project_id: &str) -> Self {
        Self {
            auth: Auth {
                identity: Identity {
                    methods: vec!["password".to_owned()],
                    password: Some(PasswordIdentity {
                        user: PasswordUser {
                            name: user.to_owned(),
                            password: password.to_owned(),
                            domain: Named {
                                name: domain.to_owned(),
                            },
                        },
                    }),
                },
                scope: Scope {
                    project: Some(IdRef {
                        id: project_id.to_owned(),
                    }),
                    domain: None,
                },
            },
        }
    }
}

/// A project in the token body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub domain: DomainRef,
}

/// A domain (account) in the token body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRef {
    pub id: String,
    pub name: String,
}

/// The user in the token body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUser {
    pub id: String,
    pub name: String,
    pub domain: DomainRef,
    pub password_expires_at: String,
}

/// A role in the token body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: String,
}

/// `token` of the answer; the token itself is in the `X-Subject-Token` header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenBody {
    /// E.g. `2025-01-04T09:08:49.965000Z`.
    pub expires_at: String,
    pub issued_at: String,
    pub methods: Vec<String>,
    pub catalog: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<Project>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainRef>,
    pub roles: Vec<Role>,
    pub user: TokenUser,
}

/// The answer of `POST /v3/auth/tokens`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token: TokenBody,
}

/// IAM's error body: `{"error": {"code": 401, "title": "Unauthorized", "message": …}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamErrorBody {
    pub error: IamError,
}

/// The `error` of [`IamErrorBody`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamError {
    pub code: u16,
    pub title: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_login_matches_the_documented_request() {
        let request = TokenRequest::password("testname", "Password", "testname", "0215xxx");
        let expected: Value = serde_json::from_str(
            r#"{ "auth": { "identity": { "methods": [ "password" ], "password": { "user": { "name": "testname", "domain": { "name": "testname" }, "password": "Password" } } }, "scope": { "project": { "id": "0215xxx" } } } }"#,
        )
        .unwrap();
        assert_eq!(serde_json::to_value(&request).unwrap(), expected);
        let secret = TokenRequest::password("bot", "hunter2", "acme", "p");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn the_documented_token_body_parses() {
        let body = r#"{"token": {"expires_at": "2025-01-04T09:08:49.965000Z", "issued_at": "2025-01-03T09:08:49.965000Z",
             "methods": ["password"], "catalog": [],
             "project": {"id": "0215", "name": "eu-west-101", "domain": {"id": "d78c", "name": "account-name"}},
             "roles": [{"id": "0", "name": "te_admin"}],
             "user": {"id": "u1", "name": "iam-user", "domain": {"id": "d78c", "name": "account-name"},
                      "password_expires_at": ""}}}"#;
        let parsed: TokenResponse = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.token.expires_at, "2025-01-04T09:08:49.965000Z");
        assert_eq!(parsed.token.project.unwrap().domain.name, "account-name");
        let error: IamErrorBody = serde_json::from_str(
            r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The username or password is wrong."}}"#,
        )
        .unwrap();
        assert_eq!(error.error.code, 401);
    }
}
