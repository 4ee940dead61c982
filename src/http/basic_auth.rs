//! A target's Basic credentials: read once when a client is made, sent as the
//! `Authorization` header of every request (or login) that wants them.

use base64::Engine as _;
use reqwest::header::HeaderValue;

use crate::api_error::{ApiError, ErrorKind};
use crate::config::{Secret, Target};
use crate::http::client::sensitive;

/// The target's user and its password.
pub struct BasicAuth {
    user: String,
    password: Secret,
}

impl BasicAuth {
    /// The credentials of `target`; a password that cannot be read is an auth error, so
    /// it surfaces as the login failure it will cause.
    pub fn of(target: &Target) -> Result<Self, ApiError> {
        let password = target
            .password()
            .map_err(|err| ApiError::new(ErrorKind::Auth, err.to_string()))?;
        Ok(Self {
            user: target.user.clone(),
            password,
        })
    }

    /// `Basic base64(user:password)`, marked sensitive so it never reaches a log.
    pub fn header(&self) -> HeaderValue {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.user,
            self.password.expose()
        ));
        sensitive(&format!("Basic {basic}"))
    }
}
