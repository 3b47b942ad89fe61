//! The client engine as a library, against the real relay on loopback: the example app's
//! whole conversation, a watch that hands notices to its callback and stops when told, and
//! the state kept by a store surviving a new engine, and a backup restored into a new engine
//! that reconnects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../examples/chat.rs"]
mod chat;
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Relay;
use quietwire::suite::Suite;
use quietwire_client::{ContactStatus, Engine, Error, MemoryStore, Notice, Store, WebSocket};
use zeroize::Zeroizing;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_example_app_chats_through_a_local_relay() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(&dir.path().join("relay.redb"), "127.0.0.1:0");
    let log = runtime().block_on(chat::run(&relay.url())).unwrap();
    let has = |line: &str| log.iter().any(|l| l == line);
    assert!(has("alice has a new contact: bob"), "{log:#?}");
    assert!(
        has("alice received from bob: Hello Alice, it's Bob."),
        "{log:#?}"
    );
    assert!(
        has("bob received from alice: Hi Bob! Got your message."),
        "{log:#?}"
    );
    assert!(
        has("bob's hello: delivered; alice's reply: delivered"),
        "{log:#?}"
    );
    assert!(has("history: bob: Hello Alice, it's Bob."), "{log:#?}");
    assert!(has("history: alice: Hi Bob! Got your message."), "{log:#?}");
}

/// A store shared with the test, so that it can open a second engine on the same state.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Option<Zeroizing<Vec<u8>>>>>);

impl Store for Shared {
    fn load(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        Ok(self.0.lock().unwrap().clone())
    }

    fn save(&mut self, state: &[u8]) -> Result<(), Error> {
        *self.0.lock().unwrap() = Some(Zeroizing::new(state.to_vec()));
        Ok(())
    }
}

#[test]
fn a_watch_reports_texts_as_they_arrive_and_stops_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(&dir.path().join("relay.redb"), "127.0.0.1:0");
    let url = relay.url();
    let rt = runtime();
    let alice_store = Shared::default();
    let mut alice = Engine::create(
        alice_store.clone(),
        WebSocket::new(),
        "alice",
        &url,
        Suite::X25519,
    )
    .unwrap();
    let mut bob = Engine::create(
        MemoryStore::new(),
        WebSocket::new(),
        "bob",
        &url,
        Suite::X25519,
    )
    .unwrap();
    let invite = alice.invite("bob", 600).unwrap();
    bob.accept(&invite.link, "alice").unwrap();
    rt.block_on(bob.flush()).unwrap();

    // Alice watches; Bob's handshake and then his text arrive while she does.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let seen: Arc<Mutex<Vec<Notice>>> = Arc::default();
    let seen_in_watch = Arc::clone(&seen);
    rt.block_on(async {
        let mut stop_tx = Some(stop_tx);
        let watch = alice.watch(
            async {
                let _ = stop_rx.await;
            },
            move |notice| {
                let text = matches!(notice, Notice::Text { .. });
                seen_in_watch.lock().unwrap().push(notice);
                if text && let Some(tx) = stop_tx.take() {
                    let _ = tx.send(());
                }
            },
        );
        let send = async {
            // The text can only be sent once the handshake went; it is queued at once.
            bob.queue_text("alice", "while you watch").unwrap();
            bob.flush().await.unwrap();
        };
        let (watched, ()) =
            tokio::time::timeout(Duration::from_secs(60), async { tokio::join!(watch, send) })
                .await
                .expect("the watch saw the text and stopped");
        watched.unwrap();
    });
    let seen = seen.lock().unwrap();
    assert!(
        matches!(seen.first(), Some(Notice::Connected { .. })),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|n| matches!(n, Notice::ContactAdded { contact, .. } if contact == "bob")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(
            |n| matches!(n, Notice::Text { contact, text, .. } if contact == "bob" && text == "while you watch")
        ),
        "{seen:?}"
    );
    // The engine stays usable after the watch, and the store holds what the watch saved.
    assert_eq!(alice.messages(Some("bob")).unwrap().len(), 1);
    let again = Engine::open(alice_store, WebSocket::new()).unwrap();
    let contacts = again.contacts().unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].name, "bob");
    assert_eq!(contacts[0].status, ContactStatus::Ready);
    assert_eq!(again.messages(None).unwrap()[0].text, "while you watch");
}

#[test]
fn an_engine_refuses_what_the_cli_refuses() {
    // ws:// only to a loopback address (RLY-01), checked before anything is made.
    let err = Engine::create(
        MemoryStore::new(),
        WebSocket::new(),
        "alice",
        "ws://relay.example:7447",
        Suite::X25519,
    )
    .unwrap_err();
    assert!(err.to_string().contains("RLY-01"), "{err}");
    // A store holds one identity.
    let store = Shared::default();
    Engine::create(
        store.clone(),
        WebSocket::new(),
        "a",
        "ws://127.0.0.1:1",
        Suite::X25519,
    )
    .unwrap();
    let err = Engine::create(
        store,
        WebSocket::new(),
        "b",
        "ws://127.0.0.1:1",
        Suite::X25519,
    )
    .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    // Texts go to contacts only; a relay that cannot be reached fails a sync.
    let mut engine = Engine::create(
        MemoryStore::new(),
        WebSocket::new(),
        "c",
        "ws://127.0.0.1:1",
        Suite::X25519,
    )
    .unwrap();
    assert!(engine.queue_text("nobody", "hi").is_err());
    let err = runtime().block_on(engine.sync()).unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");
}

