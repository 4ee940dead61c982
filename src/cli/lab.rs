//! `cutover lab`: serve the simulated vendor APIs until Ctrl-C, print their URLs, and
//! optionally write a ready target file.

use std::path::{Path, PathBuf};

use super::{LabArgs, fail, load_targets, runtime};
use crate::clock::Clock;
use crate::exit_code::ExitCode;
use crate::http::lab::estate::Estate;
use crate::lab::{Lab, LabOptions};

pub(super) fn run(args: &LabArgs, target_file: Option<&Path>) -> ExitCode {
    // The operator's own targets, redirected, go into the written file too, so their
    // playbooks run unchanged with `--targets FILE`.
    let mut targets = match load_targets(target_file) {
        Ok(targets) => targets,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let options = LabOptions {
            port: args.port,
            seed: args.seed,
            clock: Clock::scaled(args.speed),
            estate: estate(args),
            chaos: args.chaos.clone(),
            tls: args.tls,
            ca_file: args.targets_out.as_deref().map(ca_file_beside),
            ..LabOptions::default()
        };
        let lab = match Lab::start(options).await {
            Ok(lab) => lab,
            Err(err) => return fail(ExitCode::Usage, format!("cannot start the lab: {err}")),
        };
        // In place before the URLs are printed: whoever reads them may stop the lab at once.
        #[cfg(unix)]
        let mut interrupt =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
                Ok(interrupt) => interrupt,
                Err(err) => {
                    return fail(ExitCode::Failure, format!("cannot handle Ctrl-C: {err}"));
                }
            };
        targets.redirect_to_lab(&lab.targets());
        let targets: Vec<_> = targets.iter().cloned().collect();
        let width = targets.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for target in &targets {
            println!(
                "{:<width$}  {:<10}  {}  (user `{}`)",
                target.name, target.kind, target.url, target.user
            );
        }
        if let Some(path) = &args.targets_out {
            let text = crate::lab::targets_toml(&targets);
            if let Err(err) = crate::config::write_private(path, &text) {
                return fail(
                    ExitCode::Failure,
                    format!("cannot write `{}`: {err}", path.display()),
                );
            }
            println!("target file written to {}", path.display());
        }
        if let Some(ca_file) = lab.ca_file() {
            println!(
                "TLS CA written to {}; trust it with `ca_file` or `curl --cacert`",
                ca_file.display()
            );
        }
        println!("{}", estate_line(lab.estate()));
        println!("state of each listener at <url>/_lab/state; Ctrl-C stops the lab");
        #[cfg(unix)]
        interrupt.recv().await;
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        let chaos = lab.chaos();
        lab.shutdown().await;
        if let Some(chaos) = chaos {
            println!("{}", chaos.summary_line());
        }
        ExitCode::Success
    })
}

/// The estate `--scenario`, `--apps` and `--copy-time` ask for.
fn estate(args: &LabArgs) -> Estate {
    let estate = Estate::new(args.scenario, args.apps);
    match args.copy_time {
        Some(copy_time) => estate.with_copy_time(copy_time),
        None => estate,
    }
}

/// Where `cutover lab --tls --targets-out FILE` writes the CA: beside FILE, named after
/// its stem, e.g. `lab.toml` → `lab-ca.pem`.
fn ca_file_beside(targets: &Path) -> PathBuf {
    let stem = targets
        .file_stem()
        .map_or_else(|| "lab".into(), |stem| stem.to_string_lossy());
    targets.with_file_name(format!("{stem}-ca.pem"))
}

/// What the lab serves, e.g. ``estate: scenario `rough`, 12 applications (`crm` to `reports`)``.
fn estate_line(estate: &Estate) -> String {
    let names = match (estate.apps.first(), estate.apps.last()) {
        (Some(first), Some(last)) if estate.apps.len() > 1 => {
            format!(" (`{}` to `{}`)", first.name, last.name)
        }
        (Some(only), _) => format!(" (`{}`)", only.name),
        _ => String::new(),
    };
    let count = estate.apps.len();
    let noun = if count == 1 {
        "application"
    } else {
        "applications"
    };
    let copies = estate.copy_time.map_or_else(String::new, |copy| {
        format!(", every copy {}", humantime::format_duration(copy))
    });
    format!(
        "estate: scenario `{}`, {count} {noun}{names}{copies}",
        estate.scenario
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::lab::estate::Scenario;
    use std::time::Duration;

    #[test]
    fn the_ca_goes_beside_the_target_file() {
        assert_eq!(
            ca_file_beside(Path::new("/tmp/x/lab.toml")),
            Path::new("/tmp/x/lab-ca.pem")
        );
        assert_eq!(
            ca_file_beside(Path::new("targets")),
            Path::new("targets-ca.pem")
        );
    }

    #[test]
    fn the_estate_line_names_the_scenario_and_the_applications() {
        assert_eq!(
            estate_line(&Estate::new(Scenario::Rough, 12)),
            "estate: scenario `rough`, 12 applications (`crm` to `reports`)"
        );
        assert_eq!(
            estate_line(&Estate::new(Scenario::Happy, 1)),
            "estate: scenario `happy`, 1 application (`crm`)"
        );
        assert_eq!(
            estate_line(
                &Estate::new(Scenario::Happy, 2000).with_copy_time(Duration::from_secs(1800))
            ),
            "estate: scenario `happy`, 2000 applications (`crm` to `app-2000`), every copy 30m"
        );
    }
}
