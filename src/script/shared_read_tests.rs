//! The shared reads of one target on a paused tokio clock and a manual run's clock: who
//! goes in which request, and what each watcher gets.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;

use super::*;

const EVERY: Duration = Duration::from_secs(10);

/// A target whose list request is recorded, answers `id@n` for the n-th request, leaves
/// out the ids in `gone`, fails while `failing` is set, and waits for a permit of `gate`
/// before it answers (so a test holds a request in flight).
#[derive(Clone)]
struct Target {
    requests: Arc<Mutex<Vec<Vec<String>>>>,
    gone: Arc<Mutex<HashSet<String>>>,
    failing: Arc<Mutex<bool>>,
    gate: Arc<Semaphore>,
}

impl Target {
    fn new() -> Self {
        Self {
            requests: Arc::default(),
            gone: Arc::default(),
            failing: Arc::default(),
            gate: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
        }
    }

    /// Requests answer only once let go ([`Target::let_go`]).
    fn held(self) -> Self {
        Self {
            gate: Arc::new(Semaphore::new(0)),
            ..self
        }
    }

    fn let_go(&self, requests: usize) {
        self.gate.add_permits(requests);
    }

    fn reads(&self, clock: Clock) -> Arc<SharedReads<String>> {
        let target = self.clone();
        let fetch: Fetch<String> = Arc::new(move |mut ids: Vec<String>| {
            let target = target.clone();
            ids.sort();
            Box::pin(async move {
                let n = {
                    let mut requests = target.requests.lock().unwrap();
                    requests.push(ids.clone());
                    requests.len()
                };
                target.gate.acquire().await.unwrap().forget();
                if *target.failing.lock().unwrap() {
                    let mut err = ApiError::new(ErrorKind::Http, "the array is busy");
                    err.retryable = true;
                    return Err(err);
                }
                let gone = target.gone.lock().unwrap().clone();
                Ok(ids
                    .into_iter()
                    .filter(|id| !gone.contains(id))
                    .map(|id| (id.clone(), format!("{id}@{n}")))
                    .collect())
            })
        });
        Arc::new(SharedReads::new(clock, fetch))
    }

    /// The ids of each request so far, sorted.
    fn requests(&self) -> Vec<Vec<String>> {
        self.requests.lock().unwrap().clone()
    }
}

fn start() -> SystemTime {
    // On the grid of 10 s, plus 1 s.
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_001)
}

/// Moves `clock` on to `at`.
fn set(clock: &Clock, at: SystemTime) {
    clock.advance(at.duration_since(clock.now()).unwrap());
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("s{i:03}")).collect()
}

/// Reads every watcher at once, each on its own task; answers them with their readings.
async fn read_all(
    watchers: Vec<Watcher<String>>,
) -> Vec<(Watcher<String>, Result<Option<String>, ApiError>)> {
    let tasks: Vec<_> = watchers
        .into_iter()
        .map(|mut w| {
            tokio::spawn(async move {
                let reading = w.read().await;
                (w, reading)
            })
        })
        .collect();
    let mut done = Vec::new();
    for task in tasks {
        done.push(task.await.unwrap());
    }
    done
}

/// Lets every spawned task run until it waits for something outside.
async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_hundred_waits_cost_one_request_per_interval() {
    let clock = Clock::manual(start());
    let target = Target::new();
    let reads = target.reads(clock.clone());
    let deadline = Some(start() + Duration::from_secs(3600));
    let mut watchers: Vec<_> = ids(100)
        .into_iter()
        .map(|id| reads.watch(id, EVERY, deadline))
        .collect();
    // The first readings are immediate: the first alone, the other 99 together while it
    // is in flight.
    let first = read_all(std::mem::take(&mut watchers)).await;
    for (watcher, reading) in first {
        assert!(reading.unwrap().is_some());
        watchers.push(watcher);
    }
    let booked: HashSet<SystemTime> = watchers.iter_mut().map(Watcher::book_next).collect();
    let next = start() + Duration::from_secs(9);
    assert_eq!(booked, HashSet::from([next]), "the next 10 s mark");
    for interval in 0..3 {
        set(&clock, next + EVERY * interval);
        let readings = read_all(std::mem::take(&mut watchers)).await;
        for (mut watcher, reading) in readings {
            let reading = reading.unwrap().unwrap();
            assert!(
                reading.ends_with(&format!("@{}", interval + 3)),
                "{reading}"
            );
            assert_eq!(watcher.book_next(), next + EVERY * (interval + 1));
            watchers.push(watcher);
        }
    }
    let requests = target.requests();
    let sizes: Vec<usize> = requests.iter().map(Vec::len).collect();
    assert_eq!(sizes, [1, 99, 100, 100, 100], "one request per interval");
}

#[tokio::test(start_paused = true)]
async fn readings_that_arrive_while_one_is_in_flight_go_together_in_the_next() {
    let clock = Clock::manual(start());
    let target = Target::new().held();
    let reads = target.reads(clock.clone());
    let mut first = reads.watch("s000", EVERY, None);
    let first = tokio::spawn(async move {
        let reading = first.read().await;
        (first, reading)
    });
    settle().await;
    // The first one is out, alone and at once; three more come while it is answered.
    assert_eq!(target.requests(), [ids(1)]);
    let later: Vec<_> = ids(4)[1..]
        .iter()
        .map(|id| reads.watch(id.clone(), EVERY, None))
        .collect();
    let later = tokio::spawn(read_all(later));
    settle().await;
    assert_eq!(
        target.requests().len(),
        1,
        "one request in flight at a time"
    );
    target.let_go(2);
    let (mut first, reading) = first.await.unwrap();
    assert_eq!(reading.unwrap().unwrap(), "s000@1");
    let mut later = later.await.unwrap();
    assert_eq!(target.requests(), [ids(1), ids(4)[1..].to_vec()]);
    // Answered at the same time, they book the same next reading.
    let at = first.book_next();
    for (watcher, reading) in &mut later {
        assert!(reading.as_ref().unwrap().as_ref().unwrap().ends_with("@2"));
        assert_eq!(watcher.book_next(), at);
    }
}

