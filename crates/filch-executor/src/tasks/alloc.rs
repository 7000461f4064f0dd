//! Where task cells come from and go back to: a recycling cache in front of
//! the global allocator.
//!
//! Why: a task is often freed on another thread than the one that spawned
//! it (spawned from outside or by one worker, completed on another). With
//! glibc's allocator such a free takes the lock of the spawning thread's
//! arena, which that thread holds for its own allocations, so spawn-heavy
//! work between threads spends its time in futex waits on that lock
//! (measured: 99 % of the futex calls of `spawn_many_local`, see
//! `docs/benchmarks.md`). Here a freed cell goes to the freeing thread's cache and
//! moves between threads in batches through a global stock, one lock per
//! batch of cells.
//!
//! Shape:
//! * Cells up to [`MAX_POOLED`] bytes with an alignment of at most 64 are
//!   pooled by size class (multiples of [`GRAIN`] bytes); every block of a
//!   class has the class's layout, so any cell of that class fits any of
//!   its blocks. Larger or more aligned cells go to the global allocator
//!   directly.
//! * Every block starts on a cache line ([`BLOCK_ALIGN`]), so no line holds
//!   parts of two cells. glibc packs 16-aligned chunks back to back, and
//!   two tasks polled on different workers then wrote one line (one's
//!   future state at its end, the next one's state word at its start):
//!   line-aligned blocks made yield_many 0.80x the time. The alignment is
//!   done here, not with `posix_memalign` (slow, and 381 bytes per pending
//!   task against 224 unaligned): a block's raw allocation is 64 bytes
//!   larger, the block starts at the first line boundary at least a word
//!   into it, and that word keeps the raw address for the free.
//! * Each thread keeps up to [`LOCAL_BYTES`] of free blocks per class (and
//!   at least 8 blocks). An empty bin refills with up to half of that from
//!   the class's global stock; a full one moves half of itself there.
//!   Taking a block prefetches the next one in the bin: a spawner outside
//!   the workers gets back cells a worker freed, whose lines that worker
//!   still holds, and the fetch then overlaps this spawn instead of
//!   stalling the next one at its first locked instruction
//!   (spawn_many_local 0.90-0.96x the time).
//! * The stock is elastic: between trims it keeps up to
//!   [`BUSY_STOCK_BYTES`] per class and [`BUSY_TOTAL_BYTES`] in all beyond
//!   the idle caps (one shared count of those bytes, touched only while a
//!   stock is above its idle cap, so steady traffic writes no shared
//!   counter), and
//!   frees the rest, so that a burst's cells come back to the next burst.
//!   Two shapes need it. A spawner that outruns the workers (10,000 spawns
//!   from outside) builds a backlog of live cells; when it drains, the
//!   workers' frees must find room in the stock or go to the spawner's
//!   glibc arena, whose lock the spawner holds for its own allocations
//!   (with an 8 KiB stock, 14 % of `spawn_many_local`'s cells went that way
//!   and made 87 % of its futex calls). And a spawner that frees what it
//!   spawned (it drops 10,000 join handles) finds its cells in the stock
//!   instead of allocating them again (`remote_idle`: 0.65x the time with
//!   the 8 KiB stock).
//! * Once a runtime has been idle for a moment (its last worker to park
//!   wakes after `TRIM_DELAY`, 10 ms, if [`has_surplus`]), [`trim`] cuts
//!   each stock back to [`STOCK_BYTES`], so what the cache holds at idle
//!   stays small: per class, 4 KiB per thread and 8 KiB in the stock.
//!   Small on purpose: every cached block can pin a page the allocator
//!   would otherwise return (with 16 and 64 KiB kept at idle, the stress
//!   suite's idle-memory test grew by up to 14 % after a million tasks,
//!   against up to 6 % without a cache and 7 % with these). Trimming as
//!   soon as the last worker parked freed the stock between every two
//!   bursts and made four times the futex calls. A surplus that a thread
//!   other than a worker (a `block_on` caller dropping join handles) gives
//!   the stock after the last worker parked stays until the runtime next
//!   goes idle.
//! * A thread's bins go to the stock (or are freed) when it exits; a cell
//!   allocated or freed after its thread's cache is gone (during other
//!   thread-local destructors) bypasses it.
//!
//! Not an atomic protocol: every block is owned by exactly one of a thread's
//! bin (thread-local), a class stock (under its mutex) or a live cell.
//! Under `cfg(loom)` the cache is bypassed, so models see plain allocations.
//!
//! This module must not know what a cell contains: it hands out and takes
//! back memory for a layout.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::ptr::NonNull;

