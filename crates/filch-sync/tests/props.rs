//! Property tests of the queues and channels against `std` models: random
//! sequences of the non-waiting operations (`try_put` / `try_get` /
//! `task_done` / `shutdown` on `Queue`, `LifoQueue` and `PriorityQueue`;
//! `try_send` / `send` / `try_recv` / `close` and sender drops on the mpsc
//! channels) must give exactly the results a `VecDeque` (FIFO, LIFO) or a
//! `BinaryHeap` (smallest first) model gives, with the same sizes,
//! fullness, unfinished-task counts and error kinds.
//!
//! `PROPTEST_CASES` sets the number of sequences per test (64 by default).

use filch_sync::mpsc::error::{TryRecvError, TrySendError};
use filch_sync::{LifoQueue, PriorityQueue, Queue, TryGetError, TryPutError};
use proptest::prelude::*;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 64;
    }
    config
}

#[derive(Debug, Clone)]
enum QOp {
    Put(u8),
    Get,
    TaskDone,
    Shutdown { immediate: bool },
}

fn q_op() -> impl Strategy<Value = QOp> {
    prop_oneof![
        8 => any::<u8>().prop_map(QOp::Put),
        6 => Just(QOp::Get),
        2 => Just(QOp::TaskDone),
        // Rare: a shutdown ends the interesting part of a sequence.
        1 => any::<bool>().prop_map(|immediate| QOp::Shutdown { immediate }),
    ]
}

/// The model of one asyncio queue: items in a discipline, a bound, the
/// unfinished count and the shutdown flag.
struct Model<C> {
    items: C,
    maxsize: usize,
    unfinished: usize,
    shutdown: bool,
}

trait Discipline: Default {
    fn push(&mut self, v: u8);
    fn pop(&mut self) -> Option<u8>;
    fn len(&self) -> usize;
    fn clear(&mut self) -> usize {
        let n = self.len();
        while self.pop().is_some() {}
        n
    }
}

