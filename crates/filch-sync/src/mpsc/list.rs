//! The lock-free message list under every mpsc channel: many senders push,
//! one receiver pops, nobody takes a lock.
//!
//! ## Layout
//! Messages live in a singly linked list of blocks of `BLOCK_CAP` slots.
//! Each block has a `ready` word (bit `i` = slot `i` is written, plus the
//! `RX_WAITING` bit) and a `next` pointer. Blocks are aligned to 64 bytes,
//! so one word, `tail`, holds the block senders fill *and* the next free
//! offset in it *and* a `CLOSED` bit: `block_ptr | CLOSED | offset`.
//!
//! ## Sending
//! A sender claims a slot with one CAS on `tail` (`offset + 1`, or, for the
//! block's last slot, `next_block | 0` with a block it allocated before the
//! CAS). It never dereferences a block before its CAS succeeded, so a stale
//! `tail` it read can never make it touch freed memory (and an ABA on the
//! word is harmless: a successful CAS means the word really was that slot).
//! It then writes the value, links `next` (if it took the last slot) and
//! sets its `ready` bit with one `fetch_or`, its last access to the block.
//! A `CLOSED` tail makes the CAS fail instead, so no slot is claimed after
//! `close`: the receiver can tell "drained" exactly.
//!
//! ## Receiving
//! The receiver owns the head block and its offset. A slot is ready when
//! its bit is set; after the last slot of a block it follows `next` (linked
//! before that slot's bit was set) and frees the block: every sender of the
//! block has made its last access (its `fetch_or`), which the receiver has
//! seen. To sleep, the receiver sets `RX_WAITING` in the head block's
//! `ready` with a `fetch_or`: that RMW and the sender's `fetch_or` are on
//! the same word, so either the receiver sees the slot ready, or the sender
//! sees `RX_WAITING` and wakes it. Senders therefore touch the receiver's
//! waker only when it actually sleeps.
//!
//! This module owns the list and its memory; it must not know about
//! wakers, capacity or sender counts (`chan.rs` does).

use crate::loom::UnsafeCell;
use crate::loom::atomic::{AtomicPtr, AtomicUsize};
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};

/// Slots per block (small under loom so models cross block boundaries).
pub const BLOCK_CAP: usize = if cfg!(loom) {
    2
} else if usize::BITS >= 64 {
    32
} else {
    16
};

const OFFSET_MASK: usize = 31;
/// `tail` bit: the channel is closed, no slot can be claimed.
const CLOSED: usize = 32;
const PTR_MASK: usize = !63;
/// `ready` bit: the receiver sleeps waiting for a slot of this block.
const RX_WAITING: usize = 1 << BLOCK_CAP;

const _: () = assert!(BLOCK_CAP <= OFFSET_MASK + 1 && BLOCK_CAP < usize::BITS as usize);

#[repr(C, align(64))]
struct Block<T> {
    ready: AtomicUsize,
    next: AtomicPtr<Block<T>>,
    slots: [UnsafeCell<MaybeUninit<T>>; BLOCK_CAP],
}

impl<T> Block<T> {
    fn alloc() -> NonNull<Block<T>> {
        let b = Box::new(Block {
            ready: AtomicUsize::new(0),
            next: AtomicPtr::new(ptr::null_mut()),
            slots: std::array::from_fn(|_| UnsafeCell::new(MaybeUninit::uninit())),
        });
        NonNull::from(Box::leak(b))
    }

    /// # Safety
    /// `b` came from `alloc`, is not reachable by anyone else, and its
    /// initialised slots were already read or dropped.
    unsafe fn free(b: NonNull<Block<T>>) {
        // SAFETY: the caller's contract; `MaybeUninit` slots drop nothing.
        drop(unsafe { Box::from_raw(b.as_ptr()) });
    }
}

/// The senders' side: the `tail` word.
pub(crate) struct Tail<T> {
    word: AtomicUsize,
    _marker: std::marker::PhantomData<T>,
}

/// What a push did.
pub(crate) enum Pushed<T> {
    /// Stored; `true` if the receiver was sleeping and must be woken.
    Ok(bool),
    /// The list is closed; the value comes back.
    Closed(T),
}

/// The receiver's side: the head block and the next offset in it.
pub(crate) struct Head<T> {
    block: NonNull<Block<T>>,
    offset: usize,
    /// Whether we set `RX_WAITING` on the head block and have not cleared
    /// it since.
    waiting: bool,
}

/// Creates an empty list (one block).
pub(crate) fn new<T>() -> (Tail<T>, Head<T>) {
    let block = Block::<T>::alloc();
    (
        Tail {
            word: AtomicUsize::new(block.as_ptr() as usize),
            _marker: std::marker::PhantomData,
        },
        Head {
            block,
            offset: 0,
            waiting: false,
        },
    )
}

