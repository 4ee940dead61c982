//! Typed async client for Cloud Director's defined entities: API version negotiation,
//! tenant or provider login to a bearer token with transparent re-login on 401, reads
//! retried while the server is busy, paged cloudapi collections, `migrateEntities` and
//! the legacy XML task it answers with.

use reqwest::{Method, RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use crate::api_error::{ApiError, ErrorKind};
use crate::clock::Clock;
use crate::config::Target;
use crate::http::basic_auth::BasicAuth;
use crate::http::call_record::CallRecord;
use crate::http::client::{HttpClient, VendorMessage, sensitive};
use crate::http::login::LoginCache;
use crate::http::mutation::{Check, Exchange, Mutations, Operation, is_planned};
use crate::http::retry::Retrier;
use crate::vendors::vcd::wire::{
    ACCESS_TOKEN_HEADER, CloudApiError, DefinedEntity, DefinedEntityType, EntityState,
    MIGRATE_API_VERSION, MigrateRequest, PROVIDER_ORG, Page, ResolveResult, Task, TypeUrn,
    XmlError, parse_versions, read_xml, version_at_least,
};

/// The largest page cloudapi serves.
const MAX_PAGE: u64 = 128;
/// Minor error code of a migration refused because another is running.
/// What the table calls a task.
pub(crate) const TASK: &str = "task";

const BUSY_ENTITY: &str = "BUSY_ENTITY";

/// Every mutating call this client sends, with how to tell whether it took effect
/// (vendor-apis.md §2.6, §2.7, §2.9); the mutation gate sends nothing else.
pub const MUTATIONS: Mutations = Mutations {
    vendor: "vcd",
    operations: &[
        Operation::new(
            "migrate_entities",
            "entity type",
            Check::RepeatSafe(
                "running the migration again is how Cloud Director picks up instances it skipped",
            ),
        ),
        Operation::new(
            "resolve",
            "entity",
            Check::RepeatSafe("resolving validates the entity again and changes nothing else"),
        ),
        Operation::new("task.cancel", TASK, Check::States(&["canceled"])),
    ],
    is_state: |_, state| {
        crate::vendors::vcd::wire::TaskStatus::parse(state).is_some_and(|s| s.as_str() == state)
    },
};

/// A defined entity with the `ETag` it was read with.
#[derive(Clone, Debug, PartialEq)]
pub struct TaggedEntity {
    pub entity: DefinedEntity,
    pub etag: Option<String>,
}

/// A Cloud Director target.
pub struct VcdClient {
    http: HttpClient,
    auth: BasicAuth,
    org: String,
    version: Mutex<Option<String>>,
    token: LoginCache<String>,
    retry: Retrier,
}

session!(VcdClient, token => logout_request);

/// Reads a cloudapi JSON error body or a legacy XML `<Error>`.
pub fn parse_error(body: &str) -> Option<VendorMessage> {
    if let Ok(json) = serde_json::from_str::<CloudApiError>(body) {
        return Some(VendorMessage {
            code: Some(json.minor_error_code),
            message: json.message,
        });
    }
    let xml: XmlError = read_xml(body).ok()?;
    (!xml.minor_error_code.is_empty()).then_some(VendorMessage {
        code: Some(xml.minor_error_code),
        message: xml.message,
    })
}

impl VcdClient {
    /// A client for `target`, whose `user` is `name@org`, noting its mutating calls in
    /// `calls` and waiting out a busy server on `clock`; nothing is sent yet.
    pub fn new(target: &Target, calls: CallRecord, clock: Clock) -> Result<Self, ApiError> {
        let (_, org) = target.user.rsplit_once('@').ok_or_else(|| {
            ApiError::new(
                ErrorKind::Validation,
                format!(
                    "target `{}`: user `{}` must name its organisation, e.g. `administrator@System`",
                    target.name, target.user
                ),
            )
        })?;
        Ok(Self {
            http: HttpClient::new(target)?.recording(calls),
            auth: BasicAuth::of(target)?,
            org: org.to_owned(),
            version: Mutex::new(None),
            token: LoginCache::new(),
            retry: Retrier::new(target, clock),
        })
    }

    /// The target's name.
    pub fn target(&self) -> &str {
        self.http.target()
    }

    /// The newest API version the server offers, asked once per client.
    pub async fn api_version(&self) -> Result<String, ApiError> {
        self.retry
            .run("versions", &Method::GET, || self.negotiate())
            .await
    }

    /// [`VcdClient::api_version`] in one try, for calls that retry as a whole.
    async fn negotiate(&self) -> Result<String, ApiError> {
        let mut version = self.version.lock().await;
        if let Some(known) = version.as_ref() {
            return Ok(known.clone());
        }
        let url = self.http.url(&["api", "versions"]);
        let request = self
            .http
            .request(Method::GET, url)
            .header(reqwest::header::ACCEPT, "application/*+xml");
        let response = self.http.send("versions", request, parse_error).await?;
        let text = self.http.read_text("versions", response).await?;
        let newest = parse_versions(&text)
            .map_err(|err| self.http.unexpected("versions", &err.to_string(), &text))?
            .into_iter()
            .max_by(|a, b| {
                if version_at_least(a, b) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Less
                }
            })
            .ok_or_else(|| {
                self.http
                    .unexpected("versions", "no versions listed", &text)
            })?;
        *version = Some(newest.clone());
        Ok(newest)
    }

    /// Every entity type, optionally filtered with FIQL (`name==vm`).
    pub async fn entity_types(
        &self,
        filter: Option<&str>,
    ) -> Result<Vec<DefinedEntityType>, ApiError> {
        self.pages("entity_types", &["entityTypes"], filter, MAX_PAGE)
            .await
    }

    /// One entity type by its full URN.
    pub async fn entity_type(&self, urn: &str) -> Result<DefinedEntityType, ApiError> {
        let urn = self.type_urn("entity_type", urn, true)?;
        let url = self.cloudapi(&["entityTypes", &urn.to_string()]);
        let response = self
            .call(Exchange::Read("entity_type"), Method::GET, url, None)
            .await?;
        self.http.read_json("entity_type", response).await
    }

    /// Every entity of the types `type_urn` names (any of the three URN forms).
    pub async fn entities(
        &self,
        type_urn: &str,
        filter: Option<&str>,
        page_size: u64,
    ) -> Result<Vec<DefinedEntity>, ApiError> {
        let urn = self.type_urn("entities", type_urn, false)?;
        let mut path = vec!["entities", "types", urn.vendor.as_str(), urn.nss.as_str()];
        if urn.is_full() {
            path.extend(urn.version.as_deref());
        }
        let all: Vec<DefinedEntity> = self.pages("entities", &path, filter, page_size).await?;
        Ok(all
            .into_iter()
            .filter(|e| TypeUrn::parse(&e.entity_type).is_ok_and(|t| urn.covers(&t)))
            .collect())
    }

    /// One entity with its `ETag`.
    pub async fn entity(&self, id: &str) -> Result<TaggedEntity, ApiError> {
        let url = self.cloudapi(&["entities", id]);
        let response = self
            .call(Exchange::Read("entity"), Method::GET, url, None)
            .await?;
        let etag = etag(&response);
        let entity = self.http.read_json("entity", response).await?;
        Ok(TaggedEntity { entity, etag })
    }

    /// Asks the server to validate an entity against its type's schema.
    pub async fn resolve(&self, id: &str) -> Result<ResolveResult, ApiError> {
        let mutation = MUTATIONS.mutation(self.target(), "resolve", (Some(id), None), "resolve")?;
        let url = self.cloudapi(&["entities", id, "resolve"]);
        let response = self
            .call(Exchange::Mutation(&mutation), Method::POST, url, None)
            .await?;
        if is_planned(&response) {
            // Only planned: the entity is not read; it is shown as a resolve that
            // validates leaves it, with no contents of its own.
            return Ok(ResolveResult {
                id: id.to_owned(),
                entity: serde_json::Value::Null,
                state: Some(EntityState::Resolved.as_str().to_owned()),
                entity_state: Some(EntityState::Resolved),
                message: Some("planned, not sent".to_owned()),
            });
        }
        self.http.read_json("resolve", response).await
    }

    /// Starts migrating every instance of the types `type_urn` names to `target` (a full
    /// URN); returns the task's URL. Both URNs are checked before anything is sent.
    pub async fn migrate_entities(
        &self,
        type_urn: &str,
        target: &str,
        force: bool,
    ) -> Result<Url, ApiError> {
        let operation = "migrate_entities";
        let source = self.type_urn(operation, type_urn, false)?;
        let target = self.type_urn(operation, target, true)?;
        let version = self.api_version().await?;
        if !version_at_least(&version, MIGRATE_API_VERSION) {
            return Err(ApiError::new(
                ErrorKind::Validation,
                format!(
                    "the server's newest API version is {version}; migrate_entities needs {MIGRATE_API_VERSION} or newer (VCD 10.5)"
                ),
            )
            .at(self.target(), operation));
        }
        let body = self.http.json_body(
            operation,
            &MigrateRequest {
                target_entity_type: Some(target.to_string()),
                force_migrate: force,
            },
        )?;
        let summary = format!("migrate to `{target}`, force = {force}");
        let mutation = MUTATIONS.mutation(
            self.target(),
            operation,
            (Some(&source.to_string()), None),
            summary,
        )?;
        let url = self.cloudapi(&["entityTypes", &source.to_string(), "migrateEntities"]);
        let path = url.path().to_owned();
        let sent_before = self.http.times_sent(operation, &path);
        let response = match self
            .call(Exchange::Mutation(&mutation), Method::POST, url, Some(body))
            .await
        {
            Ok(response) => response,
            // Sent more than once by this call: its own first sending may be running.
            Err(err) if self.http.times_sent(operation, &path) > sent_before + 1 => {
                return self.running_migration(err);
            }
            Err(err) => return Err(err),
        };
        if let Some(plan) = self.http.plan().filter(|_| is_planned(&response)) {
            // The migration was only planned: its task is one the plan answers for.
            let id = plan.next_id();
            plan.made(self.target(), TASK, &id);
            return Ok(self.task_url(&id));
        }
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::Http,
                    "the server accepted the migration but sent no task `Location`",
                )
                .at(self.target(), operation)
            })?;
        self.http.check_link(location, "vcd.migrate_entities")
    }

    /// A migration sent again (how a lost or unreadable answer is recovered,
    /// vendor-apis.md §2.9) and refused because one of the same type is running
    /// (`BUSY_ENTITY`, naming its task): that task is the first sending's, the one to
    /// follow. Any other error stands.
    fn running_migration(&self, err: ApiError) -> Result<Url, ApiError> {
        let task = err
            .vendor_code
            .as_deref()
            .filter(|code| *code == BUSY_ENTITY)
            .and_then(|_| err.message.split("urn:vcloud:task:").nth(1))
            .and_then(|rest| {
                rest.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
                    .next()
            })
            .filter(|uuid| uuid.len() == 36);
        match task {
            Some(uuid) => {
                tracing::info!(
                    target = %self.target(),
                    "the migration sent before is running (task {uuid}): following it"
                );
                Ok(self.task_url(uuid))
            }
            None => Err(err),
        }
    }

    /// Reads a task from the URL the server handed out, once the host gate let it by.
    pub async fn task(&self, url: &Url) -> Result<Task, ApiError> {
        let url = self.http.check_link(url.as_str(), "task")?;
        let response = self
            .call(Exchange::Read("task"), Method::GET, url, None)
            .await?;
        let text = self.http.read_text("task", response).await?;
        Task::from_xml(&text).map_err(|err| self.http.unexpected("task", &err.to_string(), &text))
    }

    /// Where task `id` (its uuid, as a cancel names it) is read.
    pub fn task_url(&self, id: &str) -> Url {
        self.http.url(&["api", "task", id])
    }

    /// Asks the server to cancel a task.
    pub async fn cancel_task(&self, url: &Url) -> Result<(), ApiError> {
        let cancel = self.http.check_link(
            &format!("{}/action/cancel", url.as_str().trim_end_matches('/')),
            "vcd.task.cancel",
        )?;
        let task = url.path().rsplit('/').next().unwrap_or_default();
        let mutation =
            MUTATIONS.mutation(self.target(), "task.cancel", (Some(task), None), "cancel")?;
        self.call(Exchange::Mutation(&mutation), Method::POST, cancel, None)
            .await
            .map(drop)
    }

    fn type_urn(&self, operation: &str, text: &str, full: bool) -> Result<TypeUrn, ApiError> {
        let parsed = if full {
            TypeUrn::parse_full(text)
        } else {
            TypeUrn::parse(text)
        };
        parsed.map_err(|err| {
            ApiError::new(ErrorKind::Validation, err.to_string()).at(self.target(), operation)
        })
    }

    fn cloudapi(&self, path: &[&str]) -> Url {
        let mut segments = vec!["cloudapi", "1.0.0"];
        segments.extend_from_slice(path);
        self.http.url(&segments)
    }

    /// Reads every page of a cloudapi collection.
    async fn pages<T: DeserializeOwned>(
        &self,
        operation: &str,
        path: &[&str],
        filter: Option<&str>,
        page_size: u64,
    ) -> Result<Vec<T>, ApiError> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let mut url = self.cloudapi(path);
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("page", &page.to_string());
                query.append_pair("pageSize", &page_size.clamp(1, MAX_PAGE).to_string());
                if let Some(filter) = filter {
                    query.append_pair("filter", filter);
                }
            }
            let response = self
                .call(Exchange::Read(operation), Method::GET, url, None)
                .await?;
            let body: Page<T> = self.http.read_json(operation, response).await?;
            // Trust our own page counter, not the echoed `page`, so a server that ignores
            // `page` cannot keep us paging forever.
            let last = page >= body.page_count || body.values.is_empty();
            all.extend(body.values);
            if last {
                return Ok(all);
            }
            page += 1;
        }
    }

    /// Sends an authenticated request with the negotiated version, logging in first if
    /// needed and once more when the token has idled out (a 401 applied nothing). A read
    /// the server is too busy for is sent again (see [`Retrier`]).
    async fn call(
        &self,
        exchange: Exchange<'_>,
        method: Method,
        url: Url,
        body: Option<serde_json::Value>,
    ) -> Result<Response, ApiError> {
        self.retry
            .send(exchange.operation(), &method, || {
                self.call_once(exchange, &method, &url, body.as_ref())
            })
            .await
            .map_err(|mut err| {
                if err.vendor_code.as_deref() == Some(BUSY_ENTITY) {
                    err.kind = ErrorKind::InvalidState;
                }
                err
            })
    }

    async fn call_once(
        &self,
        exchange: Exchange<'_>,
        method: &Method,
        url: &Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, ApiError> {
        let version = self.negotiate().await?;
        let legacy = url.path().starts_with("/api/");
        let accept = if legacy {
            format!("application/*+xml;version={version}")
        } else {
            format!("application/json;version={version}")
        };
        let send = |token: String| {
            let mut request: RequestBuilder = self
                .http
                .request(method.clone(), url.clone())
                .header(reqwest::header::ACCEPT, &accept)
                .header(
                    reqwest::header::AUTHORIZATION,
                    sensitive(&format!("Bearer {token}")),
                );
            if let Some(body) = body {
                request = request.json(body);
            }
            self.http.exchange(exchange, request, parse_error)
        };
        self.token.with_login(|| self.log_in(&version), send).await
    }

    async fn log_in(&self, version: &str) -> Result<String, ApiError> {
        let path: &[&str] = if self.org.eq_ignore_ascii_case(PROVIDER_ORG) {
            &["sessions", "provider"]
        } else {
            &["sessions"]
        };
        let request = self
            .http
            .request(Method::POST, self.cloudapi(path))
            .header(
                reqwest::header::ACCEPT,
                format!("application/json;version={version}"),
            )
            .header(reqwest::header::AUTHORIZATION, self.auth.header());
        let response = self.http.session("login", request, parse_error).await?;
        response
            .headers()
            .get(ACCESS_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::Auth,
                    format!("login answered without `{ACCESS_TOKEN_HEADER}`"),
                )
                .at(self.target(), "login")
            })
    }

    /// The request that ends the login of bearer `token`.
    async fn logout_request(&self, token: String) -> RequestBuilder {
        let version = self
            .version
            .lock()
            .await
            .clone()
            .unwrap_or_else(|| MIGRATE_API_VERSION.to_owned());
        self.http
            .request(Method::DELETE, self.cloudapi(&["sessions", "current"]))
            .header(
                reqwest::header::ACCEPT,
                format!("application/json;version={version}"),
            )
            .header(
                reqwest::header::AUTHORIZATION,
                sensitive(&format!("Bearer {token}")),
            )
    }
}

fn etag(response: &Response) -> Option<String> {
    response
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_in_both_formats() {
        let json =
            r#"{"minorErrorCode":"NOT_FOUND","message":"[ 1 ] no such type","stackTrace":null}"#;
        assert_eq!(
            parse_error(json).unwrap().code.as_deref(),
            Some("NOT_FOUND")
        );
        let xml = r#"<Error xmlns="http://www.vmware.com/vcloud/v1.5" majorErrorCode="404" minorErrorCode="RESOURCE_NOT_FOUND" message="gone"/>"#;
        let parsed = parse_error(xml).unwrap();
        assert_eq!(
            (parsed.code.as_deref(), parsed.message.as_str()),
            (Some("RESOURCE_NOT_FOUND"), "gone")
        );
        assert_eq!(parse_error("<html/>"), None);
    }
}
