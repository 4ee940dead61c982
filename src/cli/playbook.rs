//! `cutover run`: compile a playbook, start the lab if asked, run the script on its own
//! thread, and turn Ctrl-C into a cancelled run with exit code 130.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{RunArgs, fail, report, runtime};
use crate::clock::Clock;
use crate::config::Targets;
use crate::exit_code::ExitCode;
use crate::lab::{Lab, LabOptions};
use crate::script::{self, Host, ScriptFile};

/// How long an interrupted script gets to notice before the process leaves anyway.
const GRACE: Duration = Duration::from_secs(3);

pub(super) fn run(args: &RunArgs, target_file: Option<&Path>) -> ExitCode {
    let mut targets = match Targets::load(target_file) {
        Ok(targets) => targets,
        Err(err) => return fail(ExitCode::Usage, err),
    };
    let file = match ScriptFile::read(&args.file) {
        Ok(file) => file,
        Err(err) => {
            return fail(
                ExitCode::Usage,
                format!("cannot read `{}`: {err}", args.file.display()),
            );
        }
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let clock = args.speed.map_or_else(Clock::wall, Clock::scaled);
    let lab = if args.lab {
        let options = LabOptions {
            port: 0,
            seed: args.seed,
            clock: clock.clone(),
        };
        match runtime.block_on(Lab::start(options)) {
            Ok(lab) => {
                targets.redirect_to_lab(&lab.targets());
                Some(lab)
            }
            Err(err) => return fail(ExitCode::Failure, format!("cannot start the lab: {err}")),
        }
    } else {
        None
    };
    let cancel = CancellationToken::new();
    let host = Arc::new(Host::new(
        runtime.handle().clone(),
        clock,
        cancel.clone(),
        targets,
    ));
    let base_dir = args.file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let engine = script::engine(&host, args.limits.limits(), base_dir);
    let ast = match file.compile(&engine) {
        Ok(ast) => ast,
        Err(rendered) => return report(ExitCode::Usage, &rendered),
    };
    if let Err(err) = script::preflight::check(host.targets(), &ast) {
        return report(ExitCode::Usage, &file.render(&err));
    }

    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("script".into())
        .spawn(move || {
            let result = engine.run_ast(&ast);
            let _ = done_tx.send(result);
        });
    if let Err(err) = spawned {
        return fail(
            ExitCode::Failure,
            format!("cannot start the script thread: {err}"),
        );
    }
    let outcome = runtime.block_on(async {
        tokio::pin!(done_rx);
        tokio::select! {
            result = &mut done_rx => result.ok(),
            _ = tokio::signal::ctrl_c() => {
                cancel.cancel();
                tokio::time::timeout(GRACE, done_rx).await.ok().and_then(Result::ok)
            }
        }
    });
    if !cancel.is_cancelled() {
        host.close();
    }
    if let Some(lab) = lab {
        runtime.block_on(lab.shutdown());
    }
    if cancel.is_cancelled() {
        return fail(
            ExitCode::Interrupted,
            "interrupted; the run stopped before its end",
        );
    }
    match outcome {
        Some(Ok(())) => ExitCode::Success,
        Some(Err(err)) => report(ExitCode::Failure, &file.render(&err)),
        None => fail(
            ExitCode::Failure,
            "the script thread ended without a result",
        ),
    }
}
