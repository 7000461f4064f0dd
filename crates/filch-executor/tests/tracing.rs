//! The `tracing` feature: every task gets a span named `task` with its id,
//! name and spawn location, and what the task logs happens inside it, on
//! whichever thread polls it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// The fields of each span, and for each event the span it happened in.
#[derive(Default)]
struct Seen {
    spans: HashMap<u64, (String, HashMap<String, String>)>,
    events: Vec<(String, Option<u64>)>,
}

#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Seen>>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        let name = format!("{}:{}", attrs.metadata().target(), attrs.metadata().name());
        self.seen.lock().unwrap().spans.insert(id, (name, fields));
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let current = CURRENT.with(|c| c.borrow().last().copied());
        let msg = fields.remove("message").unwrap_or_default();
        self.seen.lock().unwrap().events.push((msg, current));
    }
    fn enter(&self, span: &Id) {
        CURRENT.with(|c| c.borrow_mut().push(span.into_u64()));
    }
    fn exit(&self, _: &Id) {
        CURRENT.with(|c| c.borrow_mut().pop());
    }
}

#[test]
fn every_task_has_a_span_with_its_id_name_and_location() {
    let recorder = Recorder::default();
    let seen = recorder.seen.clone();
    tracing::subscriber::set_global_default(recorder).unwrap();

    let rt = filch_executor::Builder::new()
        .worker_threads(2)
        .build()
        .unwrap();
    let (id, blocking_id) = rt.block_on(async {
        let h = filch_executor::task::Builder::new()
            .name("fetch")
            .spawn(async {
                tracing::info!("inside fetch");
                filch_executor::yield_now().await;
                tracing::info!("fetch again");
            });
        let id = h.id();
        h.await.unwrap();
        let b = filch_executor::task::Builder::new()
            .name("hash")
            .spawn_blocking(|| tracing::info!("inside hash"));
        let blocking_id = b.id();
        b.await.unwrap();
        (id, blocking_id)
    });
    drop(rt);

    let seen = seen.lock().unwrap();
    let span_of = |task: filch_executor::task::Id| {
        let (sid, (name, fields)) = seen
            .spans
            .iter()
            .find(|(_, (_, f))| f.get("task.id") == Some(&task.as_u64().to_string()))
            .expect("a span for the task");
        assert_eq!(name, "filch::task:task");
        assert!(fields["loc.file"].ends_with("tracing.rs"), "{fields:?}");
        (*sid, fields.clone())
    };
    let (sid, fields) = span_of(id);
    assert_eq!(fields["task.name"], "fetch");
    let (bid, fields) = span_of(blocking_id);
    assert_eq!(fields["task.name"], "hash");
    for (msg, span) in &seen.events {
        match msg.as_str() {
            "inside fetch" | "fetch again" => assert_eq!(*span, Some(sid), "{msg}"),
            "inside hash" => assert_eq!(*span, Some(bid), "{msg}"),
            _ => {}
        }
    }
    assert_eq!(
        seen.events
            .iter()
            .filter(|(m, _)| m.contains("fetch"))
            .count(),
        2
    );
}