/// Size classes are multiples of this many bytes.
const GRAIN: usize = 16;
/// Number of size classes.
const CLASSES: usize = 64;
/// The largest pooled cell.
const MAX_POOLED: usize = GRAIN * CLASSES;
/// The alignment of every pooled block: a cache line, so that no line
/// holds parts of two cells (see the module docs).
const BLOCK_ALIGN: usize = 64;
/// The alignment glibc's `malloc` gives, and so that of a block's raw
/// allocation (a larger one would go through `posix_memalign`).
const MALLOC_ALIGN: usize = 16;
/// Bytes of free blocks a thread keeps per class.
#[cfg(not(loom))]
const LOCAL_BYTES: usize = 4 << 10;
/// Bytes of free blocks the stock keeps per class at idle ([`trim`]).
#[cfg(not(loom))]
const STOCK_BYTES: usize = 8 << 10;
/// Bytes of free blocks the stock keeps per class between trims.
#[cfg(not(loom))]
const BUSY_STOCK_BYTES: usize = 2 << 20;
/// Bytes of free blocks the stocks of all classes keep between trims
/// beyond what each keeps at idle.
#[cfg(not(loom))]
const BUSY_TOTAL_BYTES: usize = 8 << 20;

/// Free blocks a thread keeps of `class`.
#[cfg(not(loom))] // the cache is bypassed under loom
const fn local_cap(class: usize) -> usize {
    let n = LOCAL_BYTES / ((class + 1) * GRAIN);
    if n < 8 { 8 } else { n }
}

/// Blocks moved between a thread and the stock at once.
#[cfg(not(loom))] // the cache is bypassed under loom
const fn batch(class: usize) -> usize {
    local_cap(class) / 2
}

/// Free blocks the stock keeps of `class` at idle.
#[cfg(not(loom))] // the cache is bypassed under loom
const fn stock_cap(class: usize) -> usize {
    let n = STOCK_BYTES / ((class + 1) * GRAIN);
    if n < 16 { 16 } else { n }
}

/// Free blocks the stock keeps of `class` while busy.
#[cfg(not(loom))] // the cache is bypassed under loom
const fn busy_stock_cap(class: usize) -> usize {
    let n = BUSY_STOCK_BYTES / ((class + 1) * GRAIN);
    if n < 64 { 64 } else { n }
}

/// A free block's address. Whoever holds it owns the memory.
struct Block(NonNull<u8>);

// SAFETY: a free block is memory nobody else refers to; handing the pointer
// to another thread hands over that memory, as a `Box` would.
unsafe impl Send for Block {}

fn class_of(layout: Layout) -> Option<usize> {
    (layout.align() <= BLOCK_ALIGN && layout.size() <= MAX_POOLED)
        .then(|| layout.size().max(1).div_ceil(GRAIN) - 1)
}

/// What a block of `class` holds: the largest layout it serves.
#[cfg(not(loom))] // only the cache, bypassed under loom, needs it
fn class_layout(class: usize) -> Layout {
    // Never fails: a non-zero size far below `isize::MAX`, a power-of-two
    // alignment.
    Layout::from_size_align((class + 1) * GRAIN, BLOCK_ALIGN).expect("valid class layout")
}

/// The raw allocation behind a block of `class`: the block, and room
/// below it to move its start to a line boundary and to keep the raw
/// address in the word just below the block.
fn raw_layout(class: usize) -> Layout {
    Layout::from_size_align((class + 1) * GRAIN + BLOCK_ALIGN, MALLOC_ALIGN)
        .expect("valid raw block layout")
}

