//! A hierarchical timing wheel: 6 levels of 64 slots, one tick per
//! millisecond, covering 64^6 ms (about 2.2 years) ahead of "now"; deadlines
//! further out are parked in the top level and re-sorted when their slot
//! comes up.
//!
//! Level `L` slot `s` holds entries whose deadline has digit `s` in base-64
//! position `L` and whose higher digits equal those of the wheel's elapsed
//! tick. Insert and remove are O(1) (intrusive doubly-linked slot lists plus
//! an occupancy bitmap per level); the next expiration is found from the
//! bitmaps with a rotate and a trailing-zeros count per level. When time
//! reaches a slot of a level above 0, its entries cascade to lower levels.
//!
//! This is a plain single-threaded data structure over intrusive nodes it
//! does not own: it must not lock, wake, or allocate. The caller (the timer
//! driver) owns the nodes' memory and guarantees a node is removed before it
//! is freed.

use std::ptr::NonNull;

const LEVELS: usize = 6;
const SLOTS: usize = 64;
const SLOT_BITS: u32 = 6;
/// Ticks the wheel can represent ahead of `elapsed`.
pub(crate) const MAX_RANGE: u64 = 1 << (SLOT_BITS as u64 * LEVELS as u64);

/// Sentinel for "not in the wheel".
const UNLINKED: u16 = u16::MAX;

/// The intrusive part of a timer entry. Lives inside the timer entry,
/// which is pinned; the wheel links it through raw pointers.
#[derive(Debug)]
pub(crate) struct Node {
    prev: Option<NonNull<Node>>,
    next: Option<NonNull<Node>>,
    /// The deadline tick this node is registered for.
    when: u64,
    /// `level * 64 + slot` of the list holding the node, or `UNLINKED`.
    position: u16,
}

impl Default for Node {
    fn default() -> Self {
        Node {
            prev: None,
            next: None,
            when: 0,
            position: UNLINKED,
        }
    }
}

impl Node {
    pub(crate) fn is_linked(&self) -> bool {
        self.position != UNLINKED
    }
}

/// One level's slots.
struct Level {
    occupied: u64,
    heads: [Option<NonNull<Node>>; SLOTS],
}

impl Level {
    const fn new() -> Level {
        Level {
            occupied: 0,
            heads: [None; SLOTS],
        }
    }
}

/// The wheel.
pub(crate) struct Wheel {
    /// Every deadline up to and including this tick has been handed out.
    elapsed: u64,
    levels: [Level; LEVELS],
    len: usize,
}

// SAFETY: the wheel only stores pointers to nodes; the driver that owns it
// keeps it behind a lock and guarantees those nodes stay valid while linked,
// so moving the wheel between threads moves no unsynchronized access.
unsafe impl Send for Wheel {}

/// A slot whose time has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expiration {
    level: usize,
    slot: usize,
    /// The first tick the slot covers.
    deadline: u64,
}

impl Default for Wheel {
    fn default() -> Self {
        Self::new()
    }
}

