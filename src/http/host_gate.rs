//! The host gate: every URL a server hands back (a `Location`, a task link, an upload
//! URL) and every extra URL a target entry names (Huawei's `iam_url`, vCenter's
//! `upload_hosts`) passes here before a request goes to it, so a target's credentials,
//! tokens and disks go only where its entry in the target file says.
//!
//! An origin is the scheme, the host as written after URL parsing and the port (or the
//! scheme's default). Two spellings of one machine (`localhost` and `127.0.0.1`,
//! `[::1]` and `127.0.0.1`) are different origins: the gate does not resolve names,
//! since resolving would let DNS decide where credentials go. A link with a user or
//! password in it is refused wherever it points. Redirects are never followed (the
//! client's redirect policy is `none`); [`redirect_error`] says so for a 3xx answer.

use reqwest::{Response, Url};

use crate::api_error::{ApiError, ErrorKind};
use crate::config::{GrantedHosts, HostNames, Target};

/// The one operation a Huawei SMS target's `iam_url` is used for.
pub const IAM_LOGIN: &str = "iam.login";
/// The one operation a vCenter target's `upload_hosts` are used for.
pub const OVF_PUSH: &str = "ovf.push";

/// Where one target's requests may go.
#[derive(Clone, Debug)]
pub struct HostGate {
    target: String,
    own: Url,
    extras: Vec<Extra>,
}

/// Hosts a target entry names besides its own URL, for one operation only.
#[derive(Clone, Debug)]
struct Extra {
    /// The target file's field that names them.
    field: &'static str,
    operation: &'static str,
    hosts: Hosts,
}

#[derive(Clone, Debug)]
enum Hosts {
    /// One more origin (`iam_url`).
    Origin(Url),
    /// Host names, on the target's own scheme and port (`upload_hosts`).
    Named(HostNames),
}

impl HostGate {
    /// The gate of `target`: its `url`, and the URLs its entry names.
    pub fn of(target: &Target) -> Result<Self, String> {
        let parse = |field: &str, url: &str| {
            Url::parse(&format!("{}/", url.trim_end_matches('/')))
                .map_err(|err| format!("target `{}`: bad {field}: {err}", target.name))
        };
        let own = parse("url", &target.url)?;
        let mut extras = Vec::new();
        for grant in target.extras.grants() {
            let hosts = match &grant.hosts {
                GrantedHosts::Origin(url) => Hosts::Origin(parse(grant.field, url)?),
                GrantedHosts::Named(names) => Hosts::Named(names.clone()),
            };
            extras.push(Extra {
                field: grant.field,
                operation: grant.operation,
                hosts,
            });
        }
        Ok(Self {
            target: target.name.clone(),
            own,
            extras,
        })
    }

    /// `link` (absolute, or relative to the target's URL) when `operation` may send a
    /// request there; otherwise an error naming the operation and the origin the link
    /// pointed to, never the link itself, which may carry credentials or a ticket.
    pub fn check(&self, link: &str, operation: &str) -> Result<Url, ApiError> {
        let refuse = |message: String| {
            Err(ApiError::new(ErrorKind::Http, message).at(&self.target, operation))
        };
        let url = match self.own.join(link) {
            Ok(url) => url,
            Err(err) => {
                return refuse(format!(
                    "returned a link that is not a URL ({err}); refusing to follow"
                ));
            }
        };
        let shown = origin(&url);
        if !url.username().is_empty() || url.password().is_some() {
            return refuse(format!(
                "returned a link to {shown} with credentials in it; refusing to follow"
            ));
        }
        if same_origin(&url, &self.own) {
            return Ok(url);
        }
        let mut named_elsewhere = None;
        for extra in &self.extras {
            if !self.allows(extra, &url) {
                continue;
            }
            if extra.operation == operation {
                return Ok(url);
            }
            named_elsewhere = Some(extra);
        }
        if let Some(extra) = named_elsewhere {
            return refuse(format!(
                "returned a link to {shown}, which `{}` of target `{}` names for {} only; refusing to follow",
                extra.field, self.target, extra.operation
            ));
        }
        let mut message = format!(
            "returned a link to {shown}; refusing to follow: requests go only to the target's url ({})",
            origin(&self.own)
        );
        if let Some(extra) = self.extras.iter().find(|e| e.operation == operation) {
            match &extra.hosts {
                Hosts::Origin(url) => message.push_str(&format!(" and {}", origin(url))),
                Hosts::Named(_) => message.push_str(&format!(
                    " and the hosts in `{}`; add the host to `{}` of target `{}` if it is one of yours",
                    extra.field, extra.field, self.target
                )),
            }
        }
        refuse(message)
    }

    fn allows(&self, extra: &Extra, url: &Url) -> bool {
        match &extra.hosts {
            Hosts::Origin(allowed) => same_origin(url, allowed),
            Hosts::Named(hosts) => {
                url.scheme() == self.own.scheme()
                    && url.port_or_known_default() == self.own.port_or_known_default()
                    && url.host_str().is_some_and(|host| hosts.allow(host))
            }
        }
    }
}

/// Same scheme, same host as parsed (no name resolution), same port.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// `scheme://host[:port]`, without user, password, path or query.
fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or("an unknown host");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// The error for a 3xx answer to the request at `url`: the redirect is not followed,
/// and the error names where it pointed (its origin only). A redirected mutation may
/// have been applied (a `303 See Other` says it was), so its outcome is unknown and
/// `advice` says how to tell.
pub(super) fn redirect_error(
    response: &Response,
    url: &Url,
    mutating: bool,
    advice: &str,
) -> ApiError {
    let status = response.status();
    let reason = status.canonical_reason().unwrap_or("");
    let to = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|location| url.join(location).ok())
        .map_or_else(
            || "a redirect without a usable `Location`".to_owned(),
            |to| format!("a redirect to {}", origin(&to)),
        );
    let mut err = if mutating {
        ApiError::new(
            ErrorKind::UnknownOutcome,
            format!(
                "{} {reason}: answered with {to}, which is never followed; the request may have been applied: {advice}",
                status.as_u16()
            ),
        )
    } else {
        ApiError::new(
            ErrorKind::Http,
            format!(
                "{} {reason}: answered with {to}, which is never followed; if the API moved, change the target's `url`",
                status.as_u16()
            ),
        )
    };
    err.status = Some(status.as_u16());
    err
}

#[cfg(test)]
#[path = "host_gate_tests.rs"]
mod tests;
