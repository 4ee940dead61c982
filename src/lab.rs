//! placeholder until the lab lands
use crate::clock::Clock;
use crate::config::{Target, TargetKind};
/// Options.
pub struct LabOptions {
    pub port: u16,
    pub seed: u64,
    pub clock: Clock,
}
/// Lab.
pub struct Lab;
impl Lab {
    /// Start.
    pub async fn start(_o: LabOptions) -> std::io::Result<Lab> {
        Err(std::io::Error::other("no lab"))
    }
    /// Targets.
    pub fn targets(&self) -> Vec<Target> {
        vec![]
    }
    /// Toml.
    pub fn targets_toml(&self) -> String {
        String::new()
    }
    /// Url.
    pub fn url(&self, _k: TargetKind) -> Option<String> {
        None
    }
    /// Password.
    pub fn password(&self) -> &crate::config::Secret { unimplemented!() }
    /// Stop.
    pub async fn shutdown(self) {}
}
