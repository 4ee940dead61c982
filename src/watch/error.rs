//! Errors that stop `cutover watch` (watchexec's `CriticalError`): the watcher cannot
//! start or cannot go on. A failed handler run is not one of these; it is reported and
//! watching goes on.

use std::path::{Path, PathBuf};

use crate::watch::memory::MemoryError;

/// Why watching could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// A hook path names nothing usable.
    #[error("cannot read hooks from `{}`: {err}", path.display())]
    Hooks {
        /// The path given.
        path: PathBuf,
        /// Why.
        err: std::io::Error,
    },
    /// No hook script registered a handler.
    #[error(
        "no handlers: the hook scripts in {paths} register none; call `on_file(pattern, |event| ...)` in a .rhai file"
    )]
    NoHandlers {
        /// The hook paths, listed for the message.
        paths: String,
    },
    /// A hook script does not compile or failed while registering (rendered already).
    #[error("{0}")]
    Load(String),
    /// The inotify watch limit is exhausted.
    #[error(
        "cannot watch `{}`: the system's limit of inotify watches is reached; raise it with \
         `sudo sysctl fs.inotify.max_user_watches=524288` (and in /etc/sysctl.d to keep it), \
         or watch fewer folders",
        path.display()
    )]
    WatchLimit {
        /// The folder that could not be watched.
        path: PathBuf,
    },
    /// The inotify instance limit is exhausted.
    #[error(
        "cannot start watching: the system's limit of inotify instances is reached; raise it \
         with `sudo sysctl fs.inotify.max_user_instances=1024` (and in /etc/sysctl.d to keep it)"
    )]
    InstanceLimit,
    /// notify could not watch a folder.
    #[error("cannot watch `{}`: {err}", path.display())]
    Watch {
        /// The folder.
        path: PathBuf,
        /// What notify said.
        err: notify::Error,
    },
    /// The state file could not be used.
    #[error(transparent)]
    Memory(#[from] MemoryError),
    /// A thread could not start.
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
}

/// `EMFILE`: inotify_init(2)'s answer once `fs.inotify.max_user_instances` is used up.
const EMFILE: i32 = 24;

impl WatchError {
    /// The error for a notify failure while watching `path` (or starting, for `None`).
    pub fn from_notify(err: notify::Error, path: Option<&Path>) -> Self {
        let path = path.map(Path::to_path_buf).unwrap_or_default();
        match &err.kind {
            notify::ErrorKind::MaxFilesWatch => Self::WatchLimit { path },
            notify::ErrorKind::Io(io)
                if cfg!(target_os = "linux") && io.raw_os_error() == Some(EMFILE) =>
            {
                Self::InstanceLimit
            }
            _ => Self::Watch { path, err },
        }
    }

    /// Whether the error is in a hook script, rather than in the setup.
    pub fn is_script(&self) -> bool {
        matches!(self, Self::Load(_) | Self::NoHandlers { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exhausted_inotify_limit_names_the_sysctl_to_raise() {
        let watches = WatchError::from_notify(
            notify::Error::new(notify::ErrorKind::MaxFilesWatch),
            Some(Path::new("/srv/dropbox")),
        );
        assert_eq!(
            watches.to_string(),
            "cannot watch `/srv/dropbox`: the system's limit of inotify watches is reached; \
             raise it with `sudo sysctl fs.inotify.max_user_watches=524288` (and in \
             /etc/sysctl.d to keep it), or watch fewer folders"
        );
        let instances = WatchError::from_notify(
            notify::Error::io(std::io::Error::from_raw_os_error(EMFILE)),
            None,
        );
        if cfg!(target_os = "linux") {
            assert!(
                instances
                    .to_string()
                    .contains("fs.inotify.max_user_instances"),
                "{instances}"
            );
        }
        let other =
            WatchError::from_notify(notify::Error::path_not_found(), Some(Path::new("/gone")));
        assert!(
            other.to_string().starts_with("cannot watch `/gone`: "),
            "{other}"
        );
    }
}
