//! A vendor's target as scripts hold it: its client, shared with every other value that
//! names the same target, and the host its calls block on. Each vendor's constructor
//! value (`vcd("prod")`) is a [`Remote`] of its client; [`remote_client!`] says which
//! kind and script type name a client has.

use std::future::Future;
use std::sync::Arc;

use rhai::EvalAltResult;

use crate::api_error::ApiError;
use crate::clock::Clock;
use crate::config::{Target, TargetKind};
use crate::http::call_record::CallRecord;
use crate::http::client::Session;
use crate::script::Host;
use crate::script::error_value::raise;
use crate::script::job::Connection;

/// A target's client and the script host.
pub struct Remote<C> {
    pub client: Arc<C>,
    pub host: Arc<Host>,
}

impl<C> Clone for Remote<C> {
    fn clone(&self) -> Self {
        Self {
            client: Arc::clone(&self.client),
            host: Arc::clone(&self.host),
        }
    }
}

impl<C> Remote<C> {
    /// Runs one of the client's calls to its end; its error becomes the script's.
    pub fn run<T>(
        &self,
        future: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, Box<EvalAltResult>> {
        self.host.block_on(future).map_err(raise)
    }
}

/// A client a script constructor opens (implemented through [`remote_client!`]).
pub trait RemoteClient: Session + Send + Sync + Sized + 'static {
    /// The script type name of its [`Remote`].
    const TYPE_NAME: &'static str;
    /// The kind of target it speaks.
    const KIND: TargetKind;
    /// The client of `target`, its calls recorded in `calls`.
    fn connect(target: &Target, calls: CallRecord, clock: Clock) -> Result<Self, ApiError>;
    /// The target's name.
    fn target_name(&self) -> &str;
}

impl<C: RemoteClient> Connection for Remote<C> {
    const TYPE_NAME: &'static str = C::TYPE_NAME;

    fn open(host: &Arc<Host>, name: &str) -> Result<Self, ApiError> {
        let clock = host.clock().clone();
        let client = host.client(C::KIND, name, |t, calls| C::connect(t, calls, clock))?;
        Ok(Self {
            client,
            host: host.clone(),
        })
    }

    fn target(&self) -> &str {
        self.client.target_name()
    }
}

/// Implements [`RemoteClient`] for a client whose `new(target, calls, clock)` makes it
/// and whose `target()` names its target: `remote_client!(VcdClient, "Vcd", KIND);`.
macro_rules! remote_client {
    ($client:ty, $type_name:literal, $kind:expr) => {
        impl $crate::script::remote::RemoteClient for $client {
            const TYPE_NAME: &'static str = $type_name;
            const KIND: $crate::config::TargetKind = $kind;
            fn connect(
                target: &$crate::config::Target,
                calls: $crate::http::call_record::CallRecord,
                clock: $crate::clock::Clock,
            ) -> Result<Self, $crate::api_error::ApiError> {
                <$client>::new(target, calls, clock)
            }
            fn target_name(&self) -> &str {
                <$client>::target(self)
            }
        }
    };
}
pub(crate) use remote_client;