/// A new block of `class`, from the global allocator.
fn new_block(class: usize) -> NonNull<u8> {
    let raw = system_alloc(raw_layout(class));
    let addr = raw.as_ptr() as usize;
    // The first line boundary at least a word above `raw`: 16 to 64 bytes
    // above it, since `raw` is 16-aligned.
    let offset = (addr + size_of::<usize>()).next_multiple_of(BLOCK_ALIGN) - addr;
    debug_assert!((size_of::<usize>()..=BLOCK_ALIGN).contains(&offset));
    // SAFETY: `offset <= BLOCK_ALIGN`, and the raw allocation has
    // `BLOCK_ALIGN` bytes beyond the block's size, so the whole block is
    // inside it; the word below the block starts at `offset - 8 >= 0`
    // bytes into the allocation, outside the block (no cell writes there),
    // and is aligned for a pointer (the block is 64-aligned).
    unsafe {
        let block = raw.as_ptr().add(offset);
        block.cast::<*mut u8>().sub(1).write(raw.as_ptr());
        NonNull::new_unchecked(block)
    }
}

fn system_alloc(layout: Layout) -> NonNull<u8> {
    // SAFETY: every layout passed here has a non-zero size (a task header
    // alone is 64 bytes; classes start at `GRAIN`).
    let ptr = unsafe { alloc(layout) };
    NonNull::new(ptr).unwrap_or_else(|| handle_alloc_error(layout))
}

/// Memory for a value of `layout`.
#[inline]
pub(crate) fn allocate(layout: Layout) -> NonNull<u8> {
    match class_of(layout) {
        Some(class) => imp::take(class).unwrap_or_else(|| new_block(class)),
        None => system_alloc(layout),
    }
}

/// Gives back memory from [`allocate`] with the same `layout`.
///
/// # Safety
/// `ptr` came from `allocate(layout)` and is not used afterwards.
#[inline]
pub(crate) unsafe fn release(ptr: NonNull<u8>, layout: Layout) {
    match class_of(layout) {
        Some(class) => imp::give(class, Block(ptr)),
        // SAFETY: per the contract, `ptr` came from `system_alloc(layout)`.
        None => unsafe { dealloc(ptr.as_ptr(), layout) },
    }
}

/// Whether a stock holds more than it keeps at idle (one relaxed load).
#[inline]
pub(crate) fn has_surplus() -> bool {
    imp::has_surplus()
}

/// Frees the stock's blocks beyond what it keeps at idle (a runtime has
/// been idle for a moment).
pub(crate) fn trim() {
    imp::trim();
}

/// Asks the CPU to fetch the `size` bytes at `ptr`, which this thread is
/// about to write (a hint only: it never faults and changes no memory).
#[cfg(not(loom))] // the cache is bypassed under loom
#[inline]
fn prefetch_for_write(ptr: NonNull<u8>, size: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_ET0, _mm_prefetch};
        let mut off = 0;
        while off < size {
            // SAFETY: a prefetch is a hint: it reads nothing the program
            // sees and cannot fault, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_ET0>(ptr.as_ptr().wrapping_add(off).cast()) };
            off += BLOCK_ALIGN;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (ptr, size);
}

/// Frees a pooled block for good.
fn free_block(class: usize, block: Block) {
    // SAFETY: every pooled block of `class` came from `new_block(class)`,
    // which wrote the raw allocation's address in the word below the block
    // (outside it, so no cell has overwritten it), and that allocation has
    // `raw_layout(class)`; the caller owns the block.
    unsafe {
        let raw = block.0.as_ptr().cast::<*mut u8>().sub(1).read();
        dealloc(raw, raw_layout(class));
    }
}

#[cfg(not(loom))]
mod imp {
    use super::*;
    use parking_lot::Mutex;
    use std::cell::RefCell;
    use std::sync::atomic::AtomicUsize;
    use std::sync::atomic::Ordering::Relaxed;

    /// The global stock of one class.
    struct Stock {
        blocks: Mutex<Vec<Block>>,
        /// `blocks.len()`, written under the lock and read without it as a
        /// hint: an empty or full stock is not locked for nothing. A stale
        /// value only costs one refill or one kept block (never safety:
        /// blocks move only under the lock).
        len: AtomicUsize,
    }

    /// Bytes the stocks hold beyond their idle caps (`stock_cap`), changed
    /// under each class's lock as its stock crosses that cap: the bound of
    /// [`BUSY_TOTAL_BYTES`] holds to within one batch per thread, and a
    /// non-zero value is what `trim` has to do.
    static SURPLUS: AtomicUsize = AtomicUsize::new(0);

