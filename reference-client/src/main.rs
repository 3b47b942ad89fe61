//! `quietwire-client`: placeholder.
//!
//! The reference client is specified by the mailboxes-and-relay and delivery chapters
//! (`spec/08-mailboxes-and-relay.md`, `spec/09-delivery.md`), which are still placeholders;
//! this binary is built on top of them once they exist. Until then it does nothing but say
//! so, and exits with a failure status so no script mistakes it for a working client.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "quietwire-client: not implemented yet (the relay and delivery chapters of the spec come first)"
    );
    ExitCode::FAILURE
}
