//! The wave estate: the applications every simulator seeds objects for, so that one
//! playbook can move each of them through all five APIs, and the scenario that says which
//! of them fail and how (`cutover lab --scenario rough --apps 40`).
//!
//! Every vendor derives its objects' names from an application's name alone, so the
//! wave file beside a playbook (and a production one) can name them without asking the
//! lab:
//!
//! | API | objects of application `crm` |
//! |---|---|
//! | Cloud Director | entities `crm-web` and `crm-db` (`acme:vm` 1.0.0), in [`App::org`] |
//! | vCenter OVF | any package URL ending in `crm.ovf` |
//! | PowerStore | import sessions `crm-data` (automatic cutover) and `crm-logs` (manual) |
//! | Huawei SMS | source server `crm` and its migration task `crm` |
//!
//! vCenter's deferred history import is one per estate.

use std::fmt;
use std::time::Duration;

/// The default number of applications in a wave.
pub const DEFAULT_APPS: usize = 12;

/// The most applications an estate may hold.
pub const MAX_APPS: usize = 20_000;

/// The names of the default wave's applications, in order; a larger estate goes on with
/// `app-0013`, `app-0014`, ...
const NAMES: [&str; DEFAULT_APPS] = [
    "crm", "erp", "billing", "payroll", "intranet", "mail", "wiki", "ledger", "shop", "search",
    "tickets", "reports",
];

/// Which estate the lab serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scenario {
    /// Everything succeeds.
    #[default]
    Happy,
    /// One failure of each kind (see [`Fault`]), on different applications, and a
    /// history import that blocks on an error.
    Rough,
}

impl Scenario {
    /// Every scenario, in the order `--help` lists them.
    pub const ALL: [Scenario; 2] = [Scenario::Happy, Scenario::Rough];

    /// The `--scenario` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Happy => "happy",
            Scenario::Rough => "rough",
        }
    }

    /// Parses a `--scenario` value.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|scenario| scenario.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL
                    .iter()
                    .map(|s| format!("`{}`", s.as_str()))
                    .collect();
                format!(
                    "`{text}` is not a lab scenario; use one of {}",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The failure the `rough` scenario gives one application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Its `web` entity's contents do not validate against the new type version's schema,
    /// so its migration task fails.
    InvalidEntity,
    /// Its OVF package is broken: the import session's preparation fails.
    BrokenOvf,
    /// The copy of its `data` import session fails.
    CopyFails,
    /// The source array of its `data` import session stops answering mid-copy: a plain
    /// cancel ends `Cancel_Failed`, only a forced one ends it (`Cancelled`, no rollback).
    SourceUnreachable,
    /// Its SMS migration task fails once and succeeds when restarted.
    SmsFailsOnce,
}

impl Fault {
    /// Every fault, each given to its own application of a `rough` estate (the second,
    /// fourth, sixth... so that healthy applications sit between them).
    pub const ALL: [Fault; 5] = [
        Fault::InvalidEntity,
        Fault::BrokenOvf,
        Fault::CopyFails,
        Fault::SourceUnreachable,
        Fault::SmsFailsOnce,
    ];
}

/// One application of the wave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    /// Its name, from which every vendor names its objects (see the module doc).
    pub name: String,
    /// The Cloud Director org its entities belong to: `acme`, every third one `globex`.
    pub org: &'static str,
    /// Its failure, in the `rough` scenario.
    pub fault: Option<Fault>,
}

/// The applications the lab seeds, and the scenario they follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estate {
    /// The estate's scenario.
    pub scenario: Scenario,
    /// Its applications, in wave order.
    pub apps: Vec<App>,
    /// How long every copy takes in lab time from its first touch (`--copy-time`);
    /// `None` spreads them from 5 minutes to 2 hours. A fixed time makes the lab's own
    /// minimum for a wave known: the copy time divided by the lab's speed.
    pub copy_time: Option<Duration>,
}

impl Default for Estate {
    fn default() -> Self {
        Self::new(Scenario::Happy, DEFAULT_APPS)
    }
}

impl Estate {
    /// An estate of `apps` applications (at most [`MAX_APPS`]; a `rough` one needs at
    /// least 10 to give each fault its own application, and gives faults to those it has).
    pub fn new(scenario: Scenario, apps: usize) -> Self {
        let apps = (0..apps.min(MAX_APPS))
            .map(|index| App {
                name: NAMES.get(index).map_or_else(
                    || format!("app-{:04}", index + 1),
                    |name| (*name).to_owned(),
                ),
                org: if index % 3 == 2 { "globex" } else { "acme" },
                fault: match scenario {
                    Scenario::Happy => None,
                    Scenario::Rough => (index % 2 == 1)
                        .then(|| Fault::ALL.get(index / 2).copied())
                        .flatten(),
                },
            })
            .collect();
        Self {
            scenario,
            apps,
            copy_time: None,
        }
    }

    /// The same estate with every copy taking `copy_time` of lab time from its first
    /// touch.
    pub fn with_copy_time(self, copy_time: Duration) -> Self {
        Self {
            copy_time: Some(copy_time),
            ..self
        }
    }

    /// The application named `name`.
    pub fn app(&self, name: &str) -> Option<&App> {
        self.apps.iter().find(|app| app.name == name)
    }

    /// The application given `fault`, in a `rough` estate.
    pub fn with_fault(&self, fault: Fault) -> Option<&App> {
        self.apps.iter().find(|app| app.fault == Some(fault))
    }

    /// Whether the history import blocks on an error before the window.
    pub fn history_blocks(&self) -> bool {
        self.scenario == Scenario::Rough
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_wave_has_twelve_named_applications_across_both_orgs() {
        let estate = Estate::default();
        let names: Vec<_> = estate.apps.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, NAMES);
        assert_eq!(estate.app("billing").map(|a| a.org), Some("globex"));
        assert!(estate.apps.iter().all(|a| a.fault.is_none()));
        assert!(!estate.history_blocks());
    }

    #[test]
    fn a_rough_estate_gives_each_fault_its_own_application() {
        let estate = Estate::new(Scenario::Rough, DEFAULT_APPS);
        let faulty: Vec<_> = Fault::ALL
            .iter()
            .map(|fault| estate.with_fault(*fault).map(|a| a.name.as_str()))
            .collect();
        assert_eq!(
            faulty,
            [
                Some("erp"),
                Some("payroll"),
                Some("mail"),
                Some("ledger"),
                Some("search")
            ]
        );
        assert!(estate.history_blocks());
    }

    #[test]
    fn larger_estates_number_the_applications_after_the_named_ones() {
        let estate = Estate::new(Scenario::Happy, 2_000);
        assert_eq!(estate.apps.len(), 2_000);
        assert_eq!(estate.apps[12].name, "app-0013");
        assert_eq!(estate.apps[1_999].name, "app-2000");
        assert_eq!(
            Estate::new(Scenario::Happy, usize::MAX).apps.len(),
            MAX_APPS
        );
    }

    #[test]
    fn scenarios_parse_from_their_names_only() {
        assert_eq!(Scenario::parse("rough"), Ok(Scenario::Rough));
        assert_eq!(
            Scenario::parse("sunny"),
            Err("`sunny` is not a lab scenario; use one of `happy`, `rough`".to_owned())
        );
    }
}
