//! The pool that runs CPU-heavy work (checking large documents, the syntax test, line diffs and
//! merges, reading uploaded CSV, password hashing) on threads of its own, never on the async
//! threads that answer every other request. It is bounded three ways: a fixed number of
//! threads, a fixed number of jobs waiting for one, and a deadline per job. A job past its
//! deadline is answered with a sentence at once; work that can stop early is handed the
//! deadline (`Deadline::passed`) and stops, and its place in the pool stays taken until it
//! has, so the pool never runs more than its threads.
//!
//! One user's jobs take at most as many places as the pool has threads; that user's further
//! jobs wait for their own (within the deadline), so one user's flood never fills the places
//! that others' jobs wait in.
//!
//! The threads run at a lower priority (nice 10) than the async threads, so that `/health`
//! and ordinary pages answer at once while every thread of the pool is busy.

use std::{
    collections::HashMap,
    sync::{mpsc, Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::error::AppError;

/// When a job must have ended; handed to work that can stop early.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(duration: Duration) -> Self {
        Deadline(Instant::now() + duration)
    }

    pub fn instant(self) -> Instant {
        self.0
    }

    pub fn passed(self) -> bool {
        Instant::now() >= self.0
    }

    /// The instant when `share` (0 to 1) of the time left has passed: for a step that must
    /// stop in time for the rest of the job to be answered before the deadline.
    pub fn after_share(self, share: f64) -> Instant {
        let now = Instant::now();
        now + self
            .0
            .saturating_duration_since(now)
            .mul_f64(share.clamp(0.0, 1.0))
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// How many threads, how many waiting jobs, and how long a job may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkPoolSize {
    pub threads: usize,
    /// Jobs accepted beyond the running ones; one more is refused with a sentence.
    pub waiting: usize,
    pub deadline: Duration,
}

#[derive(Clone)]
pub struct WorkPool {
    jobs: mpsc::Sender<Job>,
    /// One permit per running or waiting job.
    places: Arc<Semaphore>,
    /// Each user's own share: as many jobs at once as the pool has threads.
    shares: Arc<Mutex<HashMap<Uuid, Arc<Semaphore>>>>,
    threads: usize,
    deadline: Duration,
}

impl WorkPool {
    pub fn new(size: WorkPoolSize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..size.threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("work-pool-{index}"))
                .spawn(move || {
                    lower_this_thread_s_priority();
                    loop {
                        // The lock is held only while waiting for the next job.
                        let next = queue.lock().map(|queue| queue.recv());
                        match next {
                            Ok(Ok(job)) => job(),
                            _ => return,
                        }
                    }
                })
                .expect("the work pool's threads start");
        }
        WorkPool {
            jobs,
            places: Arc::new(Semaphore::new(size.threads.max(1) + size.waiting)),
            shares: Arc::default(),
            threads: size.threads.max(1),
            deadline: size.deadline,
        }
    }

    /// The pool's deadline for one job.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Runs `work` on one of the pool's threads and answers its result, or a sentence when the
    /// pool is full or the work ran past the deadline. `what` names the work for those
    /// sentences and the log ("checking the document"); `owner` is the user it is done for
    /// (none before sign-in), whose share it takes.
    pub async fn run<T, F>(
        &self,
        owner: Option<Uuid>,
        what: &'static str,
        work: F,
    ) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(Deadline) -> T + Send + 'static,
    {
        let deadline = Deadline::after(self.deadline);
        let share = match owner {
            Some(owner) => Some(self.take_share(owner, deadline, what).await?),
            None => None,
        };
        let place = self.places.clone().try_acquire_owned().map_err(|_| {
            crate::web::instruments::work_refused("full");
            tracing::warn!(what, "the work pool is full");
            AppError::Unavailable {
                message: format!(
                    "The server is busy {what} for others right now; try again in a moment."
                ),
            }
        })?;
        let (answer, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let held: (OwnedSemaphorePermit, Option<Share>) = (place, share);
            let result = work(deadline);
            // The places are free before the answer arrives.
            drop(held);
            let _ = answer.send(result);
        });
        self.jobs
            .send(job)
            .map_err(|_| AppError::internal("the work pool has stopped"))?;
        match tokio::time::timeout_at(deadline.instant().into(), result).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(AppError::internal(format!(
                "{what} failed on the work pool"
            ))),
            Err(_) => {
                crate::web::instruments::work_refused("deadline");
                crate::web::instruments::limit_hit("work_deadline");
                tracing::warn!(
                    what,
                    deadline_ms = self.deadline.as_millis() as u64,
                    "work stopped at its deadline"
                );
                Err(AppError::Unavailable {
                    message: format!(
                        "{} took longer than {}, so it was stopped.",
                        capitalised(what),
                        in_words(self.deadline)
                    ),
                })
            }
        }
    }
}

