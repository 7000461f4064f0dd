//! `join!`, `try_join!`, `join_all`, `try_join_all`, `select!`, `race` and
//! `as_completed`, through the facade, in virtual time.

mod common;

use common::{Counted, flag, ms, secs};
use filch::time::{Instant, sleep};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

async fn say_after(delay: Duration, what: &'static str) -> &'static str {
    sleep(delay).await;
    what
}

// ---------------------------------------------------------------- join!

#[filch::test(start_paused = true)]
async fn join_is_gather_outputs_in_argument_order_concurrently() {
    let start = Instant::now();
    let (a, b, c) = filch::join!(
        say_after(secs(2), "first"),
        say_after(secs(1), "second"),
        async { 3 },
    );
    assert_eq!((a, b, c), ("first", "second", 3));
    assert_eq!(
        start.elapsed(),
        secs(2),
        "concurrent: the longest, not the sum"
    );
}

#[filch::test(start_paused = true)]
async fn join_takes_into_future_and_many_types_and_trailing_commas() {
    let task = filch::spawn(async { 5u8 });
    let owned = String::from("borrowed");
    let borrowed = async { owned.len() };
    let out = filch::join!(
        task,
        borrowed,
        async { 'c' },
        std::future::ready(1.5f32),
        async {},
        say_after(ms(1), "x"),
        async { [1, 2] },
        async { Some(()) },
        async { 9i64 },
        async { "ten" },
        async { 11u16 },
        async { 12u32 },
        async { vec![13] },
    );
    assert_eq!(out.0.unwrap(), 5);
    assert_eq!(out.1, 8);
    assert_eq!(out.2, 'c');
    assert_eq!(out.12, vec![13]);
    let () = filch::join!();
    let (one,) = filch::join!(async { 1 });
    assert_eq!(one, 1);
}

#[filch::test(start_paused = true)]
async fn join_drops_futures_when_dropped() {
    let (dropped, guard) = flag();
    let joined = async move {
        filch::join!(
            async move {
                let _guard = guard;
                sleep(secs(100)).await
            },
            sleep(secs(200)),
        )
    };
    assert!(filch::time::timeout(secs(1), joined).await.is_err());
    assert!(dropped.load(SeqCst));
}

#[filch::test(start_paused = true)]
async fn join_is_usable_in_spawned_tasks() {
    // The expansion holds nothing `!Send` across its await.
    let t = filch::spawn(async {
        let (a, b) = filch::join!(say_after(ms(5), "a"), say_after(ms(1), "b"));
        format!("{a}{b}")
    });
    assert_eq!(t.await.unwrap(), "ab");
}

// ---------------------------------------------------------------- try_join!

#[filch::test(start_paused = true)]
async fn try_join_returns_oks_in_order() {
    async fn ok_after(d: Duration, v: u32) -> Result<u32, String> {
        sleep(d).await;
        Ok(v)
    }
    let start = Instant::now();
    let r = filch::try_join!(ok_after(secs(3), 1), ok_after(secs(1), 2), async {
        Ok::<_, String>("three")
    });
    assert_eq!(r, Ok((1, 2, "three")));
    assert_eq!(start.elapsed(), secs(3));
}

#[filch::test(start_paused = true)]
async fn try_join_short_circuits_and_drops_the_rest() {
    let (slow_dropped, guard) = flag();
    let start = Instant::now();
    let r: Result<((), ()), &str> = filch::try_join!(
        async move {
            let _guard = guard;
            sleep(secs(100)).await;
            Ok(())
        },
        async {
            sleep(secs(1)).await;
            Err("failed at 1 s")
        },
    );
    assert_eq!(r, Err("failed at 1 s"));
    assert_eq!(start.elapsed(), secs(1), "did not wait for the slow one");
    assert!(slow_dropped.load(SeqCst), "the rest were dropped by then");
}

// ---------------------------------------------------------------- join_all

#[filch::test(start_paused = true)]
async fn join_all_is_gather_in_input_order() {
    let start = Instant::now();
    let out = filch::join_all([3, 1, 2].map(|s| async move {
        sleep(secs(s)).await;
        s
    }))
    .await;
    assert_eq!(out, [3, 1, 2]);
    assert_eq!(start.elapsed(), secs(3));
    assert!(
        filch::join_all(Vec::<std::future::Ready<()>>::new())
            .await
            .is_empty()
    );
}

#[filch::test(start_paused = true)]
async fn join_all_over_join_handles_is_gather_of_tasks() {
    let tasks: Vec<_> = (0..20u64)
        .map(|i| {
            filch::spawn(async move {
                sleep(ms(20 - i)).await;
                if i == 7 {
                    panic!("task 7 fails");
                }
                i * i
            })
        })
        .collect();
    let out = filch::join_all(tasks).await;
    for (i, r) in out.into_iter().enumerate() {
        match r {
            Ok(v) => assert_eq!(v, (i * i) as u64),
            Err(e) => {
                assert_eq!(i, 7);
                assert!(e.is_panic());
            }
        }
    }
}

/// One of `N` children: either waits at a gate (registering its waker once),
/// or is the busy one, which wakes itself `left` times and then opens the
/// gate for all the others.
enum Child {
    Waiter(Arc<Gate>, Arc<AtomicUsize>),
    Busy(Arc<Gate>, Arc<AtomicUsize>, usize),
}

#[derive(Default)]
struct Gate {
    open: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Future for Child {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut *self {
            Child::Waiter(gate, polls) => {
                polls.fetch_add(1, SeqCst);
                if gate.open.load(SeqCst) {
                    return Poll::Ready(());
                }
                gate.wakers.lock().unwrap().push(cx.waker().clone());
                Poll::Pending
            }
            Child::Busy(gate, polls, left) => {
                polls.fetch_add(1, SeqCst);
                if *left == 0 {
                    gate.open.store(true, SeqCst);
                    for w in gate.wakers.lock().unwrap().drain(..) {
                        w.wake();
                    }
                    return Poll::Ready(());
                }
                *left -= 1;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
}

#[filch::test]
async fn join_all_polls_only_the_woken_children() {
    const N: usize = 10_000;
    const WAKES: usize = 1_000;
    let gate = Arc::new(Gate::default());
    let waiter_polls = Arc::new(AtomicUsize::new(0));
    let busy_polls = Arc::new(AtomicUsize::new(0));
    let children = (0..N).map(|i| {
        if i == N / 2 {
            Child::Busy(gate.clone(), busy_polls.clone(), WAKES)
        } else {
            Child::Waiter(gate.clone(), waiter_polls.clone())
        }
    });
    let parent_polls = Arc::new(AtomicUsize::new(0));
    Counted {
        polls: parent_polls.clone(),
        inner: Box::pin(filch::join_all(children)),
    }
    .await;
    // The busy child: its first poll, one per self-wake.
    assert_eq!(busy_polls.load(SeqCst), WAKES + 1);
    // Every waiter: its first poll, and one after the gate opened. A
    // poll-everything join would poll each of them ~1,000 times.
    assert_eq!(waiter_polls.load(SeqCst), 2 * (N - 1));
    // About one parent poll per self-wake of the busy child (the runtime may
    // add a spurious one; it would poll no child).
    let parent = parent_polls.load(SeqCst);
    assert!((WAKES..WAKES + 10).contains(&parent), "{parent}");
}

#[filch::test(start_paused = true)]
async fn join_all_drops_children_when_dropped() {
    let flags: Vec<_> = (0..5).map(|_| flag()).collect();
    let (seen, guards): (Vec<_>, Vec<_>) = flags.into_iter().unzip();
    let all = filch::join_all(guards.into_iter().map(|g| async move {
        let _g = g;
        sleep(secs(10)).await;
    }));
    assert!(filch::time::timeout(secs(1), all).await.is_err());
    assert!(seen.iter().all(|f| f.load(SeqCst)));
}

// ---------------------------------------------------------------- try_join_all

#[filch::test(start_paused = true)]
async fn try_join_all_collects_oks_in_order() {
    let r = filch::try_join_all([2u64, 1, 3].map(|s| async move {
        sleep(secs(s)).await;
        Ok::<_, ()>(s)
    }))
    .await;
    assert_eq!(r, Ok(vec![2, 1, 3]));
}

#[filch::test(start_paused = true)]
async fn try_join_all_stops_at_the_first_err_and_drops_the_rest() {
    let flags: Vec<_> = (0..4).map(|_| flag()).collect();
    let (dropped, guards): (Vec<_>, Vec<_>) = flags.into_iter().unzip();
    let start = Instant::now();
    let r = filch::try_join_all(guards.into_iter().enumerate().map(|(i, g)| async move {
        let _g = g;
        if i == 2 {
            sleep(secs(2)).await;
            return Err(format!("child {i} failed"));
        }
        sleep(secs(10 + i as u64)).await;
        Ok(i)
    }))
    .await;
    assert_eq!(r, Err("child 2 failed".to_string()));
    assert_eq!(start.elapsed(), secs(2));
    assert!(
        dropped.iter().all(|f| f.load(SeqCst)),
        "every child dropped"
    );
}

// ---------------------------------------------------------------- select!

#[filch::test(start_paused = true)]
async fn select_runs_the_first_to_finish_and_drops_the_others_first() {
    let (slow_dropped, guard) = flag();
    let start = Instant::now();
    let slow = async move {
        let _guard = guard;
        sleep(secs(5)).await;
        "slow"
    };
    let out = filch::select! {
        v = slow => v,
        v = say_after(secs(1), "fast") => {
            assert!(slow_dropped.load(SeqCst), "losers are dropped before the handler");
            v
        }
    };
    assert_eq!(out, "fast");
    assert_eq!(start.elapsed(), secs(1));
}

#[filch::test]
async fn biased_select_polls_in_order() {
    for _ in 0..200 {
        let winner = filch::select! {
            biased;
            _ = async {} => 0,
            _ = async {} => 1,
            _ = async {} => 2,
        };
        assert_eq!(winner, 0);
    }
}

#[filch::test]
async fn unbiased_select_starts_at_a_random_branch() {
    let mut wins = [0usize; 3];
    for _ in 0..600 {
        let w = filch::select! {
            _ = async {} => 0,
            _ = async {} => 1,
            _ = async {} => 2,
        };
        wins[w] += 1;
    }
    // Each expects 200; below 100 is more than 8 standard deviations off.
    assert!(wins.iter().all(|&w| w > 100), "{wins:?}");
}

#[filch::test(start_paused = true)]
async fn select_patterns_disable_branches_and_else_runs_when_all_are() {
    let out = filch::select! {
        Some(x) = async { None::<u8> } => x,
        Ok(y) = say_after(secs(1), "later").then_err() => y.len() as u8,
        else => 99,
    };
    assert_eq!(out, 99, "both outputs mismatched");

    let start = Instant::now();
    let out = filch::select! {
        Some(x) = async { None::<&str> } => x,
        Some(y) = async { sleep(secs(2)).await; Some("second") } => y,
        else => "none",
    };
    assert_eq!(out, "second", "a mismatch does not end the select");
    assert_eq!(start.elapsed(), secs(2));

    let cond = false;
    let out = filch::select! {
        v = async { "disabled but ready" }, if cond => v,
        v = say_after(secs(1), "enabled") => v,
    };
    assert_eq!(out, "enabled");

    let out = filch::select! {
        v = async { 1 }, if false => v,
        else => 0,
    };
    assert_eq!(out, 0, "else runs at once when every condition is false");
}

trait ThenErr {
    fn then_err(self) -> impl Future<Output = Result<&'static str, &'static str>>;
}

impl<F: Future<Output = &'static str>> ThenErr for F {
    async fn then_err(self) -> Result<&'static str, &'static str> {
        Err(self.await)
    }
}

#[filch::test]
#[should_panic(expected = "every branch is disabled")]
async fn select_without_else_panics_when_every_branch_is_disabled() {
    let _: u8 = filch::select! {
        Some(x) = async { None::<u8> } => x,
    };
}

#[derive(Debug, PartialEq)]
enum Msg {
    Data { id: u32, body: Vec<u8> },
    Tick(u64),
}

#[filch::test(start_paused = true)]
async fn select_patterns_may_bind_mut_and_ref_and_use_structs() {
    let out = filch::select! {
        Some(mut v) = async { Some(vec![1]) } => {
            v.push(2);
            v
        }
    };
    assert_eq!(out, [1, 2]);
    let out = filch::select! {
        Msg::Data { id, ref body } = async { Msg::Data { id: 4, body: vec![7] } } => (id, body.len()),
        Msg::Tick(t) = async { Msg::Tick(1) }, if false => (t as u32, 0),
    };
    assert_eq!(out, (4, 1));
    let out = filch::select! {
        (a, [b, mut c], Some(ref mut d)) = async { (1, [2, 3], Some(4)) } => {
            c += 1;
            *d += 1;
            a + b + c + *d
        }
    };
    assert_eq!(out, 1 + 2 + 4 + 5);
    // A long pattern (more than five tokens before `=`).
    let out = filch::select! {
        std::option::Option::Some(std::result::Result::Ok::<u8, ()>(x)) = async { Some(Ok(3)) } => x,
        else => 0,
    };
    assert_eq!(out, 3);
}

async fn select_in_fn_with_question_mark(fail: bool) -> Result<u8, String> {
    let v = filch::select! {
        r = async move { if fail { Err("bad".to_string()) } else { Ok(1u8) } } => r?,
        _ = sleep(secs(1)) => return Err("timeout".into()),
    };
    Ok(v + 1)
}

#[filch::test(start_paused = true)]
async fn select_handlers_can_break_continue_return_and_question_mark() {
    let mut deadline = std::pin::pin!(sleep(ms(5500)));
    let (mut ticks, mut skipped) = (0, 0);
    loop {
        filch::select! {
            biased;
            _ = &mut deadline => break,
            _ = sleep(secs(1)) => {
                ticks += 1;
                if ticks % 2 == 0 {
                    skipped += 1;
                    continue;
                }
            }
        }
    }
    assert_eq!((ticks, skipped), (5, 2));
    assert_eq!(select_in_fn_with_question_mark(false).await, Ok(2));
    assert_eq!(
        select_in_fn_with_question_mark(true).await,
        Err("bad".into())
    );
}

#[filch::test(start_paused = true)]
async fn select_is_usable_in_spawned_tasks_and_with_not_unpin_futures() {
    let t = filch::spawn(async {
        let pinned_later = async {
            let local = [0u8; 16];
            sleep(secs(1)).await;
            local.len()
        };
        filch::select! {
            n = pinned_later => n,
            _ = sleep(secs(2)) => 0,
        }
    });
    assert_eq!(t.await.unwrap(), 16);
}

#[filch::test(start_paused = true)]
async fn macros_are_hygienic_and_release_borrows_before_handlers() {
    // Locals named like the expansion's own.
    let (disabled, cx, value, fut, out, poll, start, mut buf) = (1, 2, 3, 4, 5, 6, 7, vec![0u8]);
    let r = filch::select! {
        v = async { buf.push(disabled); cx + value } => {
            // The future that borrowed `buf` mutably is gone by now.
            buf.push(9);
            v + fut + out + poll + start
        }
        _ = sleep(secs(1)) => 0,
    };
    assert_eq!(r, 2 + 3 + 4 + 5 + 6 + 7);
    assert_eq!(buf, [0, 1, 9]);
    let (a, b) = filch::join!(async { disabled + start }, async { fut * out });
    assert_eq!((a, b), (8, 20));
    let r: Result<(u8,), ()> = filch::try_join!(async { Ok(poll) });
    assert_eq!(r, Ok((6,)));
}

#[filch::test]
async fn select_takes_fifty_branches() {
    let out = filch::select! {
        v = async { 0u32 }, if 0 == 49 => v,
        v = async { 1u32 }, if 1 == 49 => v,
        v = async { 2u32 }, if 2 == 49 => v,
        v = async { 3u32 }, if 3 == 49 => v,
        v = async { 4u32 }, if 4 == 49 => v,
        v = async { 5u32 }, if 5 == 49 => v,
        v = async { 6u32 }, if 6 == 49 => v,
        v = async { 7u32 }, if 7 == 49 => v,
        v = async { 8u32 }, if 8 == 49 => v,
        v = async { 9u32 }, if 9 == 49 => v,
        v = async { 10u32 }, if 10 == 49 => v,
        v = async { 11u32 }, if 11 == 49 => v,
        v = async { 12u32 }, if 12 == 49 => v,
        v = async { 13u32 }, if 13 == 49 => v,
        v = async { 14u32 }, if 14 == 49 => v,
        v = async { 15u32 }, if 15 == 49 => v,
        v = async { 16u32 }, if 16 == 49 => v,
        v = async { 17u32 }, if 17 == 49 => v,
        v = async { 18u32 }, if 18 == 49 => v,
        v = async { 19u32 }, if 19 == 49 => v,
        v = async { 20u32 }, if 20 == 49 => v,
        v = async { 21u32 }, if 21 == 49 => v,
        v = async { 22u32 }, if 22 == 49 => v,
        v = async { 23u32 }, if 23 == 49 => v,
        v = async { 24u32 }, if 24 == 49 => v,
        v = async { 25u32 }, if 25 == 49 => v,
        v = async { 26u32 }, if 26 == 49 => v,
        v = async { 27u32 }, if 27 == 49 => v,
        v = async { 28u32 }, if 28 == 49 => v,
        v = async { 29u32 }, if 29 == 49 => v,
        v = async { 30u32 }, if 30 == 49 => v,
        v = async { 31u32 }, if 31 == 49 => v,
        v = async { 32u32 }, if 32 == 49 => v,
        v = async { 33u32 }, if 33 == 49 => v,
        v = async { 34u32 }, if 34 == 49 => v,
        v = async { 35u32 }, if 35 == 49 => v,
        v = async { 36u32 }, if 36 == 49 => v,
        v = async { 37u32 }, if 37 == 49 => v,
        v = async { 38u32 }, if 38 == 49 => v,
        v = async { 39u32 }, if 39 == 49 => v,
        v = async { 40u32 }, if 40 == 49 => v,
        v = async { 41u32 }, if 41 == 49 => v,
        v = async { 42u32 }, if 42 == 49 => v,
        v = async { 43u32 }, if 43 == 49 => v,
        v = async { 44u32 }, if 44 == 49 => v,
        v = async { 45u32 }, if 45 == 49 => v,
        v = async { 46u32 }, if 46 == 49 => v,
        v = async { 47u32 }, if 47 == 49 => v,
        v = async { 48u32 }, if 48 == 49 => v,
        v = async { 49u32 }, if 49 == 49 => v,
    };
    assert_eq!(out, 49);
}

// ---------------------------------------------------------------- race

#[filch::test(start_paused = true)]
async fn race_returns_the_winners_index_and_drops_the_others() {
    let flags: Vec<_> = (0..3).map(|_| flag()).collect();
    let (dropped, guards): (Vec<_>, Vec<_>) = flags.into_iter().unzip();
    let start = Instant::now();
    let (i, out) = filch::race(
        guards
            .into_iter()
            .zip([3u64, 1, 2])
            .map(|(g, s)| async move {
                let _g = g;
                sleep(secs(s)).await;
                s * 100
            }),
    )
    .await;
    assert_eq!((i, out), (1, 100));
    assert_eq!(start.elapsed(), secs(1));
    assert!(dropped.iter().all(|f| f.load(SeqCst)));
}

#[filch::test]
async fn race_ties_go_to_the_lowest_index_at_the_first_poll() {
    let (i, v) = filch::race(['a', 'b'].map(|c| async move { c })).await;
    assert_eq!((i, v), (0, 'a'));
}

#[test]
#[should_panic(expected = "filch::race: no futures to race")]
fn race_of_nothing_panics() {
    drop(filch::race(Vec::<std::future::Ready<()>>::new()));
}

// ---------------------------------------------------------------- as_completed

#[filch::test(start_paused = true)]
async fn as_completed_yields_in_completion_order() {
    fn assert_unpin<T: Unpin>(_: &T) {}
    let start = Instant::now();
    let mut stream = filch::as_completed([3u64, 1, 2, 1].map(|s| async move {
        sleep(secs(s)).await;
        (s, Instant::now())
    }));
    assert_unpin(&stream); // although the async blocks are not Unpin
    let mut seen = Vec::new();
    while let Some((s, at)) = stream.next().await {
        assert_eq!(at - start, secs(s));
        seen.push(s);
        assert_eq!(stream.len(), 4 - seen.len());
    }
    assert_eq!(seen, [1, 1, 2, 3]);
    assert_eq!(stream.next().await, None, "stays ended");
    use futures_core::stream::FusedStream;
    assert!(stream.is_terminated());
}

#[filch::test(start_paused = true)]
async fn as_completed_is_a_futures_core_stream() {
    use futures_core::Stream;
    let mut stream = filch::as_completed(["b", "a"].map(|s| async move {
        sleep(if s == "a" { ms(1) } else { ms(2) }).await;
        s
    }));
    assert_eq!(Stream::size_hint(&stream), (2, Some(2)));
    let mut out = Vec::new();
    while let Some(s) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        out.push(s);
    }
    assert_eq!(out, ["a", "b"]);
}

#[filch::test(start_paused = true)]
async fn as_completed_over_tasks_and_dropping_it_drops_the_rest() {
    let (dropped, guard) = flag();
    let mut stream = filch::as_completed([
        Box::pin(async move {
            let _g = guard;
            sleep(secs(9)).await;
            9u64
        }) as Pin<Box<dyn Future<Output = u64> + Send>>,
        Box::pin(async {
            sleep(secs(1)).await;
            1
        }),
    ]);
    assert_eq!(stream.next().await, Some(1));
    drop(stream);
    assert!(dropped.load(SeqCst));
}
