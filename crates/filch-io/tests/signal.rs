//! Signals through the reactor. Raises real signals in this process, so it
//! lives alone in its own test binary.

mod common;

use filch_io::signal::ctrl_c;
use filch_io::signal::unix::{SignalKind, signal};
use futures_lite::future::poll_once;
use signal_hook::low_level::raise;
use std::pin::pin;

#[test]
fn ctrl_c_completes_on_sigint() {
    let rt = common::runtime();
    common::with_watchdog("ctrl_c", 30, || {
        rt.block_on(async {
            let mut first = pin!(ctrl_c());
            // The first poll installs the listener, then waits.
            assert!(poll_once(&mut first).await.is_none());
            let mut second = pin!(ctrl_c());
            assert!(poll_once(&mut second).await.is_none());
            raise(SignalKind::interrupt().as_raw()).unwrap();
            // Every listener sees the delivery.
            first.await.unwrap();
            second.await.unwrap();
        })
    });
}

#[test]
fn signal_listener_receives_each_delivery_and_merges_bursts() {
    let rt = common::runtime();
    common::with_watchdog("signal", 30, || {
        rt.block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            assert_eq!(usr1.kind(), SignalKind::user_defined1());
            for _ in 0..3 {
                raise(SignalKind::user_defined1().as_raw()).unwrap();
                usr1.recv().await.unwrap();
            }
            // A burst before anyone waits is one wake-up, not a queue.
            for _ in 0..5 {
                raise(SignalKind::user_defined1().as_raw()).unwrap();
            }
            usr1.recv().await.unwrap();
            let mut next = pin!(usr1.recv());
            assert!(poll_once(&mut next).await.is_none());
            raise(SignalKind::user_defined1().as_raw()).unwrap();
            next.await.unwrap();
            // A listener for another signal is unaffected.
            let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
            let mut pending = pin!(usr2.recv());
            raise(SignalKind::user_defined1().as_raw()).unwrap();
            assert!(poll_once(&mut pending).await.is_none());
        })
    });
}

#[test]
fn bad_signals_are_invalid_input() {
    let rt = common::runtime();
    let _guard = rt.handle().enter();
    for bad in [9, 19, 11] {
        let err = signal(SignalKind::from_raw(bad)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains(&format!("signal {bad}")), "{err}");
    }
    let err = signal(SignalKind::from_raw(100_000)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
}

#[test]
fn signal_outside_a_runtime_is_an_error() {
    let err = signal(SignalKind::hangup()).unwrap_err();
    assert!(err.to_string().contains("no filch I/O reactor"), "{err}");
}