#[derive(Default)]
struct Fifo(VecDeque<u8>);
impl Discipline for Fifo {
    fn push(&mut self, v: u8) {
        self.0.push_back(v)
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[derive(Default)]
struct Lifo(VecDeque<u8>);
impl Discipline for Lifo {
    fn push(&mut self, v: u8) {
        self.0.push_back(v)
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop_back()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[derive(Default)]
struct Smallest(BinaryHeap<Reverse<u8>>);
impl Discipline for Smallest {
    fn push(&mut self, v: u8) {
        self.0.push(Reverse(v))
    }
    fn pop(&mut self) -> Option<u8> {
        self.0.pop().map(|Reverse(v)| v)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// The operations every asyncio queue type offers, for one generic check.
trait AsyncioQueue {
    fn try_put(&self, v: u8) -> Result<(), TryPutError<u8>>;
    fn try_get(&self) -> Result<u8, TryGetError>;
    fn task_done(&self) -> bool;
    fn shutdown(&self, immediate: bool);
    fn qsize(&self) -> usize;
    fn full(&self) -> bool;
    fn empty(&self) -> bool;
    fn unfinished_tasks(&self) -> usize;
}

macro_rules! asyncio_queue {
    ($t:ident) => {
        impl AsyncioQueue for $t<u8> {
            fn try_put(&self, v: u8) -> Result<(), TryPutError<u8>> {
                $t::try_put(self, v)
            }
            fn try_get(&self) -> Result<u8, TryGetError> {
                $t::try_get(self)
            }
            fn task_done(&self) -> bool {
                $t::task_done(self).is_ok()
            }
            fn shutdown(&self, immediate: bool) {
                if immediate {
                    $t::shutdown_immediate(self)
                } else {
                    $t::shutdown(self)
                }
            }
            fn qsize(&self) -> usize {
                $t::qsize(self)
            }
            fn full(&self) -> bool {
                $t::full(self)
            }
            fn empty(&self) -> bool {
                $t::empty(self)
            }
            fn unfinished_tasks(&self) -> usize {
                $t::unfinished_tasks(self)
            }
        }
    };
}
asyncio_queue!(Queue);
asyncio_queue!(LifoQueue);
asyncio_queue!(PriorityQueue);

fn check_queue<Q: AsyncioQueue, C: Discipline>(
    q: Q,
    maxsize: usize,
    ops: Vec<QOp>,
) -> Result<(), TestCaseError> {
    let mut m = Model {
        items: C::default(),
        maxsize,
        unfinished: 0,
        shutdown: false,
    };
    for op in ops {
        match op {
            QOp::Put(v) => {
                let res = q.try_put(v);
                if m.shutdown {
                    prop_assert_eq!(res, Err(TryPutError::ShutDown(v)));
                } else if m.maxsize > 0 && m.items.len() >= m.maxsize {
                    prop_assert_eq!(res, Err(TryPutError::Full(v)));
                } else {
                    prop_assert_eq!(res, Ok(()));
                    m.items.push(v);
                    m.unfinished += 1;
                }
            }
            QOp::Get => {
                let expected = match m.items.pop() {
                    Some(v) => Ok(v),
                    None if m.shutdown => Err(TryGetError::ShutDown),
                    None => Err(TryGetError::Empty),
                };
                prop_assert_eq!(q.try_get(), expected);
            }
            QOp::TaskDone => {
                let ok = m.unfinished > 0;
                prop_assert_eq!(q.task_done(), ok);
                if ok {
                    m.unfinished -= 1;
                }
            }
            QOp::Shutdown { immediate } => {
                q.shutdown(immediate);
                m.shutdown = true;
                if immediate {
                    let drained = m.items.clear();
                    m.unfinished = m.unfinished.saturating_sub(drained);
                }
            }
        }
        prop_assert_eq!(q.qsize(), m.items.len());
        prop_assert_eq!(q.empty(), m.items.len() == 0);
        prop_assert_eq!(q.full(), m.maxsize > 0 && m.items.len() >= m.maxsize);
        prop_assert_eq!(q.unfinished_tasks(), m.unfinished);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn queue_is_a_fifo(maxsize in 0usize..6, ops in prop::collection::vec(q_op(), 1..120)) {
        check_queue::<_, Fifo>(Queue::new(maxsize), maxsize, ops)?;
    }

    #[test]
    fn lifo_queue_is_a_stack(maxsize in 0usize..6, ops in prop::collection::vec(q_op(), 1..120)) {
        check_queue::<_, Lifo>(LifoQueue::new(maxsize), maxsize, ops)?;
    }

    #[test]
    fn priority_queue_gives_the_smallest(maxsize in 0usize..6, ops in prop::collection::vec(q_op(), 1..120)) {
        check_queue::<_, Smallest>(PriorityQueue::new(maxsize), maxsize, ops)?;
    }
}

#[derive(Debug, Clone)]
enum ChanOp {
    Send(u16),
    Recv,
    Close,
    /// Drop one of the extra sender clones (or make one).
    Clone,
    DropSender,
}

fn chan_op() -> impl Strategy<Value = ChanOp> {
    prop_oneof![
        8 => any::<u16>().prop_map(ChanOp::Send),
        7 => Just(ChanOp::Recv),
        1 => Just(ChanOp::Close),
        2 => Just(ChanOp::Clone),
        2 => Just(ChanOp::DropSender),
    ]
}

/// Either kind of sender, so that one runner checks both channels.
#[derive(Clone)]
enum Tx {
    Bounded(filch_sync::mpsc::Sender<u16>),
    Unbounded(filch_sync::mpsc::UnboundedSender<u16>),
}

/// Either kind of receiver.
enum Rx {
    Bounded(filch_sync::mpsc::Receiver<u16>),
    Unbounded(filch_sync::mpsc::UnboundedReceiver<u16>),
}

impl Rx {
    fn try_recv(&mut self) -> Result<u16, TryRecvError> {
        match self {
            Rx::Bounded(rx) => rx.try_recv(),
            Rx::Unbounded(rx) => rx.try_recv(),
        }
    }

    fn close(&mut self) {
        match self {
            Rx::Bounded(rx) => rx.close(),
            Rx::Unbounded(rx) => rx.close(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Rx::Bounded(rx) => rx.len(),
            Rx::Unbounded(rx) => rx.len(),
        }
    }
}

/// Runs `ops` on a channel against a `VecDeque` model; `cap` is the
/// bounded channel's capacity (`None`: unbounded). A send fails `Full` at
/// the bound and `Closed` (with the value back) after `close`; messages
/// come out in order; `try_recv` says `Empty` while a sender lives and
/// `Disconnected` once all are gone (or the channel is closed) and it is
/// drained.
fn check_channel(cap: Option<usize>, ops: Vec<ChanOp>) -> Result<(), TestCaseError> {
    let (tx, mut rx) = match cap {
        Some(cap) => {
            let (tx, rx) = filch_sync::mpsc::channel::<u16>(cap);
            (Tx::Bounded(tx), Rx::Bounded(rx))
        }
        None => {
            let (tx, rx) = filch_sync::mpsc::unbounded_channel::<u16>();
            (Tx::Unbounded(tx), Rx::Unbounded(rx))
        }
    };
    let mut senders = vec![tx];
    let mut model: VecDeque<u16> = VecDeque::new();
    let mut closed = false;
    for op in ops {
        match op {
            ChanOp::Send(v) => {
                let Some(tx) = senders.first() else { continue };
                let full = cap.is_some_and(|cap| model.len() >= cap);
                match tx {
                    Tx::Bounded(tx) => {
                        let res = tx.try_send(v);
                        if closed {
                            prop_assert!(matches!(res, Err(TrySendError::Closed(x)) if x == v));
                        } else if full {
                            prop_assert!(matches!(res, Err(TrySendError::Full(x)) if x == v));
                        } else {
                            prop_assert!(res.is_ok());
                        }
                    }
                    Tx::Unbounded(tx) => {
                        let res = tx.send(v).map_err(|e| e.0);
                        prop_assert_eq!(res, if closed { Err(v) } else { Ok(()) });
                    }
                }
                if !closed && !full {
                    model.push_back(v);
                }
            }
            ChanOp::Recv => {
                let expected = match model.pop_front() {
                    Some(v) => Ok(v),
                    None if closed || senders.is_empty() => Err(TryRecvError::Disconnected),
                    None => Err(TryRecvError::Empty),
                };
                prop_assert_eq!(rx.try_recv(), expected);
            }
            ChanOp::Close => {
                rx.close();
                closed = true;
            }
            ChanOp::Clone => {
                if let Some(tx) = senders.first() {
                    let c = tx.clone();
                    senders.push(c);
                }
            }
            ChanOp::DropSender => {
                senders.pop();
            }
        }
        prop_assert_eq!(rx.len(), model.len());
        if let (Some(Tx::Bounded(tx)), Some(cap)) = (senders.first(), cap) {
            prop_assert_eq!(tx.is_closed(), closed);
            if !closed {
                prop_assert_eq!(tx.capacity(), cap - model.len());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// The bounded channel, across its internal blocks of 32 messages.
    #[test]
    fn bounded_channel_is_a_bounded_fifo(cap in 1usize..80, ops in prop::collection::vec(chan_op(), 1..300)) {
        check_channel(Some(cap), ops)?;
    }

    /// The unbounded channel.
    #[test]
    fn unbounded_channel_is_a_fifo(ops in prop::collection::vec(chan_op(), 1..300)) {
        check_channel(None, ops)?;
    }
}