    /// Bytes of `len` blocks of `class` beyond its idle cap.
    fn surplus_bytes(class: usize, len: usize) -> usize {
        len.saturating_sub(stock_cap(class)) * class_layout(class).size()
    }

    /// Counts a change of the stock of `class` from `before` to `after`
    /// blocks in [`SURPLUS`] (no write while both are within the idle cap).
    fn account(class: usize, before: usize, after: usize) {
        let (old, new) = (surplus_bytes(class, before), surplus_bytes(class, after));
        if new > old {
            SURPLUS.fetch_add(new - old, Relaxed);
        } else if old > new {
            SURPLUS.fetch_sub(old - new, Relaxed);
        }
    }

    static STOCK: [Stock; CLASSES] = [const {
        Stock {
            blocks: Mutex::new(Vec::new()),
            len: AtomicUsize::new(0),
        }
    }; CLASSES];

    /// One thread's free blocks, per class.
    struct Bins([Vec<Block>; CLASSES]);

    impl Drop for Bins {
        fn drop(&mut self) {
            for (class, bin) in self.0.iter_mut().enumerate() {
                if !bin.is_empty() {
                    to_stock(class, bin.drain(..));
                }
            }
        }
    }

    thread_local! {
        static BINS: RefCell<Bins> = const { RefCell::new(Bins([const { Vec::new() }; CLASSES])) };
    }

    /// Moves `blocks` to the class's stock, freeing what does not fit
    /// (outside the lock).
    fn to_stock(class: usize, mut blocks: impl ExactSizeIterator<Item = Block>) {
        let stock = &STOCK[class];
        let cap = busy_stock_cap(class);
        if stock.len.load(Relaxed) < cap {
            let mut kept = stock.blocks.lock();
            let before = kept.len();
            let idle_room = stock_cap(class).saturating_sub(before);
            let budget_room =
                BUSY_TOTAL_BYTES.saturating_sub(SURPLUS.load(Relaxed)) / class_layout(class).size();
            let room = cap.saturating_sub(before).min(idle_room + budget_room);
            kept.extend(blocks.by_ref().take(room));
            account(class, before, kept.len());
            stock.len.store(kept.len(), Relaxed);
        }
        blocks.for_each(|block| free_block(class, block));
    }

    pub(super) fn has_surplus() -> bool {
        SURPLUS.load(Relaxed) != 0
    }

    /// Blocks the stock of `class` holds (for tests).
    #[cfg(test)]
    pub(super) fn stock_len(class: usize) -> usize {
        STOCK[class].blocks.lock().len()
    }

    pub(super) fn trim() {
        for (class, stock) in STOCK.iter().enumerate() {
            let cap = stock_cap(class);
            if stock.len.load(Relaxed) <= cap {
                continue;
            }
            // Split off under the lock, free outside it.
            let surplus = {
                let mut kept = stock.blocks.lock();
                // Keep the lowest addresses: blocks that sit together pin
                // fewer pages than as many scattered over the heap.
                kept.sort_unstable_by_key(|b| b.0.as_ptr() as usize);
                let before = kept.len();
                let surplus = kept.split_off(cap.min(before));
                account(class, before, kept.len());
                if kept.capacity() > 4 * cap {
                    kept.shrink_to(cap);
                }
                stock.len.store(kept.len(), Relaxed);
                surplus
            };
            surplus
                .into_iter()
                .for_each(|block| free_block(class, block));
        }
    }

    /// A free block of `class`, if this thread or the stock has one.
    pub(super) fn take(class: usize) -> Option<NonNull<u8>> {
        BINS.try_with(|bins| {
            let mut bins = bins.try_borrow_mut().ok()?;
            let bin = &mut bins.0[class];
            if bin.is_empty() && STOCK[class].len.load(Relaxed) > 0 {
                let stock = &STOCK[class];
                let mut kept = stock.blocks.lock();
                let before = kept.len();
                let from = before.saturating_sub(batch(class));
                bin.extend(kept.drain(from..));
                account(class, before, from);
                stock.len.store(kept.len(), Relaxed);
            }
            let block = bin.pop().map(|b| b.0);
            if let Some(next) = bin.last() {
                prefetch_for_write(next.0, class_layout(class).size());
            }
            block
        })
        .ok()
        .flatten()
    }