impl<T> Tail<T> {
    /// Appends `value` unless the list is closed.
    pub(crate) fn push(&self, value: T) -> Pushed<T> {
        let mut spare: Option<NonNull<Block<T>>> = None;
        let mut cur = self.word.load(Acquire);
        let (block, offset) = loop {
            if cur & CLOSED != 0 {
                if let Some(b) = spare {
                    // SAFETY: never published.
                    unsafe { Block::free(b) };
                }
                return Pushed::Closed(value);
            }
            let offset = cur & OFFSET_MASK;
            let new = if offset + 1 == BLOCK_CAP {
                let next = *spare.get_or_insert_with(Block::alloc);
                next.as_ptr() as usize
            } else {
                cur + 1
            };
            match self.word.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                Ok(_) => break ((cur & PTR_MASK) as *mut Block<T>, offset),
                Err(actual) => cur = actual,
            }
        };
        // SAFETY: our CAS claimed slot `offset` of `block`; the receiver
        // frees a block only after every slot's ready bit is set, and ours
        // is not, so the block is alive.
        let block = unsafe { &*block };
        if offset + 1 == BLOCK_CAP {
            let next = spare.take().expect("allocated for the last slot");
            // Linked before our ready bit: the receiver reads `next` only
            // after it saw the last slot ready.
            block.next.store(next.as_ptr(), Release);
        } else if let Some(b) = spare {
            // SAFETY: allocated in an earlier round of the loop, never
            // published.
            unsafe { Block::free(b) };
        }
        // SAFETY: the claim makes the slot ours until the ready bit is set.
        block.slots[offset].with_mut(|p| unsafe { (*p).write(value) });
        // Our last access to the block.
        let prev = block.ready.fetch_or(1 << offset, AcqRel);
        Pushed::Ok(prev & RX_WAITING != 0)
    }

    /// Closes the list: every later push fails. Idempotent.
    pub(crate) fn close(&self) {
        self.word.fetch_or(CLOSED, AcqRel);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.word.load(Acquire) & CLOSED != 0
    }
}

impl<T> Head<T> {
    /// Takes the next message if it is ready.
    pub(crate) fn pop(&mut self) -> Option<T> {
        // SAFETY: the receiver owns the head block until it frees it here.
        let block = unsafe { self.block.as_ref() };
        let ready = block.ready.load(Acquire);
        if ready & (1 << self.offset) == 0 {
            return None;
        }
        if self.waiting {
            // We are not sleeping any more: stop senders from waking us.
            self.waiting = false;
            block.ready.fetch_and(!RX_WAITING, Release);
        }
        // SAFETY: the ready bit (acquired above) says the slot was written,
        // and only the receiver reads it, once.
        let value = block.slots[self.offset].with(|p| unsafe { (*p).assume_init_read() });
        self.offset += 1;
        if self.offset == BLOCK_CAP {
            let next = block.next.load(Acquire);
            let old = std::mem::replace(
                &mut self.block,
                NonNull::new(next).expect("next block is linked before the last slot is ready"),
            );
            self.offset = 0;
            // SAFETY: every slot was read, and every sender of the block
            // made its last access (the ready bits we saw).
            unsafe { Block::free(old) };
        }
        Some(value)
    }

    /// Announces that the receiver is about to sleep waiting for the next
    /// slot. Returns `true` if that slot became ready meanwhile (then the
    /// caller pops instead of sleeping).
    pub(crate) fn prepare_wait(&mut self) -> bool {
        // SAFETY: the receiver owns the head block.
        let block = unsafe { self.block.as_ref() };
        self.waiting = true;
        let prev = block.ready.fetch_or(RX_WAITING, AcqRel);
        prev & (1 << self.offset) != 0
    }

    /// Whether the list is closed and every claimed slot was popped (no
    /// message can appear any more).
    pub(crate) fn is_drained(&self, tail: &Tail<T>) -> bool {
        let word = tail.word.load(Acquire);
        word & CLOSED != 0
            && word & PTR_MASK == self.block.as_ptr() as usize
            && word & OFFSET_MASK == self.offset
    }

    /// Messages claimed but not yet popped (some may still be being
    /// written).
    pub(crate) fn len(&self, tail: &Tail<T>) -> usize {
        let word = tail.word.load(Acquire);
        let tail_block = word & PTR_MASK;
        let tail_offset = word & OFFSET_MASK;
        let mut block = self.block;
        let mut n = 0usize;
        let mut offset = self.offset;
        // Walk our own chain (blocks we have not freed) until we reach the
        // tail's block.
        while block.as_ptr() as usize != tail_block {
            n += BLOCK_CAP - offset;
            offset = 0;
            // SAFETY: blocks from the head on are alive until we free them.
            let next = unsafe { block.as_ref() }.next.load(Acquire);
            match NonNull::new(next) {
                Some(b) => block = b,
                // The block after is being linked: count what we know.
                None => return n,
            }
        }
        n + tail_offset.saturating_sub(offset)
    }

    /// Drops every message still ready and frees every block (the channel
    /// is being destroyed: no sender or receiver remains).
    ///
    /// # Safety
    /// No other handle to the list exists.
    pub(crate) unsafe fn destroy(&mut self) {
        while self.pop().is_some() {}
        let mut block = Some(self.block);
        while let Some(b) = block {
            // SAFETY: no handle remains, so every block from the head on is
            // ours; `pop` already read or dropped every written slot.
            let next = unsafe { b.as_ref() }.next.load(Acquire);
            // SAFETY: as above.
            unsafe { Block::free(b) };
            block = NonNull::new(next);
        }
    }
}
