//! The engine's notices as lines on the terminal: what the user asked for (texts, new
//! contacts, sessions) on standard output, the rest on standard error. Texts from peers are
//! sanitised ([`display::sanitize`]) so a peer cannot drive the terminal.

use quietwire::did_key;
use quietwire_client::{Notice, Refusal};

use crate::display;

/// Prints `notices` in order.
pub fn notices(notices: Vec<Notice>) {
    for notice in notices {
        notice_line(&notice);
    }
}

/// Prints one notice.
pub fn notice_line(notice: &Notice) {
    match notice {
        Notice::Text { contact, text, .. } => {
            println!("[{contact}] {}", display::sanitize(text));
        }
        Notice::ContactAdded { contact, identity } => println!(
            "{contact} accepted your invite: new contact {contact} ({}); compare safety codes with `quietwire-client verify {contact}`",
            did_key::encode(identity)
        ),
        Notice::SessionReplaced { contact, identity } => println!(
            "{contact} accepted your invite: new session with {contact} ({}), who was already a contact; the safety code is unchanged",
            did_key::encode(identity)
        ),
        Notice::PendingSessionConfirmed { contact } => {
            println!("{contact} answered on the new session, which now replaces the old one");
        }
        Notice::ReconnectAnswered { contact, identity } => println!(
            "{contact} answered your reconnect: new session with {contact} ({}); the safety code is unchanged",
            did_key::encode(identity)
        ),
        Notice::ReconnectFromStranger { contact, identity } => eprintln!(
            "ignored a handshake for the reconnect with {contact} from another identity ({})",
            did_key::encode(identity)
        ),
        Notice::ContactRestored {
            contact,
            identity,
            generation,
        } => println!(
            "{contact} reconnected from a restored device (same identity {}, device record generation {generation}): new session with {contact}",
            did_key::encode(identity)
        ),
        Notice::ReconnectRefused { contact, why } => refusal(contact, why),
        Notice::DeviceRecordUpdated {
            contact,
            generation,
        } => eprintln!("{contact} uses a new device record (generation {generation})"),
        Notice::DeviceRecordIgnored { contact, class } => {
            eprintln!("ignored a device record from {contact} ({class})");
        }
        Notice::InviteExpired {
            contact,
            reconnect: true,
        } => eprintln!(
            "{contact} did not answer the reconnect before it expired; make a new invite for {contact}"
        ),
        Notice::InviteExpired { contact, .. } => {
            eprintln!("the invite for {contact} expired before it was accepted; removed");
        }
        Notice::Undecryptable { contact, count } => {
            eprintln!("dropped {count} item(s) in {contact}'s mailbox that could not be opened");
        }
        Notice::InviteMailboxOverflow { contact, dropped } => eprintln!(
            "the mailbox of the invite for {contact} holds more items than a handshake could follow; dropped the {dropped} oldest"
        ),
        Notice::SendFailed {
            contact,
            id,
            reason,
        } => eprintln!(
            "send {} to {contact} failed: {reason}",
            display::short_id(id)
        ),
        Notice::Fetching { items } => eprintln!("fetched {items} items…"),
        Notice::Connected { relay } => {
            eprintln!("connected to {relay}; watching for messages (Ctrl-C to stop)");
        }
        Notice::Disconnected {
            error,
            retry_in,
            was_connected: true,
        } => eprintln!("{error}; reconnecting in {retry_in}s"),
        Notice::Disconnected {
            error, retry_in, ..
        } => {
            eprintln!("{error}; retrying in {retry_in}s");
        }
        Notice::SubscriptionRefused { class } => {
            eprintln!("the relay refused a subscription ({class}); fetching on a timer instead")
        }
        other => eprintln!("{other:?}"),
    }
}

fn refusal(contact: &str, why: &Refusal) {
    match why {
        Refusal::OldGeneration { held } => eprintln!(
            "refused a reconnect in {contact}'s mailbox: its device record is not newer than the one held for {contact} (generation {held}); an old backup of {contact} restored again cannot take over the conversation"
        ),
        Refusal::Expired => eprintln!(
            "{contact} tried to reconnect from a restored device, but the invite expired; ask {contact} for a new invite"
        ),
        Refusal::NotTheContact(class) => eprintln!(
            "refused a reconnect in {contact}'s mailbox that is not from {contact}'s identity ({class})"
        ),
        Refusal::OtherRelay { hints } => eprintln!(
            "{contact} reconnected from a restored device through another relay ({}); this client talks to one relay only: ask {contact} for a new invite",
            hints.join(", ")
        ),
        other => eprintln!("refused a reconnect in {contact}'s mailbox ({other:?})"),
    }
}
