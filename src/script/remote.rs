//! A vendor's target as scripts hold it: its client, shared with every other value that
//! names the same target, and the host its calls block on. Each vendor's constructor
//! value (`vcd("prod")`) is a [`Remote`] of its client; [`remote_client!`] says which
//! kind and script type name a client has. A job a target reads by its id is a
//! [`RemoteJob`] of the same client.

use std::future::Future;
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Map, Variant};

use crate::api_error::ApiError;
use crate::clock::Clock;
use crate::config::{Target, TargetKind};
use crate::http::call_record::CallRecord;
use crate::http::client::Session;
use crate::script::Host;
use crate::script::error_value::raise;
use crate::script::job::{self, Connection, Reach};

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

impl<C: RemoteClient> Remote<C> {
    /// The target as signatures show it: `vcd: Vcd`.
    pub fn this() -> String {
        format!("{}: {}", C::PARAM, C::TYPE_NAME)
    }

    /// Registers the script type; its constructor, named after the kind
    /// (`powerstore(name)`) and documented by `constructor_doc`; and its `name` and
    /// `to_string` (the target's name), `to_string` documented by `to_string_doc`.
    pub fn register(
        engine: &mut Engine,
        host: &Arc<Host>,
        constructor_doc: &str,
        to_string_doc: &str,
    ) {
        engine.register_type_with_name::<Self>(C::TYPE_NAME);
        let host = host.clone();
        FuncRegistration::new(C::KIND.as_str())
            .with_comments([constructor_doc])
            .with_params_info(["name: &str", C::TYPE_NAME])
            .register_into_engine(engine, move |name: &str| -> Result<Self, _> {
                Self::open(&host, name).map_err(raise)
            });
        engine.register_get("name", |remote: &mut Self| remote.target().to_owned());
        let this = Self::this();
        FuncRegistration::new("to_string")
            .with_comments([to_string_doc])
            .with_params_info([this.as_str(), "String"])
            .register_into_engine(engine, |remote: &mut Self| remote.target().to_owned());
    }

    /// Registers `name` twice, as scripts call it with an option map and without one:
    /// `name(this, options: Map)`, documented by `docs.0`, and `name(this)`, documented
    /// by `docs.1`, which is `call` with no options.
    pub fn register_listing<R: Variant + Clone>(
        engine: &mut Engine,
        (name, answer): (&str, &str),
        docs: (&str, &str),
        call: impl Fn(&mut Self, Map) -> Result<R, Box<EvalAltResult>> + Send + Sync + 'static,
    ) {
        let this = Self::this();
        let call = Arc::new(call);
        let plain = Arc::clone(&call);
        FuncRegistration::new(name)
            .with_comments([docs.0])
            .with_params_info([this.as_str(), "options: Map", answer])
            .register_into_engine(engine, move |remote: &mut Self, options: Map| {
                call(remote, options)
            });
        FuncRegistration::new(name)
            .with_comments([docs.1])
            .with_params_info([this.as_str(), answer])
            .register_into_engine(engine, move |remote: &mut Self| plain(remote, Map::new()));
    }

    /// Registers `lookups`, each `name(this, param) -> answer`, `this` being the target.
    pub fn register_lookups(engine: &mut Engine, answer: &str, lookups: &[Lookup<C>]) {
        let this = Self::this();
        for &(name, param, doc, lookup) in lookups {
            FuncRegistration::new(name)
                .with_comments([doc])
                .with_params_info([this.as_str(), param, answer])
                .register_into_engine(engine, move |remote: &mut Self, key: &str| {
                    lookup(remote, key)
                });
        }
    }
}

/// A function of a target that takes one string (an id, a URN, a URL) and answers a
/// value: its name, that parameter as signatures show it (`id: &str`), its doc and
/// what it does.
pub type Lookup<C> = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Remote<C>, &str) -> Result<Dynamic, Box<EvalAltResult>>,
);

/// A job a target reads by its id (an import session, a task), as its handle reaches
/// it; each vendor implements [`job::Job`] for the one of its client.
pub struct RemoteJob<C> {
    pub remote: Remote<C>,
    pub id: String,
}

impl<C> Clone for RemoteJob<C> {
    fn clone(&self) -> Self {
        Self {
            remote: self.remote.clone(),
            id: self.id.clone(),
        }
    }
}

impl<C: RemoteClient> Reach for RemoteJob<C> {
    type Client = C;

    fn remote(&self) -> &Remote<C> {
        &self.remote
    }

    fn id(&self) -> Option<String> {
        Some(self.id.clone())
    }

    fn reopen(host: &Arc<Host>, target: &str, id: Option<&str>) -> Result<Self, ApiError> {
        let id = job::required_id(id)?.to_owned();
        Ok(Self {
            remote: Remote::open(host, target)?,
            id,
        })
    }
}

/// A client a script constructor opens (implemented through [`remote_client!`]).
pub trait RemoteClient: Session + Send + Sync + Sized + 'static {
    /// The script type name of its [`Remote`].
    const TYPE_NAME: &'static str;
    /// The target's parameter name in signatures, e.g. `vcd`.
    const PARAM: &'static str;
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
    ($client:ty, $type_name:literal, param: $param:literal, $kind:expr) => {
        impl $crate::script::remote::RemoteClient for $client {
            const TYPE_NAME: &'static str = $type_name;
            const PARAM: &'static str = $param;
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