    /// Keeps a freed block of `class` for reuse.
    pub(super) fn give(class: usize, block: Block) {
        let kept = BINS.try_with(|bins| {
            let Ok(mut bins) = bins.try_borrow_mut() else {
                return Err(block);
            };
            let bin = &mut bins.0[class];
            if bin.len() >= local_cap(class) {
                let from = bin.len() - batch(class);
                to_stock(class, bin.drain(from..));
            } else if bin.capacity() == 0 {
                bin.reserve_exact(local_cap(class));
            }
            bin.push(block);
            Ok(())
        });
        match kept {
            Ok(Ok(())) => {}
            // The bins are borrowed (cannot happen: nothing here frees a
            // cell) or gone with the thread: straight to the stock.
            Ok(Err(block)) => to_stock(class, std::iter::once(block)),
            Err(_) => {}
        }
    }
}

/// Under loom the cache is bypassed: models see plain allocations.
#[cfg(loom)]
mod imp {
    use super::*;

    pub(super) fn take(_class: usize) -> Option<NonNull<u8>> {
        None
    }

    pub(super) fn give(class: usize, block: Block) {
        free_block(class, block);
    }

    pub(super) fn has_surplus() -> bool {
        false
    }

    pub(super) fn trim() {}
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_and_large_or_aligned_layouts_are_not_pooled() {
        let l = |size, align| Layout::from_size_align(size, align).unwrap();
        assert_eq!(class_of(l(1, 1)), Some(0));
        assert_eq!(class_of(l(16, 8)), Some(0));
        assert_eq!(class_of(l(17, 8)), Some(1));
        assert_eq!(class_of(l(216, 8)), Some(13));
        assert_eq!(class_layout(13).size(), 224);
        assert_eq!(class_of(l(MAX_POOLED, 16)), Some(CLASSES - 1));
        assert_eq!(class_of(l(MAX_POOLED + 1, 8)), None);
        assert_eq!(class_of(l(64, 64)), Some(3));
        assert_eq!(class_of(l(64, 128)), None);
    }

    /// A freed block is handed out again, on this thread and, through the
    /// stock, on another; blocks are never handed out twice at once.
    #[test]
    fn blocks_are_reused_within_and_across_threads() {
        // A class no task cell of this crate's tests falls in, so other tests
        // running meanwhile do not take the stock's blocks.
        let layout = Layout::from_size_align(1000, 8).unwrap();
        let a = allocate(layout);
        // SAFETY: from `allocate(layout)`, not used again.
        unsafe { release(a, layout) };
        let b = allocate(layout);
        assert_eq!(a, b, "this thread's bin hands the block back");

        // Another thread frees more than its bin keeps: the surplus goes to
        // the stock, where this thread finds it.
        let class = class_of(layout).unwrap();
        let (cap, batch) = (local_cap(class), batch(class));
        let freed: Vec<usize> = std::thread::spawn(move || {
            let blocks: Vec<NonNull<u8>> = (0..cap + batch).map(|_| allocate(layout)).collect();
            let addrs = blocks.iter().map(|p| p.as_ptr() as usize).collect();
            for p in blocks {
                // SAFETY: from `allocate(layout)`, not used again.
                unsafe { release(p, layout) };
            }
            addrs
        })
        .join()
        .unwrap();
        // Drain this thread's bin, then the next take refills from the
        // stock, which holds blocks the other thread freed.
        let mut held = vec![b];
        let mut from_other = false;
        for _ in 0..cap + 2 * batch {
            let p = allocate(layout);
            assert!(!held.contains(&p), "a block handed out twice");
            from_other |= freed.contains(&(p.as_ptr() as usize));
            held.push(p);
        }
        assert!(from_other, "no block came back through the stock");
        for p in held {
            // SAFETY: from `allocate(layout)`, not used again.
            unsafe { release(p, layout) };
        }
    }

