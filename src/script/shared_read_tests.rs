//! The shared reads of one target on a paused tokio clock and a stepped run's clock
//! (moved by the test alone): who goes in which request, and what each watcher gets.

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
        self.reads_until(clock, CancellationToken::new())
    }

    fn reads_until(&self, clock: Clock, stop: CancellationToken) -> Arc<SharedReads<String>> {
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
        Arc::new(SharedReads::new(
            clock,
            tokio::runtime::Handle::current(),
            stop,
            fetch,
        ))
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

/// A stepped clock at [`start`], and reads of `target` on it.
fn reads_of(target: &Target) -> (Clock, Arc<SharedReads<String>>) {
    let clock = Clock::stepped(start());
    let reads = target.reads(clock.clone());
    (clock, reads)
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

/// New watchers on `ids`, each having made its first reading alone.
fn first_read(reads: &Arc<SharedReads<String>>, ids: &[String]) -> Vec<Watcher<String>> {
    ids.iter()
        .map(|id| reads.watch(id.clone(), EVERY, None))
        .collect()
}

/// Books the next reading of every watcher; answers the one time they all booked.
fn book(watchers: &mut [Watcher<String>]) -> SystemTime {
    let booked: HashSet<SystemTime> = watchers.iter_mut().map(Watcher::book_next).collect();
    assert_eq!(booked.len(), 1, "{booked:?}");
    booked.into_iter().next().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_hundred_waits_cost_one_request_per_interval() {
    let target = Target::new();
    let (clock, reads) = reads_of(&target);
    let deadline = Some(start() + Duration::from_secs(3600));
    let mut watchers: Vec<_> = ids(100)
        .into_iter()
        .map(|id| reads.watch(id, EVERY, deadline))
        .collect();
    // The first reading is each wait's own, at once.
    for (watcher, reading) in read_all(std::mem::take(&mut watchers)).await {
        assert_eq!(reading.unwrap(), None);
        watchers.push(watcher);
    }
    let next = start() + Duration::from_secs(9);
    assert_eq!(book(&mut watchers), next, "the next 10 s mark");
    for interval in 0..3 {
        set(&clock, next + EVERY * interval);
        for (watcher, reading) in read_all(std::mem::take(&mut watchers)).await {
            let reading = reading.unwrap().unwrap();
            assert!(
                reading.ends_with(&format!("@{}", interval + 1)),
                "{reading}"
            );
            watchers.push(watcher);
        }
        assert_eq!(book(&mut watchers), next + EVERY * (interval + 1));
    }
    let sizes: Vec<usize> = target.requests().iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 100], "one request per interval");
}

#[tokio::test(start_paused = true)]
async fn waits_that_start_apart_meet_on_the_grid() {
    let target = Target::new();
    let (clock, reads) = reads_of(&target);
    let mut early = first_read(&reads, &ids(1));
    let at = book(&mut early);
    set(&clock, start() + Duration::from_secs(5));
    // A wait starting meanwhile reads alone at once, then books the same time.
    let mut late = first_read(&reads, &ids(2)[1..]);
    assert_eq!(late[0].read().await.unwrap(), None);
    assert_eq!(book(&mut late), at);
    set(&clock, at);
    early.extend(late);
    for (_, reading) in read_all(early).await {
        assert!(reading.unwrap().unwrap().ends_with("@1"));
    }
    assert_eq!(target.requests(), [ids(2)]);
}

#[tokio::test(start_paused = true)]
async fn a_single_wait_reads_at_once_then_every_interval() {
    let target = Target::new();
    let (clock, reads) = reads_of(&target);
    let mut watcher = reads.watch("s000", EVERY, None);
    assert_eq!(watcher.read().await.unwrap(), None, "read alone, at once");
    let at = watcher.book_next();
    assert_eq!(at, start() + Duration::from_secs(9));
    set(&clock, at);
    assert_eq!(watcher.read().await.unwrap().unwrap(), "s000@1");
    assert_eq!(watcher.book_next(), at + EVERY);
    // At the wait's deadline, before the booked time, it reads alone at once.
    clock.advance(Duration::from_secs(3));
    assert_eq!(watcher.read().await.unwrap(), None);
    assert_eq!(watcher.book_next(), at + EVERY, "the next mark after now");
    assert_eq!(target.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_missing_object_and_a_failed_request_reach_each_watcher() {
    let target = Target::new();
    let (clock, reads) = reads_of(&target);
    target.gone.lock().unwrap().insert("s001".to_owned());
    let mut watchers = first_read(&reads, &ids(2));
    set(&clock, book(&mut watchers));
    let mut readings = read_all(watchers).await;
    assert_eq!(readings[0].1.as_ref().unwrap().as_deref(), Some("s000@1"));
    assert_eq!(
        readings[1].1.as_ref().unwrap(),
        &None,
        "left out: read it alone"
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
    assert_eq!(target.requests().len(), 2, "one failed request for both");
}

#[tokio::test(start_paused = true)]
async fn a_booked_reading_waits_for_a_wait_still_holding_its_last_answer() {
    let target = Target::new().held();
    let (clock, reads) = reads_of(&target);
    let mut watchers = first_read(&reads, &ids(2));
    set(&clock, book(&mut watchers));
    target.let_go(1);
    let mut watchers: Vec<_> = read_all(watchers)
        .await
        .into_iter()
        .map(|(w, _)| w)
        .collect();
    let mut slow = watchers.pop().unwrap();
    let mut quick = watchers.pop().unwrap();
    let at = quick.book_next();
    set(&clock, at + Duration::from_secs(1));
    // The quick one is due, but the slow one still holds its last answer without having
    // booked again: nothing goes out...
    let quick = tokio::spawn(async move {
        let reading = quick.read().await;
        (quick, reading)
    });
    settle().await;
    assert_eq!(target.requests().len(), 1);
    // ...until it books the same reading (after that answer, however late it books);
    // then one request serves both.
    assert_eq!(slow.book_next(), at);
    settle().await;
    assert_eq!(target.requests()[1], ids(2));
    target.let_go(1);
    let (_quick, reading) = quick.await.unwrap();
    assert_eq!(reading.unwrap().unwrap(), "s000@2");
    assert_eq!(slow.read().await.unwrap().unwrap(), "s001@2");
    assert_eq!(target.requests().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_ends_or_starts_late_holds_nobody_up() {
    let target = Target::new();
    let (clock, reads) = reads_of(&target);
    let mut watchers = first_read(&reads, &ids(3));
    let at = watchers[0].book_next();
    watchers[1].book_next();
    // One wait ends (reached, failed or cancelled) before booking again, one is
    // cancelled after booking.
    drop(watchers.pop());
    drop(watchers.pop());
    set(&clock, at);
    // A wait that starts at the booked time or later is not waited for.
    let _newcomer = reads.watch("s100", EVERY, None);
    let mut first = watchers.pop().unwrap();
    assert_eq!(first.read().await.unwrap().unwrap(), "s000@1");
    assert_eq!(target.requests(), [ids(1)]);
}

#[tokio::test(start_paused = true)]
async fn a_wait_gives_up_on_a_shared_reading_at_its_own_deadline() {
    let target = Target::new().held();
    let (clock, reads) = reads_of(&target);
    let soon = Some(start() + Duration::from_secs(20));
    let later = Some(start() + Duration::from_secs(100));
    let mut watchers = vec![
        reads.watch("s000", EVERY, soon),
        reads.watch("s001", EVERY, later),
    ];
    set(&clock, book(&mut watchers));
    let readings = tokio::spawn(read_all(watchers));
    settle().await;
    assert_eq!(target.requests(), [ids(2)]);
    // The request runs within the later deadline; the first wait stops waiting for it
    // at its own and is told to take its last look alone.
    set(&clock, start() + Duration::from_secs(20));
    settle().await;
    target.let_go(1);
    let mut readings = readings.await.unwrap();
    assert_eq!(readings[1].1.as_ref().unwrap().as_deref(), Some("s001@1"));
    let (mut first, reading) = readings.remove(0);
    assert_eq!(reading.unwrap(), None);
    // Its next reading, should it go on, is on the grid after now, not a time gone by.
    assert_eq!(first.book_next(), grid_after(clock.now(), EVERY));
}

#[tokio::test(start_paused = true)]
async fn a_reading_in_flight_stops_when_the_run_closes() {
    let clock = Clock::stepped(start());
    let target = Target::new().held();
    let stop = CancellationToken::new();
    let reads = target.reads_until(clock.clone(), stop.clone());
    let mut watchers = first_read(&reads, &ids(2));
    set(&clock, book(&mut watchers));
    let readings = tokio::spawn(read_all(watchers));
    settle().await;
    assert_eq!(target.requests(), [ids(2)]);
    stop.cancel();
    let readings = readings.await.unwrap();
    for (_, reading) in &readings {
        let err = reading.as_ref().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Cancelled, "{err}");
    }
    // Let go, the request would have answered: it was dropped instead.
    target.let_go(1);
    settle().await;
    assert_eq!(target.requests(), [ids(2)]);
}

#[tokio::test(start_paused = true)]
async fn a_wait_held_back_by_another_gives_up_at_its_own_deadline() {
    let target = Target::new();
    let (clock, reads) = reads_of(&target);
    let deadline = start() + Duration::from_secs(25);
    let mut booked = vec![reads.watch("s000", EVERY, Some(deadline))];
    // A wait still on its first read: a reading booked after it started waits for it.
    let _first_read = reads.watch("s001", EVERY, None);
    set(&clock, book(&mut booked));
    let readings = tokio::spawn(read_all(booked));
    settle().await;
    assert!(target.requests().is_empty(), "held back by the other wait");
    assert!(!readings.is_finished());
    set(&clock, deadline);
    let readings = readings.await.unwrap();
    assert_eq!(
        readings[0].1.as_ref().unwrap(),
        &None,
        "its last look is its own"
    );
    assert!(target.requests().is_empty());
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
