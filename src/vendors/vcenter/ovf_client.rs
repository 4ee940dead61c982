//! The OVF import session calls of [`VcenterClient`] (vendor-apis.md §3): a `/rest`-only
//! service, whatever encoding the target speaks otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Body, Method, Response, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::io::{InspectReader, ReaderStream};

use crate::api_error::{ApiError, ErrorKind};
use crate::file_gate::GatedFile;
use crate::http::host_gate::OVF_PUSH;
use crate::http::mutation::{Exchange, Mutation, is_planned};
use crate::vendors::vcenter::client::{
    MUTATIONS, OVF_SESSION, VcenterClient, parse_error, vapi_kind,
};
use crate::vendors::vcenter::ovf_wire::{
    CreateRequest, IMPORT_SESSION_PATH, ImportInfo, InstantiateRequest, OvfFileInfo, Preview,
    ProbeResult, REST_ACTION_QUERY, ValidationResult,
};
use crate::vendors::vcenter::wire::Wrapped;

/// `link` with a `*` host (vSphere's "this server") replaced by `own`'s host and port.
fn this_server(link: &str, own: &Url) -> String {
    let Some(host) = own.host_str() else {
        return link.to_owned();
    };
    let server = match own.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    link.replacen("://*/", &format!("://{server}/"), 1)
        .replacen("://*:", &format!("://{host}:"), 1)
}

/// Bytes read from disk at a time while uploading; memory stays flat whatever the size.
const UPLOAD_CHUNK: usize = 256 * 1024;

/// A client token no other create of this process uses: the target, the wall time and
/// a counter.
fn new_client_token(target: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("cutover-{target}-{nanos:x}-{count}")
}

impl VcenterClient {
    /// Creates an import session; the same `client_token` answers the same id. A
    /// request without one is given one, so a lost answer can be looked up and the
    /// create sent again safely.
    pub async fn ovf_create(&self, request: &CreateRequest) -> Result<String, ApiError> {
        let token = request
            .client_token
            .clone()
            .unwrap_or_else(|| new_client_token(self.target()));
        let request = CreateRequest {
            client_token: Some(token.clone()),
            ..request.clone()
        };
        let summary = format!(
            "create in resource pool `{}`, client token `{token}`",
            request.resource_pool
        );
        let mutation = self
            .mutation("ovf_import", None, summary)?
            .with_detail(token.clone());
        let body = self.http().json_body("ovf_import", &request)?;
        let url = self.ovf_url(None, Some("create-for-resource-pool"));
        let response = self
            .call(Exchange::Mutation(&mutation), Method::POST, url, Some(body))
            .await?;
        if let Some(plan) = self.http().plan().filter(|_| is_planned(&response)) {
            // The create was only planned: its session is one the plan answers for.
            let id = format!("planned-{token}");
            plan.made(self.target(), OVF_SESSION, &id);
            return Ok(id);
        }
        self.value("ovf_import", response).await
    }

    /// The gate's description of `operation` on session `id` (none for the
    /// collection's own actions).
    fn mutation(
        &self,
        operation: &str,
        id: Option<&str>,
        summary: String,
    ) -> Result<Mutation, ApiError> {
        MUTATIONS.mutation(self.target(), operation, (id, None), summary)
    }

    /// The session's Info.
    pub async fn ovf_session(&self, id: &str) -> Result<ImportInfo, ApiError> {
        let response = self
            .call(
                Exchange::Read("ovf.status"),
                Method::GET,
                self.ovf_url(Some(id), None),
                None,
            )
            .await?;
        self.value("ovf.status", response).await
    }

    /// Checks instantiation parameters without changing the session.
    pub async fn ovf_try_instantiate(
        &self,
        id: &str,
        parameters: Vec<Value>,
    ) -> Result<ValidationResult, ApiError> {
        let (action, summary) = ("try-instantiate", "check parameters");
        let response = self
            .send_parameters("ovf.try_instantiate", id, action, summary, parameters)
            .await?;
        self.value("ovf.try_instantiate", response).await
    }

    /// Instantiates the package with these parameters.
    pub async fn ovf_instantiate(&self, id: &str, parameters: Vec<Value>) -> Result<(), ApiError> {
        self.send_parameters(
            "ovf.instantiate",
            id,
            "instantiate",
            "instantiate",
            parameters,
        )
        .await
        .map(drop)
    }