impl Wheel {
    pub(crate) const fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            levels: [const { Level::new() }; LEVELS],
            len: 0,
        }
    }

    /// The last tick processed.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of linked nodes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Links `node` for tick `when`. Returns `Err(())` without linking when
    /// `when` has already been processed: the caller fires it at once.
    ///
    /// # Safety
    /// `node` is valid, not linked, and stays valid (pinned) until it is
    /// removed or returned by `poll`.
    pub(crate) unsafe fn insert(&mut self, mut node: NonNull<Node>, when: u64) -> Result<(), ()> {
        if when <= self.elapsed {
            return Err(());
        }
        let (level, slot) = self.position_for(when);
        // SAFETY: per the contract the node is valid and not linked, so we
        // have exclusive access to its fields.
        let n = unsafe { node.as_mut() };
        debug_assert!(!n.is_linked());
        n.when = when;
        n.position = (level * SLOTS + slot) as u16;
        n.prev = None;
        n.next = self.levels[level].heads[slot];
        if let Some(mut old) = n.next {
            // SAFETY: linked nodes are valid (contract of insert).
            unsafe { old.as_mut().prev = Some(node) };
        }
        self.levels[level].heads[slot] = Some(node);
        self.levels[level].occupied |= 1 << slot;
        self.len += 1;
        Ok(())
    }

    /// Unlinks `node` if it is linked.
    ///
    /// # Safety
    /// `node` is valid, and if linked, linked in this wheel.
    pub(crate) unsafe fn remove(&mut self, mut node: NonNull<Node>) {
        // SAFETY: valid per the contract; linked neighbours are valid.
        unsafe {
            let n = node.as_mut();
            if !n.is_linked() {
                return;
            }
            let level = n.position as usize / SLOTS;
            let slot = n.position as usize % SLOTS;
            match n.prev {
                Some(mut prev) => prev.as_mut().next = n.next,
                None => self.levels[level].heads[slot] = n.next,
            }
            if let Some(mut next) = n.next {
                next.as_mut().prev = n.prev;
            }
            if self.levels[level].heads[slot].is_none() {
                self.levels[level].occupied &= !(1 << slot);
            }
            n.prev = None;
            n.next = None;
            n.position = UNLINKED;
        }
        self.len -= 1;
    }

    /// The tick of the earliest linked node's slot, if any: the wheel must
    /// be polled at this tick. (Within a slot of level > 0 the exact
    /// deadlines may be later: polling then cascades them.)
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_expiration_slot().map(|e| e.deadline)
    }

    fn next_expiration_slot(&self) -> Option<Expiration> {
        for level in 0..LEVELS {
            if let Some(e) = self.next_in_level(level) {
                return Some(e);
            }
        }
        None
    }

    fn next_in_level(&self, level: usize) -> Option<Expiration> {
        let occupied = self.levels[level].occupied;
        if occupied == 0 {
            return None;
        }
        let shift = SLOT_BITS * level as u32;
        let now_slot = ((self.elapsed >> shift) % SLOTS as u64) as u32;
        // Rotate so that the current slot is bit 0, then find the first
        // occupied slot at or after it.
        let distance = occupied.rotate_right(now_slot).trailing_zeros() as u64;
        let slot = (now_slot as u64 + distance) % SLOTS as u64;
        let slot_span = 1u64 << shift;
        let level_span = slot_span << SLOT_BITS;
        let base = self.elapsed & !(level_span - 1);
        let mut deadline = base + slot * slot_span;
        if deadline <= self.elapsed && distance > 0 {
            // Wrapped past the end of this level: next revolution.
            deadline += level_span;
        }
        Some(Expiration {
            level,
            slot: slot as usize,
            deadline,
        })
    }

    /// Returns one node whose deadline is at or before `now`, unlinked, or
    /// `None` when there is none left (then `elapsed` is `now`).
    ///
    /// # Safety
    /// Every linked node is valid (contract of `insert`).
    pub(crate) unsafe fn poll(&mut self, now: u64) -> Option<NonNull<Node>> {
        loop {
            // Level 0 slot of the current tick may hold expired nodes.
            if let Some(node) = self.take_expired_from_current() {
                return Some(node);
            }
            let Some(exp) = self.next_expiration_slot() else {
                self.elapsed = self.elapsed.max(now);
                return None;
            };
            if exp.deadline > now {
                self.elapsed = self.elapsed.max(now);
                return None;
            }
            self.elapsed = self.elapsed.max(exp.deadline);
            // Cascade (or expire) every node of that slot.
            let mut head = self.levels[exp.level].heads[exp.slot].take();
            self.levels[exp.level].occupied &= !(1 << exp.slot);
            while let Some(mut node) = head {
                // SAFETY: linked nodes are valid; we own the list now.
                let n = unsafe { node.as_mut() };
                head = n.next;
                n.prev = None;
                n.next = None;
                n.position = UNLINKED;
                self.len -= 1;
                let when = n.when;
                // SAFETY: the node is valid and unlinked. Expired nodes are
                // re-inserted into the current level-0 slot below.
                if unsafe { self.insert(node, when) }.is_err() {
                    self.park_expired(node);
                }
            }
        }
    }

    /// Expired nodes found while cascading wait in a dedicated list (the
    /// current level-0 slot is reused: `elapsed`'s own slot can hold no
    /// future deadline, since those are strictly greater than `elapsed`).
    fn park_expired(&mut self, mut node: NonNull<Node>) {
        let slot = (self.elapsed % SLOTS as u64) as usize;
        // SAFETY: the node is valid and unlinked (caller).
        let n = unsafe { node.as_mut() };
        n.position = slot as u16;
        n.prev = None;
        n.next = self.levels[0].heads[slot];
        if let Some(mut old) = n.next {
            // SAFETY: linked nodes are valid.
            unsafe { old.as_mut().prev = Some(node) };
        }
        self.levels[0].heads[slot] = Some(node);
        self.levels[0].occupied |= 1 << slot;
        self.len += 1;
    }

    fn take_expired_from_current(&mut self) -> Option<NonNull<Node>> {
        let slot = (self.elapsed % SLOTS as u64) as usize;
        let node = self.levels[0].heads[slot]?;
        // SAFETY: linked nodes are valid.
        let when = unsafe { node.as_ref().when };
        if when > self.elapsed {
            // A future deadline one revolution ahead cannot sit here (see
            // `park_expired`), but be robust: leave it.
            return None;
        }
        // SAFETY: node is linked in this wheel.
        unsafe { self.remove(node) };
        Some(node)
    }

    /// Level and slot for a deadline `when > elapsed`.
    fn position_for(&self, when: u64) -> (usize, usize) {
        const TOP: usize = LEVELS - 1;
        const TOP_SHIFT: u32 = SLOT_BITS * TOP as u32;
        // The top level's slot just behind the current one, one revolution
        // ahead, is the farthest position the wheel can express. Deadlines
        // at or beyond its start wait there and are re-sorted when it comes
        // up (never late: the slot starts no later than they are due).
        let farthest =
            (self.elapsed & !((1u64 << TOP_SHIFT) - 1)) + MAX_RANGE - (1u64 << TOP_SHIFT);
        if when >= farthest {
            let current = (self.elapsed >> TOP_SHIFT) % SLOTS as u64;
            return (TOP, ((current + SLOTS as u64 - 1) % SLOTS as u64) as usize);
        }
        // The highest base-64 digit where `when` differs from `elapsed`.
        // Below `farthest`, that digit of `when` is never the current one,
        // so no slot mixes two revolutions.
        let masked = (self.elapsed ^ when) | (SLOTS as u64 - 1);
        let significant = 63 - masked.leading_zeros();
        let level = ((significant / SLOT_BITS) as usize).min(TOP);
        let slot = ((when >> (SLOT_BITS * level as u32)) % SLOTS as u64) as usize;
        (level, slot)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A wheel and the nodes it links, owned together so every node
    /// outlives its membership in the wheel.
    struct Harness {
        wheel: Wheel,
        nodes: Vec<NonNull<Node>>,
    }

    impl Harness {
        fn new(n: usize) -> Harness {
            Harness {
                wheel: Wheel::new(),
                nodes: (0..n)
                    .map(|_| NonNull::from(Box::leak(Box::default())))
                    .collect(),
            }
        }

        fn insert(&mut self, i: usize, when: u64) -> Result<(), ()> {
            assert!(!self.is_linked(i), "tests only insert unlinked nodes");
            // SAFETY: the node is a live heap allocation owned by the harness
            // (freed only in Drop) and is not linked.
            unsafe { self.wheel.insert(self.nodes[i], when) }
        }

        fn remove(&mut self, i: usize) {
            // SAFETY: the node is live; if linked, it is linked in this wheel.
            unsafe { self.wheel.remove(self.nodes[i]) }
        }

        fn is_linked(&self, i: usize) -> bool {
            // SAFETY: the node is live and nothing mutates it concurrently.
            unsafe { self.nodes[i].as_ref().is_linked() }
        }

        /// Everything due at `now`, as (index, when) pairs.
        fn drain(&mut self, now: u64) -> Vec<(usize, u64)> {
            let mut out = Vec::new();
            // SAFETY: every linked node is a live allocation of the harness.
            while let Some(p) = unsafe { self.wheel.poll(now) } {
                let i = self.nodes.iter().position(|&n| n == p).unwrap();
                // SAFETY: as above; the node was just unlinked.
                out.push((i, unsafe { p.as_ref().when }));
            }
            out
        }
    }

    impl Drop for Harness {
        fn drop(&mut self) {
            for &n in &self.nodes {
                // SAFETY: allocated by `Box::leak` in `new`; the wheel is not
                // used again (it is dropped with the harness).
                drop(unsafe { Box::from_raw(n.as_ptr()) });
            }
        }
    }

    #[test]
    fn fires_in_order_and_never_early() {
        let deadlines = [
            1u64, 2, 63, 64, 65, 100, 4095, 4096, 4097, 300_000, 20_000_000,
        ];
        let mut h = Harness::new(deadlines.len());
        for (i, &d) in deadlines.iter().enumerate() {
            h.insert(i, d).unwrap();
        }
        assert_eq!(h.wheel.len(), deadlines.len());
        let mut fired = Vec::new();
        let mut now = 0;
        while h.wheel.len() > 0 {
            let next = h.wheel.next_expiration().unwrap();
            assert!(
                next > now || next == h.wheel.elapsed(),
                "next {next} now {now}"
            );
            now = next;
            for (i, when) in h.drain(now) {
                assert!(when <= now, "fired {when} early at {now}");
                fired.push((i, when));
            }
        }
        let whens: Vec<u64> = fired.iter().map(|&(_, w)| w).collect();
        assert_eq!(whens, deadlines);
    }

    #[test]
    fn exact_tick_fire_for_every_deadline_in_a_range() {
        // Every deadline fires exactly at its own tick when polled tick by tick.
        let n = 5000;
        let mut h = Harness::new(n);
        for i in 0..n {
            h.insert(i, (i as u64 * 7919) % 20_000 + 1).unwrap();
        }
        for now in 1..=20_000u64 {
            for (_, when) in h.drain(now) {
                assert_eq!(when, now);
            }
        }
        assert_eq!(h.wheel.len(), 0);
    }

    #[test]
    fn jumping_far_ahead_fires_everything_due() {
        let mut h = Harness::new(3);
        h.insert(0, 10).unwrap();
        h.insert(1, 5_000_000).unwrap();
        h.insert(2, 5_000_001).unwrap();
        let fired = h.drain(5_000_000);
        assert_eq!(
            fired.iter().map(|f| f.1).collect::<Vec<_>>(),
            vec![10, 5_000_000]
        );
        assert_eq!(h.wheel.elapsed(), 5_000_000);
        assert_eq!(h.wheel.next_expiration(), Some(5_000_001));
    }

    #[test]
    fn remove_is_o1_and_clears_occupancy() {
        let mut h = Harness::new(4);
        h.insert(0, 70).unwrap();
        h.insert(1, 70).unwrap();
        h.insert(2, 70).unwrap();
        h.insert(3, 9).unwrap();
        h.remove(1);
        h.remove(3);
        // Removing twice is harmless.
        h.remove(3);
        assert_eq!(h.wheel.len(), 2);
        assert_eq!(h.wheel.next_expiration(), Some(64));
        let fired = h.drain(100);
        let mut idx: Vec<usize> = fired.iter().map(|f| f.0).collect();
        idx.sort();
        assert_eq!(idx, vec![0, 2]);
        h.remove(0);
        assert_eq!(h.wheel.next_expiration(), None);
    }

    #[test]
    fn past_deadlines_are_refused() {
        let mut h = Harness::new(2);
        assert!(h.drain(50).is_empty());
        assert!(h.insert(0, 50).is_err());
        assert!(h.insert(1, 49).is_err());
        assert_eq!(h.wheel.len(), 0);
        assert!(!h.is_linked(0));
    }

    #[test]
    fn beyond_range_is_parked_and_resorted() {
        let mut h = Harness::new(2);
        let far = MAX_RANGE * 3 + 12345;
        h.insert(0, far).unwrap();
        h.insert(1, u64::MAX / 2).unwrap();
        // Walk time forward in big steps: never fires early, fires exactly
        // once its deadline is reached.
        let mut now = 0u64;
        let mut fired = Vec::new();
        while now < far + 10 {
            now = h.wheel.next_expiration().unwrap().max(now + 1);
            for (i, when) in h.drain(now) {
                assert!(when <= now);
                fired.push(i);
            }
        }
        assert_eq!(fired, vec![0]);
        assert_eq!(h.wheel.len(), 1);
    }

    #[test]
    fn deadlines_across_a_top_level_revolution() {
        // `elapsed` just before a 2^36 boundary; deadlines whose top digit
        // equals the current one but one revolution later must not be
        // confused with the current slot (they would cascade forever).
        let mut h = Harness::new(4);
        let start = MAX_RANGE - 5;
        assert!(h.drain(start).is_empty());
        let deadlines = [
            MAX_RANGE + 10,
            2 * MAX_RANGE - 10,
            start + MAX_RANGE - 1,
            start + 1,
        ];
        for (i, &d) in deadlines.iter().enumerate() {
            h.insert(i, d).unwrap();
        }
        let mut fired = Vec::new();
        let mut now = start;
        for _ in 0..10_000 {
            let Some(next) = h.wheel.next_expiration() else {
                break;
            };
            assert!(next >= h.wheel.elapsed());
            now = next.max(now);
            for (i, when) in h.drain(now) {
                assert!(when <= now, "{when} fired early at {now}");
                fired.push((when, i));
            }
            if h.wheel.next_expiration() == Some(now) {
                now += 1;
            }
        }
        let mut expected: Vec<(u64, usize)> = deadlines.iter().copied().zip(0..).collect();
        expected.sort();
        assert_eq!(fired, expected);
    }

    #[test]
    fn randomized_against_a_sorted_model() {
        // A deterministic pseudo-random workload of inserts, removes and
        // polls, checked against a simple model.
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let n = 2000;
        let mut h = Harness::new(n);
        let mut model: Vec<Option<u64>> = vec![None; n];
        let mut now = 0u64;
        for _ in 0..50_000 {
            let i = (next() % n as u64) as usize;
            match next() % 4 {
                0 | 1 => {
                    if model[i].is_none() {
                        let when = now + 1 + next() % 300_000;
                        h.insert(i, when).unwrap();
                        model[i] = Some(when);
                    }
                }
                2 => {
                    h.remove(i);
                    model[i] = None;
                }
                _ => {
                    now += next() % 5000;
                    for (j, when) in h.drain(now) {
                        assert_eq!(model[j], Some(when));
                        assert!(when <= now);
                        model[j] = None;
                    }
                    // Nothing due is left behind.
                    assert!(model.iter().flatten().all(|&w| w > now));
                    let min = model.iter().flatten().min().copied();
                    if let (Some(min), Some(next_exp)) = (min, h.wheel.next_expiration()) {
                        assert!(
                            next_exp <= min,
                            "next expiration {next_exp} after earliest {min}"
                        );
                    }
                    assert_eq!(min.is_some(), h.wheel.next_expiration().is_some());
                }
            }
            assert_eq!(h.wheel.len(), model.iter().flatten().count());
        }
    }

    /// Property test: random sequences of inserts, removes and advances
    /// (deadlines and jumps drawn around every level's span, the farthest
    /// slot and beyond the wheel's range) against an ordered-map model.
    /// After every advance to `now` the wheel has fired exactly the model's
    /// entries due by `now` (never early, never late), in non-decreasing
    /// deadline order (the wheel's granularity: one tick of level 0, and
    /// higher slots cascade down before anything in them fires); refuses
    /// exactly the deadlines already processed; and reports a next
    /// expiration that is after `now` and no later than the earliest
    /// deadline. `PROPTEST_CASES` sets the number of sequences (64).
    mod props {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeSet;

        const IDS: usize = 24;

        #[derive(Debug, Clone)]
        enum Op {
            Insert { id: usize, delta: u64 },
            Remove { id: usize },
            Advance { by: u64 },
        }

        /// Offsets from the wheel's elapsed tick: the past and present,
        /// small, around each level's span, around the range, far beyond.
        fn offset() -> impl Strategy<Value = u64> {
            let level_edges = (1u32..=6, 0u64..3, prop::bool::ANY).prop_map(|(k, d, above)| {
                let span = 1u64 << (6 * k);
                if above { span + d } else { span - 1 - d }
            });
            prop_oneof![
                2 => 0u64..=2,
                4 => 1u64..64,
                3 => 1u64..5_000,
                3 => level_edges,
                2 => 1u64..(1 << 30),
                1 => (MAX_RANGE - 70_000)..(MAX_RANGE + 70_000),
                1 => (1u64 << 36)..(1u64 << 44),
            ]
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                5 => (0..IDS, offset()).prop_map(|(id, delta)| Op::Insert { id, delta }),
                2 => (0..IDS).prop_map(|id| Op::Remove { id }),
                3 => offset().prop_map(|by| Op::Advance { by }),
            ]
        }

        /// 64 sequences unless `PROPTEST_CASES` says otherwise.
        fn config() -> ProptestConfig {
            let mut config = ProptestConfig::default();
            if std::env::var_os("PROPTEST_CASES").is_none() {
                config.cases = 64;
            }
            config
        }

        proptest! {
            #![proptest_config(config())]
            #[test]
            fn wheel_matches_an_ordered_map(ops in prop::collection::vec(op(), 1..200)) {
                let mut h = Harness::new(IDS);
                let mut model: BTreeSet<(u64, usize)> = BTreeSet::new();
                let mut when_of: Vec<Option<u64>> = vec![None; IDS];
                let mut now = 0u64;
                for op in ops {
                    match op {
                        Op::Insert { id, delta } => {
                            if when_of[id].is_some() {
                                continue;
                            }
                            let when = now.saturating_add(delta);
                            let res = h.insert(id, when);
                            // Refused exactly when the tick was processed.
                            prop_assert_eq!(res.is_err(), when <= now, "insert at {} (now {})", when, now);
                            if res.is_ok() {
                                model.insert((when, id));
                                when_of[id] = Some(when);
                            }
                        }
                        Op::Remove { id } => {
                            h.remove(id);
                            if let Some(when) = when_of[id].take() {
                                model.remove(&(when, id));
                            }
                        }
                        Op::Advance { by } => {
                            now = now.saturating_add(by).min(u64::MAX - (1 << 45));
                            let fired = h.drain(now);
                            prop_assert_eq!(h.wheel.elapsed(), now);
                            // In non-decreasing deadline order, each as linked.
                            for pair in fired.windows(2) {
                                prop_assert!(pair[0].1 <= pair[1].1, "fired {:?} before {:?}", pair[0], pair[1]);
                            }
                            for &(id, when) in &fired {
                                prop_assert_eq!(when_of[id], Some(when));
                                prop_assert!(when <= now, "{} fired early at {}", when, now);
                            }
                            // Exactly the model's due entries.
                            let mut got: Vec<(u64, usize)> = fired.iter().map(|&(i, w)| (w, i)).collect();
                            got.sort_unstable();
                            let due: Vec<(u64, usize)> = model.range(..=(now, usize::MAX)).copied().collect();
                            prop_assert_eq!(&got, &due);
                            for (when, id) in due {
                                model.remove(&(when, id));
                                when_of[id] = None;
                            }
                        }
                    }
                    prop_assert_eq!(h.wheel.len(), model.len());
                    let next = h.wheel.next_expiration();
                    match model.first() {
                        None => prop_assert_eq!(next, None),
                        Some(&(earliest, _)) => {
                            let next = next.expect("a next expiration while timers are linked");
                            prop_assert!(next > now && next <= earliest,
                                "next expiration {} (now {}, earliest deadline {})", next, now, earliest);
                        }
                    }
                }
            }
        }
    }
}