#[test]
fn a_backup_exported_by_the_engine_restores_into_a_new_engine_that_reconnects() {
    use quietwire::backup::{ExportOptions, Methods, RecoveryKey};
    use quietwire_client::backup::restore::Sent;
    use quietwire_client::backup::{self, Reader, Secret, Silent};

    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(&dir.path().join("relay.redb"), "127.0.0.1:0");
    let url = relay.url();
    let rt = runtime();
    let new = |name: &str| {
        Engine::create(
            MemoryStore::new(),
            WebSocket::new(),
            name,
            &url,
            Suite::X25519,
        )
        .unwrap()
    };
    let mut alice = new("alice");
    let mut bob = new("bob");
    let invite = alice.invite("bob", 600).unwrap();
    bob.accept(&invite.link, "alice").unwrap();
    rt.block_on(bob.flush()).unwrap();
    rt.block_on(alice.sync()).unwrap(); // the contact, and Bob's device record
    bob.queue_text("alice", "before the backup").unwrap();
    rt.block_on(bob.flush()).unwrap();
    rt.block_on(alice.sync()).unwrap();

    let key = RecoveryKey::generate(&mut quietwire_client::sys::rng());
    let text = key.to_text();
    let file = dir.path().join("alice.xbk");
    let summary = alice
        .export_backup(
            &file,
            &ExportOptions::new(Methods::RecoveryKey(key)),
            &mut Silent,
        )
        .unwrap();
    assert_eq!(summary.contacts, ["bob"]);
    assert_eq!(summary.messages, 1);
    // A backup is never overwritten.
    assert!(
        alice
            .export_backup(
                &file,
                &ExportOptions::new(Methods::Passphrase("p".into())),
                &mut Silent
            )
            .is_err()
    );

    // A wrong recovery key opens nothing.
    let wrong = RecoveryKey::generate(&mut quietwire_client::sys::rng()).to_text();
    let mut reader = Reader::asking(
        Box::new(move |_| Ok(Secret::recovery_key(wrong.clone().into()))),
        Box::new(Silent),
    );
    let err = backup::read_file(&file, &mut reader).unwrap_err();
    assert!(err.to_string().contains("wrong recovery key"), "{err}");

    let mut reader = Reader::asking(
        Box::new(move |methods| {
            assert!(methods.recovery_key && !methods.passphrase);
            Ok(Secret::recovery_key(text.clone().into()))
        }),
        Box::new(Silent),
    );
    backup::read_file(&file, &mut reader).unwrap();
    let (mut restored, report) = Engine::restore_backup(
        MemoryStore::new(),
        WebSocket::new(),
        reader.finish().unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(report.identity, alice.profile().identity);
    assert_eq!(report.generation, 1);
    assert_eq!(report.reconnects, [("bob".to_owned(), Sent::Queued)]);
    assert_eq!(
        restored.messages(None).unwrap()[0].text,
        "before the backup"
    );
    // A restored session never encrypts (XBK-24): the reconnect comes first.
    assert!(restored.queue_text("bob", "too early").is_err());

    rt.block_on(restored.flush()).unwrap();
    let bob_saw = rt.block_on(bob.sync()).unwrap().notices;
    assert!(
        bob_saw.iter().any(|n| matches!(
            n,
            Notice::ContactRestored { contact, generation: 1, .. } if contact == "alice"
        )),
        "{bob_saw:?}"
    );
    let alice_saw = rt.block_on(restored.sync()).unwrap().notices;
    assert!(
        alice_saw
            .iter()
            .any(|n| matches!(n, Notice::ReconnectAnswered { contact, .. } if contact == "bob")),
        "{alice_saw:?}"
    );
    restored.queue_text("bob", "back again").unwrap();
    rt.block_on(restored.flush()).unwrap();
    let bob_saw = rt.block_on(bob.sync()).unwrap().notices;
    assert!(
        bob_saw
            .iter()
            .any(|n| matches!(n, Notice::Text { text, .. } if text == "back again")),
        "{bob_saw:?}"
    );
}

/// An app may move an engine to another thread and spawn its operations on a multi-threaded
/// runtime: the engine and the futures of its relay operations are `Send`.
#[test]
fn the_engine_and_its_operations_are_send() {
    fn send<T: Send>(_: &T) {}
    let mut engine = Engine::create(
        MemoryStore::new(),
        WebSocket::new(),
        "a",
        "ws://127.0.0.1:1",
        Suite::X25519,
    )
    .unwrap();
    send(&engine);
    send(&engine.flush());
    send(&engine.sync());
    send(&engine.watch(async {}, |_| {}));
}