    /// Every block starts on a cache line, and its whole class size is
    /// usable (written end to end, then freed: valgrind and the debug
    /// allocator would see an overrun of the raw allocation).
    #[test]
    fn blocks_are_line_aligned_and_whole() {
        for size in [64, 200, 224, MAX_POOLED] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            let blocks: Vec<_> = (0..20).map(|_| allocate(layout)).collect();
            for &p in &blocks {
                assert_eq!(
                    p.as_ptr() as usize % BLOCK_ALIGN,
                    0,
                    "block {p:?} of {size} B"
                );
                // SAFETY: the block holds at least `size` bytes, and is ours.
                unsafe { p.as_ptr().write_bytes(0xa5, size) };
            }
            for p in blocks {
                // SAFETY: from `allocate(layout)`, not used again.
                unsafe { release(p, layout) };
            }
        }
    }

    /// Serialises the tests that trim: a trim cuts every class's stock.
    static TRIMS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// Frees `n` fresh blocks of `layout` on a thread of its own, whose bin
    /// passes what it cannot keep to the stock (and the rest to the stock
    /// as the thread exits).
    fn overfill(layout: Layout, n: usize) {
        std::thread::spawn(move || {
            let blocks: Vec<_> = (0..n).map(|_| allocate(layout)).collect();
            for p in blocks {
                // SAFETY: from `allocate(layout)`, not used again.
                unsafe { release(p, layout) };
            }
        })
        .join()
        .unwrap();
    }

    /// While busy the stock takes up to its busy cap (a burst's frees do not
    /// go to the allocator), and a trim cuts it back to its idle cap.
    #[test]
    fn the_stock_keeps_a_burst_until_trimmed() {
        let _one = TRIMS.lock().unwrap_or_else(|e| e.into_inner());
        // A class of its own: no task cell or other test uses 944 bytes.
        let layout = Layout::from_size_align(944, 8).unwrap();
        let class = class_of(layout).unwrap();
        assert!(busy_stock_cap(class) > stock_cap(class) + local_cap(class));
        overfill(layout, busy_stock_cap(class) + local_cap(class));
        assert_eq!(imp::stock_len(class), busy_stock_cap(class));
        assert!(has_surplus());
        trim();
        assert_eq!(imp::stock_len(class), stock_cap(class));
    }

    /// The stocks of all classes together keep no more than the total
    /// budget between trims.
    #[test]
    fn the_stocks_share_a_total_budget() {
        let _one = TRIMS.lock().unwrap_or_else(|e| e.into_inner());
        trim();
        // Five classes of their own, 2 MiB offered to each: 10 MiB in all.
        let classes: Vec<(Layout, usize)> = [832, 848, 864, 880, 896]
            .into_iter()
            .map(|size| {
                let layout = Layout::from_size_align(size, 8).unwrap();
                (layout, class_of(layout).unwrap())
            })
            .collect();
        for &(layout, class) in &classes {
            overfill(layout, busy_stock_cap(class) + local_cap(class));
        }
        // Beyond what each keeps at idle.
        let held: usize = classes
            .iter()
            .map(|&(_, class)| {
                imp::stock_len(class).saturating_sub(stock_cap(class)) * class_layout(class).size()
            })
            .sum();
        assert!(
            held <= BUSY_TOTAL_BYTES && held > BUSY_TOTAL_BYTES - BUSY_STOCK_BYTES,
            "the stocks hold {held} bytes beyond their idle caps (budget {BUSY_TOTAL_BYTES})"
        );
        assert!(has_surplus());
        trim();
        for &(_, class) in &classes {
            assert!(imp::stock_len(class) <= stock_cap(class));
        }
        assert!(!has_surplus(), "a trim leaves no surplus counted");
    }

    /// A runtime whose workers have all parked trims the stock once it has
    /// stayed idle for the trim delay, without being woken for it.
    #[test]
    fn an_idle_runtime_gives_the_busy_surplus_back() {
        let _one = TRIMS.lock().unwrap_or_else(|e| e.into_inner());
        let layout = Layout::from_size_align(928, 8).unwrap();
        let class = class_of(layout).unwrap();
        let rt = crate::Builder::new()
            .worker_threads(1)
            .block_on_runs_tasks(false)
            .build()
            .unwrap();
        // On the worker: the surplus exists when it parks after the task.
        let n = busy_stock_cap(class);
        rt.block_on(rt.spawn(async move { overfill(layout, n) }))
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while imp::stock_len(class) > stock_cap(class) {
            assert!(
                std::time::Instant::now() < deadline,
                "the stock still holds {} blocks of class {class} (idle cap {})",
                imp::stock_len(class),
                stock_cap(class)
            );
            std::thread::yield_now();
        }
    }
}