impl WorkPool {
    /// A place in `owner`'s share, waited for until the deadline.
    async fn take_share(
        &self,
        owner: Uuid,
        deadline: Deadline,
        what: &'static str,
    ) -> Result<Share, AppError> {
        let semaphore = {
            let mut shares = self
                .shares
                .lock()
                .expect("the shares' lock is never poisoned");
            shares
                .entry(owner)
                .or_insert_with(|| Arc::new(Semaphore::new(self.threads)))
                .clone()
        };
        let permit = tokio::time::timeout_at(deadline.instant().into(), semaphore.acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| {
                crate::web::instruments::work_refused("share");
                AppError::Unavailable {
                    message: format!(
                        "Your earlier requests are still {what}; try again when they are done."
                    ),
                }
            })?;
        Ok(Share {
            owner,
            permit: Some(permit),
            shares: self.shares.clone(),
        })
    }
}

/// A place in one user's share; the user's entry goes once nobody holds or waits for one.
struct Share {
    owner: Uuid,
    permit: Option<OwnedSemaphorePermit>,
    shares: Arc<Mutex<HashMap<Uuid, Arc<Semaphore>>>>,
}

impl Drop for Share {
    fn drop(&mut self) {
        drop(self.permit.take());
        if let Ok(mut shares) = self.shares.lock() {
            // Only the map's own reference left: nobody holds or waits for this share.
            if shares
                .get(&self.owner)
                .is_some_and(|semaphore| Arc::strong_count(semaphore) == 1)
            {
                shares.remove(&self.owner);
            }
        }
    }
}

/// "10 seconds", "1 second", "250 milliseconds".
fn in_words(duration: Duration) -> String {
    let plural =
        |count: u128, unit: &str| format!("{count} {unit}{}", if count == 1 { "" } else { "s" });
    if duration.as_millis().is_multiple_of(1000) {
        plural(duration.as_millis() / 1000, "second")
    } else {
        plural(duration.as_millis(), "millisecond")
    }
}

fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

/// nice 10 for the calling thread (Linux gives each thread its own nice value): also the
/// backtest engines' threads.
pub(crate) fn lower_this_thread_s_priority() {
    // SAFETY: gettid takes no argument; setpriority only reads its arguments.
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize, waiting: usize, deadline_ms: u64) -> WorkPool {
        WorkPool::new(WorkPoolSize {
            threads,
            waiting,
            deadline: Duration::from_millis(deadline_ms),
        })
    }

    #[tokio::test]
    async fn a_job_s_result_comes_back() {
        assert_eq!(
            pool(1, 0, 5_000).run(None, "adding", |_| 2 + 2).await,
            Ok(4)
        );
    }

    #[tokio::test]
    async fn a_job_past_its_deadline_is_answered_with_a_sentence_and_can_stop_itself() {
        let pool = pool(1, 0, 100);
        let (stopped, saw_it) = std::sync::mpsc::channel();
        let error = pool
            .run(None, "checking the document", move |deadline| {
                while !deadline.passed() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                // Stopping takes a moment: the answer has gone by then.
                std::thread::sleep(Duration::from_millis(200));
                let _ = stopped.send(());
            })
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Checking the document took longer than 100 milliseconds, so it was stopped."
        );
        saw_it
            .recv_timeout(Duration::from_secs(5))
            .expect("the job saw its deadline");
    }

    #[tokio::test]
    async fn a_full_pool_refuses_the_next_job_at_once() {
        let pool = pool(1, 1, 5_000);
        let (release, released) = std::sync::mpsc::channel::<()>();
        let released = Arc::new(Mutex::new(released));
        let mut running = Vec::new();
        for _ in 0..2 {
            let released = released.clone();
            let pool = pool.clone();
            running.push(tokio::spawn(async move {
                pool.run(None, "waiting", move |_| {
                    let _ = released.lock().unwrap().recv();
                })
                .await
            }));
        }
        // Both places are taken once both jobs were handed over.
        while pool.places.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = pool
            .run(None, "checking the document", |_| ())
            .await
            .unwrap_err();
        assert_eq!(refused.status(), 503);
        assert!(refused.to_string().contains("busy checking the document"));
        for _ in 0..2 {
            release.send(()).unwrap();
        }
        for job in running {
            assert_eq!(job.await.unwrap(), Ok(()));
        }
    }

    #[tokio::test]
    async fn one_user_s_jobs_wait_for_their_own_share_and_leave_the_queue_to_others() {
        let pool = pool(1, 2, 5_000);
        let flooder = Uuid::new_v4();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let released = Arc::new(Mutex::new(released));
        let mut flood = Vec::new();
        for _ in 0..3 {
            let (pool, released) = (pool.clone(), released.clone());
            flood.push(tokio::spawn(async move {
                pool.run(Some(flooder), "waiting", move |_| {
                    let _ = released.lock().unwrap().recv();
                })
                .await
            }));
        }
        // The flooder's first job holds its one-thread share; the other two wait for it and
        // take no place in the pool.
        while pool.places.available_permits() > 2 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.places.available_permits(), 2);
        let other = Uuid::new_v4();
        let queued = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(Some(other), "adding", |_| 1 + 1).await })
        };
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        assert_eq!(queued.await.unwrap(), Ok(2));
        for job in flood {
            assert_eq!(job.await.unwrap(), Ok(()));
        }
        assert!(
            pool.shares.lock().unwrap().is_empty(),
            "shares are forgotten"
        );
    }
}
