//! The OVF import session calls of [`VcenterClient`] (vendor-apis.md §3): a `/rest`-only
//! service, whatever encoding the target speaks otherwise.

use reqwest::{Method, Response, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::http::error::ApiError;
use crate::vendors::vcenter::client::VcenterClient;
use crate::vendors::vcenter::ovf_wire::{
    CreateRequest, IMPORT_SESSION_PATH, ImportInfo, InstantiateRequest, Preview, ProbeResult,
    REST_ACTION_QUERY, ValidationResult,
};
use crate::vendors::vcenter::wire::Wrapped;

impl VcenterClient {
    /// Creates an import session; the same `client_token` answers the same id.
    pub async fn ovf_create(&self, request: &CreateRequest) -> Result<String, ApiError> {
        let body = serde_json::to_value(request).ok();
        let url = self.ovf_url(None, Some("create-for-resource-pool"));
        let response = self.call("ovf_import", Method::POST, url, body).await?;
        self.value("ovf_import", response).await
    }

    /// The session's Info.
    pub async fn ovf_session(&self, id: &str) -> Result<ImportInfo, ApiError> {
        let response = self
            .call(
                "ovf.status",
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
        let body = serde_json::to_value(InstantiateRequest {
            instantiation_parameters: parameters,
        })
        .ok();
        let url = self.ovf_url(Some(id), Some("try-instantiate"));
        let response = self
            .call("ovf.try_instantiate", Method::POST, url, body)
            .await?;
        self.value("ovf.try_instantiate", response).await
    }

    /// Instantiates the package with these parameters.
    pub async fn ovf_instantiate(&self, id: &str, parameters: Vec<Value>) -> Result<(), ApiError> {
        let body = serde_json::to_value(InstantiateRequest {
            instantiation_parameters: parameters,
        })
        .ok();
        let url = self.ovf_url(Some(id), Some("instantiate"));
        self.call("ovf.instantiate", Method::POST, url, body)
            .await
            .map(drop)
    }

    /// What a descriptor (XML, or base64 of its gzip) references, and its problems.
    pub async fn ovf_preview(&self, descriptor: &str) -> Result<Preview, ApiError> {
        let body = Some(serde_json::json!({ "ovf_descriptor": descriptor }));
        let url = self.ovf_url(None, Some("preview"));
        let response = self.call("ovf.preview", Method::POST, url, body).await?;
        self.value("ovf.preview", response).await
    }

    /// Whether vCenter can reach a package URL.
    pub async fn ovf_probe(&self, uri: &str) -> Result<ProbeResult, ApiError> {
        let body = Some(serde_json::json!({ "uri": uri }));
        let url = self.ovf_url(None, Some("probe"));
        let response = self.call("ovf.probe", Method::POST, url, body).await?;
        self.value("ovf.probe", response).await
    }

    /// Deletes (cancels) the session.
    pub async fn ovf_delete(&self, id: &str) -> Result<(), ApiError> {
        self.call(
            "ovf.delete",
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
