//! The cost of checking a document grows linearly with its size: for every hostile shape, the
//! syntax test (validation included) of a document four times as large costs about four times
//! as much CPU, never sixteen, and its answer stays proportionate to the document.
//!
//! Cost is measured as this thread's CPU time (not wall time, so other processes on a shared
//! machine do not count), the least of several runs, and compared as a ratio within one run of
//! the test: no absolute figure is asserted. A quadratic step gives a ratio near 16; the bound is
//! 8, twice the linear ratio.

#[path = "../hostile/documents.rs"]
mod documents;

use documents::SHAPES;
use trading_strategy::language::size::MAX_DOCUMENT_BYTES;
use trading_strategy::language::syntax_test;

const LARGE: usize = MAX_DOCUMENT_BYTES;
const SMALL: usize = LARGE / 4;
const RUNS: usize = 5;

fn thread_cpu_seconds() -> f64 {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a valid, writable timespec for the call's duration.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    assert_eq!(status, 0, "the thread's CPU clock is readable");
    time.tv_sec as f64 + time.tv_nsec as f64 / 1e9
}

/// The least CPU time of `RUNS` syntax tests of `text`, and the size of its answer as JSON.
fn cost(text: &str, format: trading_strategy::language::Format) -> (f64, usize) {
    let mut least = f64::INFINITY;
    let mut answer = 0;
    for _ in 0..RUNS {
        let started = thread_cpu_seconds();
        let report = syntax_test(text, format);
        least = least.min(thread_cpu_seconds() - started);
        answer = serde_json::to_vec(&report).expect("serialisable").len();
    }
    (least, answer)
}

#[test]
fn checking_four_times_the_text_costs_at_most_twice_linear_time_for_every_hostile_shape() {
    let mut failures = Vec::new();
    for shape in SHAPES {
        let small = (shape.generate)(SMALL);
        let large = (shape.generate)(LARGE);
        assert!(
            large.len() <= LARGE,
            "{}: {} bytes",
            shape.name,
            large.len()
        );
        let ((small_cpu, _), (large_cpu, large_answer)) =
            (cost(&small, shape.format), cost(&large, shape.format));
        // Below a millisecond the ratio is noise; such a check is cheap at any size.
        let ratio = large_cpu / small_cpu.max(0.001);
        println!(
            "{:<34} {:>8.2} ms -> {:>8.2} ms (x{ratio:.1}), answer {large_answer} bytes",
            shape.name,
            small_cpu * 1e3,
            large_cpu * 1e3
        );
        if ratio > 8.0 {
            failures.push(format!("{}: x{ratio:.1}", shape.name));
        }
        if large_answer > 4 * large.len() + 64 * 1024 {
            failures.push(format!(
                "{}: a {}-byte document answered with {large_answer} bytes",
                shape.name,
                large.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