#[tokio::test(start_paused = true)]
async fn a_single_wait_reads_at_once_then_every_interval() {
    let clock = Clock::manual(start());
    let target = Target::new();
    let reads = target.reads(clock.clone());
    let mut watcher = reads.watch("s000", EVERY, None);
    assert_eq!(watcher.read().await.unwrap().unwrap(), "s000@1");
    let at = watcher.book_next();
    assert_eq!(at, start() + Duration::from_secs(9));
    set(&clock, at);
    assert_eq!(watcher.read().await.unwrap().unwrap(), "s000@2");
    assert_eq!(watcher.book_next(), at + EVERY);
    // A reading due later than the wait's deadline is made at once at the deadline.
    clock.advance(Duration::from_secs(3));
    assert_eq!(watcher.read().await.unwrap().unwrap(), "s000@3");
    assert_eq!(target.requests().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_missing_object_and_a_failed_request_reach_each_watcher() {
    let clock = Clock::manual(start());
    let target = Target::new();
    let reads = target.reads(clock.clone());
    target.gone.lock().unwrap().insert("s001".to_owned());
    let watchers: Vec<_> = ids(2)
        .into_iter()
        .map(|id| reads.watch(id, EVERY, None))
        .collect();
    let mut readings = read_all(watchers).await;
    assert_eq!(readings[0].1.as_ref().unwrap().as_deref(), Some("s000@1"));
    assert_eq!(
        readings[1].1.as_ref().unwrap(),
        &None,
        "left out: read it singly"
    );
    *target.failing.lock().unwrap() = true;
    let at = readings
        .iter_mut()
        .map(|(w, _)| w.book_next())
        .max()
        .unwrap();
    set(&clock, at);
    let watchers = readings.into_iter().map(|(w, _)| w).collect();
    for (_, reading) in read_all(watchers).await {
        let err = reading.unwrap_err();
        assert_eq!(err.message, "the array is busy");
        assert!(err.retryable);
    }
    // The first readings: the first one alone, the other while it was in flight.
    assert_eq!(target.requests().len(), 3, "one failed request for both");
}

#[tokio::test(start_paused = true)]
async fn a_booked_reading_waits_for_a_wait_still_holding_its_last_answer() {
    let clock = Clock::manual(start());
    let target = Target::new();
    let reads = target.reads(clock.clone());
    let readings = read_all(
        ids(2)
            .into_iter()
            .map(|id| reads.watch(id, EVERY, None))
            .collect(),
    )
    .await;
    let mut watchers: Vec<_> = readings.into_iter().map(|(w, _)| w).collect();
    let mut slow = watchers.pop().unwrap();
    let mut quick = watchers.pop().unwrap();
    let at = quick.book_next();
    set(&clock, at + Duration::from_secs(1));
    // The quick one is due, but the slow one has not booked yet: nothing goes out...
    let quick = tokio::spawn(async move {
        let reading = quick.read().await;
        (quick, reading)
    });
    settle().await;
    assert_eq!(target.requests().len(), 2, "the two first readings");
    // ...until it books the same reading; then one request serves both.
    assert_eq!(slow.book_next(), at);
    let (_quick, reading) = quick.await.unwrap();
    assert_eq!(reading.unwrap().unwrap(), "s000@3");
    assert_eq!(slow.read().await.unwrap().unwrap(), "s001@3");
    assert_eq!(target.requests()[2], ids(2));
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_ends_or_starts_late_holds_nobody_up() {
    let clock = Clock::manual(start());
    let target = Target::new();
    let reads = target.reads(clock.clone());
    let readings = read_all(
        ids(3)
            .into_iter()
            .map(|id| reads.watch(id, EVERY, None))
            .collect(),
    )
    .await;
    let mut watchers: Vec<_> = readings.into_iter().map(|(w, _)| w).collect();
    let at = watchers[0].book_next();
    watchers[1].book_next();
    // One wait ends (reached, failed or cancelled) before booking again, one is
    // cancelled after booking.
    let third = watchers.pop().unwrap();
    drop(third);
    let second = watchers.pop().unwrap();
    drop(second);
    set(&clock, at);
    // A wait that starts after the booked time is not waited for.
    let _newcomer = reads.watch("s100", EVERY, None);
    let mut first = watchers.pop().unwrap();
    assert_eq!(first.read().await.unwrap().unwrap(), "s000@3");
    assert_eq!(target.requests()[2], ids(1));
}

#[test]
fn the_grid_is_every_interval_since_the_epoch() {
    let t = SystemTime::UNIX_EPOCH + Duration::from_millis(12_345);
    let second = Duration::from_secs(1);
    assert_eq!(
        grid_after(t, second),
        SystemTime::UNIX_EPOCH + Duration::from_secs(13)
    );
    let on = SystemTime::UNIX_EPOCH + Duration::from_secs(20);
    assert_eq!(
        grid_after(on, EVERY),
        SystemTime::UNIX_EPOCH + Duration::from_secs(30),
        "strictly after"
    );
}
