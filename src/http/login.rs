//! `LoginCache`: the login a vendor client holds (a cookie and token, a bearer token, a
//! session id). Made on first use and shared by concurrent calls; dropped only when the
//! server refused the very login a caller used, so a second refusal in flight does not
//! throw away a fresh one.

use std::future::Future;

use tokio::sync::Mutex;

use crate::api_error::ApiError;

/// The current login of one client.
#[derive(Debug, Default)]
pub struct LoginCache<T> {
    current: Mutex<Option<T>>,
}

impl<T: Clone + PartialEq> LoginCache<T> {
    /// No login yet.
    pub fn new() -> Self {
        Self {
            current: Mutex::new(None),
        }
    }

    /// The login to use: the current one, or a fresh one from `log_in` when there is
    /// none or when `refused` (the login the server just turned down) is still current.
    pub async fn get<F>(
        &self,
        refused: Option<&T>,
        log_in: impl FnOnce() -> F,
    ) -> Result<T, ApiError>
    where
        F: Future<Output = Result<T, ApiError>>,
    {
        let mut current = self.current.lock().await;
        if refused.is_some() && current.as_ref() == refused {
            *current = None;
        }
        if let Some(login) = current.as_ref() {
            return Ok(login.clone());
        }
        let fresh = log_in().await?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// Sends with the current login (logging in first if there is none) and, when the
    /// server answers 401 because the login idled out, logs in once more and sends
    /// again: a 401 means nothing was applied, so the second send is safe.
    pub async fn with_login<R, L, LF, S, SF>(&self, log_in: L, send: S) -> Result<R, ApiError>
    where
        L: Fn() -> LF,
        LF: Future<Output = Result<T, ApiError>>,
        S: Fn(T) -> SF,
        SF: Future<Output = Result<R, ApiError>>,
    {
        self.with_fresh_login(|_| false, log_in, send).await
    }

    /// [`LoginCache::with_login`] for logins that say when they lapse (a token with an
    /// expiry): one that `stale` finds about to lapse is renewed before it is sent.
    pub async fn with_fresh_login<R, L, LF, S, SF>(
        &self,
        stale: impl Fn(&T) -> bool,
        log_in: L,
        send: S,
    ) -> Result<R, ApiError>
    where
        L: Fn() -> LF,
        LF: Future<Output = Result<T, ApiError>>,
        S: Fn(T) -> SF,
        SF: Future<Output = Result<R, ApiError>>,
    {
        let mut login = self.get(None, &log_in).await?;
        if stale(&login) {
            tracing::debug!("the login is about to lapse; renewing it first");
            login = self.get(Some(&login), &log_in).await?;
        }
        match send(login.clone()).await {
            Err(err) if err.status == Some(401) => {
                tracing::info!(
                    target = err.target.as_deref().unwrap_or(""),
                    "the login expired; logging in again"
                );
                let fresh = self.get(Some(&login), &log_in).await?;
                send(fresh).await
            }
            other => other,
        }
    }

    /// Takes the login away, for a logout.
    pub async fn take(&self) -> Option<T> {
        self.current.lock().await.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn only_the_refused_login_is_replaced() {
        let cache = LoginCache::new();
        let made = AtomicU32::new(0);
        let log_in = || async { Ok(made.fetch_add(1, Ordering::SeqCst)) };
        assert_eq!(cache.get(None, log_in).await.unwrap(), 0);
        assert_eq!(cache.get(None, log_in).await.unwrap(), 0, "reused");
        assert_eq!(cache.get(Some(&0), log_in).await.unwrap(), 1, "renewed");
        assert_eq!(
            cache.get(Some(&0), log_in).await.unwrap(),
            1,
            "a stale refusal keeps the fresh one"
        );
        assert_eq!(cache.take().await, Some(1));
        assert_eq!(cache.take().await, None);
    }

    #[tokio::test]
    async fn a_login_about_to_lapse_is_renewed_before_it_is_sent() {
        let cache = LoginCache::new();
        let made = AtomicU32::new(0);
        let log_in = || async { Ok(made.fetch_add(1, Ordering::SeqCst)) };
        // The server has let login 0 lapse by the second call: sending it would be a 401.
        let lapsed = std::sync::atomic::AtomicBool::new(false);
        let sent = std::sync::Mutex::new(Vec::new());
        let send = |login: u32| {
            sent.lock().unwrap().push(login);
            let refused = lapsed.load(Ordering::SeqCst) && login == 0;
            async move {
                if refused {
                    let mut err = ApiError::new(crate::api_error::ErrorKind::Auth, "401");
                    err.status = Some(401);
                    return Err(err);
                }
                Ok(login)
            }
        };
        let first = cache.with_fresh_login(|_| false, log_in, send).await;
        assert_eq!(first.unwrap(), 0);
        lapsed.store(true, Ordering::SeqCst);
        let second = cache.with_fresh_login(|l| *l == 0, log_in, send).await;
        assert_eq!(second.unwrap(), 1);
        assert_eq!(made.load(Ordering::SeqCst), 2, "logged in again");
        assert_eq!(
            *sent.lock().unwrap(),
            [0, 1],
            "the stale login was never sent, so no 401 came back"
        );
    }
}