    /// Sends instantiation `parameters` to session `id`'s `action`, described by
    /// `summary`; `try-instantiate` and `instantiate` take the same body and differ only
    /// in what they do with it.
    async fn send_parameters(
        &self,
        operation: &str,
        id: &str,
        action: &str,
        summary: &str,
        parameters: Vec<Value>,
    ) -> Result<Response, ApiError> {
        let body = self.http().json_body(
            operation,
            &InstantiateRequest {
                instantiation_parameters: parameters,
            },
        )?;
        let mutation = self.mutation(operation, Some(id), summary.to_owned())?;
        let url = self.ovf_url(Some(id), Some(action));
        self.call(Exchange::Mutation(&mutation), Method::POST, url, Some(body))
            .await
    }

    /// What a descriptor (XML, or base64 of its gzip) references, and its problems.
    pub async fn ovf_preview(&self, descriptor: &str) -> Result<Preview, ApiError> {
        let body = Some(serde_json::json!({ "ovf_descriptor": descriptor }));
        let url = self.ovf_url(None, Some("preview"));
        let mutation = self.mutation("ovf.preview", None, "preview a descriptor".into())?;
        let response = self
            .call(Exchange::Mutation(&mutation), Method::POST, url, body)
            .await?;
        self.value("ovf.preview", response).await
    }

    /// Whether vCenter can reach a package URL.
    pub async fn ovf_probe(&self, uri: &str) -> Result<ProbeResult, ApiError> {
        let body = Some(serde_json::json!({ "uri": uri }));
        let url = self.ovf_url(None, Some("probe"));
        let mutation =
            MUTATIONS.mutation(self.target(), "ovf.probe", (None, Some(uri)), "probe")?;
        let response = self
            .call(Exchange::Mutation(&mutation), Method::POST, url, body)
            .await?;
        self.value("ovf.probe", response).await
    }

    /// Reports how far a push client has got (0..=100); in EXTERNAL_TRANSFER_MODE this
    /// also keeps the session from being reclaimed as idle.
    pub async fn ovf_progress(&self, id: &str, percent: u8) -> Result<(), ApiError> {
        let body = Some(serde_json::json!({ "percent": percent }));
        let url = self.ovf_url(Some(id), Some("progress"));
        let summary = format!("report {percent}% done");
        let mutation = self.mutation("ovf.progress", Some(id), summary)?;
        self.call(Exchange::Mutation(&mutation), Method::POST, url, body)
            .await
            .map(drop)
    }

