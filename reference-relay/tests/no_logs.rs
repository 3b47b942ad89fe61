//! The relay logs no identifier (spec **[RLY-09]**): two devices run a real Quietwire
//! session through a relay at `--log debug`, and afterwards neither the relay's output nor
//! its data files contain the clients' addresses and ports, their identity keys (raw, hex,
//! did:key), their safety code, and the output contains no mailbox id, item id or challenge.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Client, Relay, TestRng, contains, error_of, hex};
use quietwire::UnixTime;
use quietwire::envelope::Envelope;
use quietwire::event::{Body, Event};
use quietwire::handshake::{self, PendingInvite};
use quietwire::identity::DeviceKeys;
use quietwire::invite::{Invite, InviteParams};
use quietwire::mailbox::MailboxKey;
use quietwire::relay::{Request, ServerFrame};
use quietwire::safety::SafetyCode;
use quietwire::session::Session;
use quietwire::suite::{Suite, SuitePolicy};

fn now() -> UnixTime {
    UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

/// Waits for a wake of `mailbox`, fetches it, deletes what came, returns the envelopes.
async fn receive(client: &mut Client, key: &MailboxKey) -> Vec<Vec<u8>> {
    assert_eq!(
        client.recv().await,
        ServerFrame::Wake { mailbox: *key.id() }
    );
    let items = client.drain_mailbox(key).await;
    assert!(!items.is_empty());
    items.into_iter().map(|i| i.envelope).collect()
}

/// Whether `text` contains `port` as a number of its own (not inside a longer number).
fn has_port(text: &str, port: u16) -> bool {
    let port = port.to_string();
    text.match_indices(&port).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + port.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_session_through_the_relay_leaves_no_identifier_in_logs_or_files() {
    let mut relay = Relay::start(&["--log", "debug"]);
    let mut rng = TestRng(0x5157);
    let now = now();

    // The inviter (Bob) makes an invite with a bootstrap mailbox; the acceptor (Alice)
    // answers it with her own receive mailbox.
    let inviter = DeviceKeys::generate(Suite::XWing, &mut rng);
    let bootstrap = MailboxKey::generate(&mut rng);
    let params = InviteParams {
        relay_hints: vec![format!("ws://{}", relay.addr)],
        mailbox: *bootstrap.id(),
        expires: UnixTime(now.0 + 3600),
        single_use: true,
    };
    let (invite, secrets) =
        Invite::create(inviter.identity(), Suite::XWing, params, &mut rng).unwrap();
    let mut pending = PendingInvite::new(invite.clone(), secrets);
    let acceptor = DeviceKeys::generate(Suite::XWing, &mut rng);
    let alice_box = MailboxKey::generate(&mut rng);

    let mut bob_conn = Client::connect(relay.addr).await;
    let mut alice_conn = Client::connect(relay.addr).await;
    // Alice writes to Bob's mailboxes over a connection of its own (spec 8.6.7).
    let mut alice_out = Client::connect(relay.addr).await;
    let mut bob_out = Client::connect(relay.addr).await;
    bob_conn.subscribe(&bootstrap).await;
    alice_conn.subscribe(&alice_box).await;

    // Handshake.
    let started =
        handshake::accept_invite(&invite, &acceptor, 0, *alice_box.id(), &mut rng).unwrap();
    let hello = Envelope::new(*bootstrap.id(), started.message.clone()).unwrap();
    let mut item_ids = Vec::new();
    let item = rng.bytes();
    item_ids.push(item);
    alice_out.put(*bootstrap.id(), item, hello.to_bytes()).await;
    let got = receive(&mut bob_conn, &bootstrap).await;
    let envelope = Envelope::receive(&got[0], bootstrap.id()).unwrap();
    let accepted = pending
        .receive_handshake(envelope.blob(), now, &SuitePolicy::ALL)
        .unwrap();
    let mut alice = Session::new(started.ratchet, *bootstrap.id());
    let mut bob = Session::new(accepted.ratchet, accepted.mailbox);
    assert_eq!(bob.peer_mailbox(), alice_box.id());

    // Messages both ways.
    for round in 0..3 {
        let text = Event::new(
            Body::Text {
                text: format!("hello {round}"),
                reply_to: None,
            },
            &mut rng,
        );
        let sealed = alice.seal(&text, &mut rng).unwrap();
        let item = rng.bytes();
        item_ids.push(item);
        alice_out.put(*bootstrap.id(), item, sealed).await;
        let got = receive(&mut bob_conn, &bootstrap).await;
        assert_eq!(bob.open_envelope(&got[0], bootstrap.id()).unwrap(), text);

        let reply = Event::new(Body::WakeUp, &mut rng);
        let sealed = bob.seal(&reply, &mut rng).unwrap();
        let item = rng.bytes();
        item_ids.push(item);
        bob_out.put(*alice_box.id(), item, sealed).await;
        let got = receive(&mut alice_conn, &alice_box).await;
        assert_eq!(alice.open_envelope(&got[0], alice_box.id()).unwrap(), reply);
    }

    // Some failures and a blob, so that every kind of debug line is written.
    let reply = alice_out
        .call(Request::Put {
            mailbox: *bootstrap.id(),
            item: rng.bytes(),
            envelope: vec![1; 512],
            ttl: 0,
        })
        .await;
    assert_eq!(error_of(&reply).0, "relay.ttl");
    let wrong = bob_conn
        .call(Request::Fetch {
            mailbox: *alice_box.id(),
            proof: bootstrap.prove(
                &bob_conn.origin,
                &bob_conn.challenge,
                quietwire::mailbox::Operation::Fetch,
            ),
            max: None,
        })
        .await;
    assert_eq!(error_of(&wrong).0, "mailbox.key");
    let blob = alice_out
        .call(Request::BlobPut {
            blob: rng.vec(3000),
            ttl: 3600,
        })
        .await;
    let ServerFrame::Ok {
        reply: quietwire::relay::Reply::BlobStored { blob_id },
        ..
    } = blob
    else {
        panic!("{blob:?}")
    };
    let _ = bob_out.call(Request::BlobGet { blob_id }).await;

    let clients = [&bob_conn, &alice_conn, &alice_out, &bob_out];
    let ports: Vec<u16> = clients.iter().map(|c| c.local_port).collect();
    let challenges: Vec<[u8; 32]> = clients.iter().map(|c| c.challenge).collect();
    drop((bob_conn, alice_conn, alice_out, bob_out));
    assert!(relay.terminate().success());

    // What must appear nowhere: in the log, or in any file of the data directory.
    let identities = [inviter.identity().public(), acceptor.identity().public()];
    let safety = SafetyCode::new(identities[0], identities[1]);
    let mut anywhere: Vec<(String, Vec<u8>)> = Vec::new();
    for port in &ports {
        anywhere.push((
            format!("client address :{port}"),
            format!("127.0.0.1:{port}").into_bytes(),
        ));
    }
    for key in identities {
        anywhere.push(("identity key".into(), key.as_bytes().to_vec()));
        anywhere.push(("identity key hex".into(), hex(key.as_bytes()).into_bytes()));
        anywhere.push((
            "identity key HEX".into(),
            hex(key.as_bytes()).to_uppercase().into_bytes(),
        ));
        anywhere.push((
            "did:key".into(),
            quietwire::did_key::encode(key).into_bytes(),
        ));
    }
    anywhere.push(("safety code".into(), safety.digits().as_bytes().to_vec()));
    anywhere.push(("safety code".into(), safety.to_string().into_bytes()));
    // What must not appear in the log (the store holds mailbox and item ids by necessity).
    let mut in_log = anywhere.clone();
    for id in [bootstrap.id(), alice_box.id(), &blob_id] {
        in_log.push(("id".into(), id.to_vec()));
        in_log.push(("id hex".into(), hex(id).into_bytes()));
        in_log.push(("id hex prefix".into(), hex(&id[..8]).into_bytes()));
    }
    for id in &item_ids {
        in_log.push(("item id".into(), id.to_vec()));
        in_log.push(("item id hex".into(), hex(id).into_bytes()));
    }
    for challenge in &challenges {
        in_log.push(("challenge".into(), challenge.to_vec()));
        in_log.push(("challenge hex".into(), hex(challenge).into_bytes()));
    }

    let log = relay.log();
    eprintln!("{log}");
    assert!(
        log.contains("put stored"),
        "debug logging was not on:\n{log}"
    );
    assert!(log.contains("connection opened"));
    assert!(log.contains("error relay.ttl"));
    for (what, needle) in &in_log {
        assert!(
            !contains(log.as_bytes(), needle),
            "the log shows a {what}:\n{log}"
        );
    }
    for port in &ports {
        assert!(
            !has_port(&log, *port),
            "the log shows a client port:\n{log}"
        );
    }

    // Positive control: the search does find what the store must hold.
    let mut files = 0;
    let mut holds_mailbox = false;
    for entry in std::fs::read_dir(relay.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        files += 1;
        holds_mailbox |= contains(&bytes, alice_box.id());
        for (what, needle) in &anywhere {
            assert!(
                !contains(&bytes, needle),
                "{} holds a {what}",
                path.display()
            );
        }
    }
    assert!(files >= 1);
    assert!(
        holds_mailbox,
        "the search cannot even find a stored mailbox id"
    );
}