    /// Streams `file` to the upload URL of session file `entry`, adding every byte read
    /// to `sent`. The URL carries its own ticket, so no session header goes with it;
    /// a `*` host (vSphere's "this server") means the target's own host.
    pub async fn ovf_upload(
        &self,
        id: &str,
        entry: &OvfFileInfo,
        file: &GatedFile,
        sent: Arc<AtomicU64>,
    ) -> Result<(), ApiError> {
        const OPERATION: &str = OVF_PUSH;
        let fail = |kind: ErrorKind, message: String| {
            ApiError::new(kind, message).at(self.target(), OPERATION)
        };
        let Some(link) = entry.file_url.as_deref() else {
            return Err(fail(
                ErrorKind::Validation,
                format!(
                    "`{}` has no upload URL; only push imports take uploads",
                    entry.name
                ),
            ));
        };
        let url = self.upload_url(&this_server(link, &self.http().url(&[])))?;
        let method = match entry.upload_method.as_deref() {
            Some("POST") => Method::POST,
            _ => Method::PUT,
        };
        let handle = tokio::fs::File::open(&file.path).await.map_err(|err| {
            fail(
                ErrorKind::Validation,
                format!("cannot read `{}`: {err}", file.path.display()),
            )
        })?;
        let counted = InspectReader::new(handle, move |chunk: &[u8]| {
            sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        });
        let request = self
            .http()
            .request(method, url)
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_LENGTH, file.len)
            .body(Body::wrap_stream(ReaderStream::with_capacity(
                counted,
                UPLOAD_CHUNK,
            )));
        let summary = format!("upload `{}`, {} bytes", entry.name, file.len);
        let mutation = self
            .mutation(OPERATION, Some(id), summary)?
            .with_detail(entry.name.clone());
        self.http()
            .mutate(&mutation, request, parse_error)
            .await
            .map(drop)
            .map_err(vapi_kind)
    }

    /// Where an upload may go: the target itself, or an ESXi host its `upload_hosts`
    /// names, on the target's scheme and port (upload URLs carry a ticket, not our
    /// session); the host gate decides.
    fn upload_url(&self, link: &str) -> Result<Url, ApiError> {
        self.http().check_link(link, OVF_PUSH)
    }

    /// Deletes (cancels) the session.
    pub async fn ovf_delete(&self, id: &str) -> Result<(), ApiError> {
        let mutation = self.mutation("ovf.delete", Some(id), "delete".into())?;
        self.call(
            Exchange::Mutation(&mutation),
            Method::DELETE,
            self.ovf_url(Some(id), None),
            None,
        )
        .await
        .map(drop)
    }

    fn ovf_url(&self, id: Option<&str>, action: Option<&str>) -> Url {
        let mut segments: Vec<String> = IMPORT_SESSION_PATH
            .trim_start_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect();
        segments.extend(id.map(|id| format!("id:{id}")));
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let mut url = self.http().url(&segments);
        if let Some(action) = action {
            url.query_pairs_mut().append_pair(REST_ACTION_QUERY, action);
        }
        url
    }

    /// The `value` of a `/rest` answer.
    async fn value<T: DeserializeOwned>(
        &self,
        operation: &str,
        response: Response,
    ) -> Result<T, ApiError> {
        let wrapped: Wrapped<T> = self.http().read_json(operation, response).await?;
        Ok(wrapped.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::call_record::CallRecord;

    #[test]
    fn uploads_go_to_the_target_or_the_hosts_it_names() {
        let dir = tempfile::tempdir().unwrap();
        std::io::Write::write_all(
            &mut std::fs::File::create(dir.path().join("pw")).unwrap(),
            b"secret",
        )
        .unwrap();
        let file = dir.path().join("cutover.toml");
        let text = r#"
            [targets.prod-vc]
            kind = "vcenter"
            url = "https://vc.example.com"
            user = "administrator@vsphere.local"
            password_file = "pw"
            upload_hosts = ["esx-01.example.com", "*.rack2.example.com"]
        "#;
        let targets = crate::config::Targets::parse(text, &file, &crate::vendors::kinds()).unwrap();
        let target = targets
            .get(crate::vendors::vcenter::KIND, "prod-vc")
            .unwrap();
        let client =
            VcenterClient::new(target, CallRecord::default(), crate::clock::Clock::wall()).unwrap();
        let cases = [
            ("https://vc.example.com/nfc/1/disk.vmdk", true),
            ("https://esx-01.example.com/nfc/1/disk.vmdk", true),
            ("https://esx-07.rack2.example.com:443/nfc/1/disk.vmdk", true),
            ("http://esx-01.example.com/nfc/1/disk.vmdk", false),
            ("https://esx-02.example.com/nfc/1/disk.vmdk", false),
            ("https://evil.org/nfc/1/disk.vmdk", false),
        ];
        for (link, allowed) in cases {
            let result = client.upload_url(link);
            assert_eq!(result.is_ok(), allowed, "{link}: {result:?}");
        }
        let refused = client
            .upload_url("https://esx-02.example.com/nfc/1/disk.vmdk")
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "`prod-vc` ovf.push: returned a link to https://esx-02.example.com; refusing to follow: requests go only to the target's url (https://vc.example.com) and the hosts in `upload_hosts`; add the host to `upload_hosts` of target `prod-vc` if it is one of yours (kind: http)"
        );
        let broken = "[targets.a]\nkind = \"powerstore\"\nurl = \"https://a\"\nuser = \"u\"\npassword_file = \"pw\"\nupload_hosts = [\"esx\"]\n";
        let err =
            crate::config::Targets::parse(broken, &file, &crate::vendors::kinds()).unwrap_err();
        assert!(
            err.to_string().contains("applies only to vcenter targets"),
            "{err}"
        );
    }

    #[test]
    fn a_star_host_means_the_target_itself() {
        let own = Url::parse("https://vc.example.com:8443/").unwrap();
        let cases = [
            (
                "https://*/nfc/a/disk.vmdk",
                "https://vc.example.com:8443/nfc/a/disk.vmdk",
            ),
            (
                "https://*:443/nfc/a/disk.vmdk",
                "https://vc.example.com:443/nfc/a/disk.vmdk",
            ),
            (
                "https://esx-01/nfc/a/disk.vmdk",
                "https://esx-01/nfc/a/disk.vmdk",
            ),
        ];
        for (link, expected) in cases {
            assert_eq!(this_server(link, &own), expected);
        }
        let default_port = Url::parse("https://vc.example.com/").unwrap();
        assert_eq!(
            this_server("https://*/nfc/x", &default_port),
            "https://vc.example.com/nfc/x"
        );
    }
}
