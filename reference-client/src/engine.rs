//! The [`Engine`]: one identity's state, its [`Store`] and its [`Transport`], and the
//! operations an app performs on them (`spec/03` to `spec/09`).
//!
//! Every operation that changes the state saves it through the store before it returns or
//! before it lets the relay forget anything; a failed operation leaves the saved state as it
//! was (the in-memory state may then be ahead of it only in ways the next save repeats). The
//! operations that need the relay are `async` and open one connection per call (a watch keeps
//! one open); the others are local.
//!
//! | what | methods | spec |
//! |---|---|---|
//! | identity | [`Engine::create`], [`Engine::open`], [`Engine::profile`] | `spec/03` |
//! | contacts | [`Engine::invite`], [`Engine::accept`], [`Engine::contacts`], [`Engine::safety_code`], [`Engine::verify`] | `spec/03`, `04`, `05` |
//! | messages | [`Engine::queue_text`], [`Engine::flush`], [`Engine::send_status`], [`Engine::outbox`], [`Engine::messages`] | `spec/07`, `09` |
//! | receiving | [`Engine::sync`], [`Engine::watch`], [`Engine::take_notices`] | `spec/08`, `09` |

use std::sync::Arc;

use quietwire::did_key;
use quietwire::identity::DeviceKeys;
use quietwire::invite::is_valid_relay_hint;
use quietwire::keys::IdentityKey;
use quietwire::suite::Suite;

use crate::error::{Fail, Result};
use crate::notice::Notice;
use crate::relay::{self, Relay};
use crate::state::State;
use crate::store::Store;
use crate::sys;
use crate::transport::Transport;

/// One identity's client: its state, where it is stored, and how it reaches its relay.
pub struct Engine {
    store: Box<dyn Store>,
    transport: Arc<dyn Transport>,
    /// Whether the store is held (between `acquire` and `release`).
    held: bool,
    pub(crate) state: State,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Who this device is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The user's own name (kept locally, never sent).
    pub name: String,
    /// The identity key (its `did:key` is what contacts see, [`Profile::did`]).
    pub identity: IdentityKey,
    /// The relay that holds this device's mailboxes.
    pub relay: String,
    /// The identity's cipher suite.
    pub suite: Suite,
}

impl Profile {
    /// The identity as a `did:key` (`spec/03-identity.md`).
    #[must_use]
    pub fn did(&self) -> String {
        did_key::encode(&self.identity)
    }
}

impl Engine {
    /// A new identity named `name` on relay `relay` (`wss://HOST[:PORT]`, or `ws://` to a
    /// loopback address), with new device keys of `suite`, saved in `store`.
    ///
    /// # Errors
    /// An empty or unprintable name, a relay URL that may not be used (**[RLY-01]**), a store
    /// that already holds a state, or a failed save.
    pub fn create(
        mut store: impl Store + 'static,
        transport: impl Transport + 'static,
        name: &str,
        relay: &str,
        suite: Suite,
    ) -> Result<Engine> {
        Engine::check_profile(name, relay)?;
        if store.load()?.is_some() {
            return Err(Fail::new("an identity already exists in this store"));
        }
        let device = DeviceKeys::generate(suite, &mut sys::rng());
        let state = State::new(name.to_owned(), relay.to_owned(), device);
        Engine::install(store, transport, state)
    }

    /// Checks what [`Engine::create`] checks of `name` and `relay` before it does anything
    /// (an app asks for a passphrase only after this).
    ///
    /// # Errors
    /// An empty or unprintable name, or a relay URL that may not be used (**[RLY-01]**).
    pub fn check_profile(name: &str, relay: &str) -> Result<()> {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(Fail::new("the name must be printable and not empty"));
        }
        if !is_valid_relay_hint(relay) {
            return Err(Fail::new(format!(
                "invalid relay URL {relay:?} (expected wss://HOST[:PORT], or ws://HOST:PORT on a loopback address)"
            )));
        }
        crate::transport::target(relay).map_err(Fail::new)?;
        Ok(())
    }

    /// The identity saved in `store`.
    ///
    /// # Errors
    /// An empty store, or a state that cannot be read or decoded.
    pub fn open(
        mut store: impl Store + 'static,
        transport: impl Transport + 'static,
    ) -> Result<Engine> {
        let plain = store
            .load()?
            .ok_or_else(|| Fail::new("no identity in this store"))?;
        let state = State::decode(&plain)?;
        Ok(Engine {
            store: Box::new(store),
            transport: Arc::new(transport),
            held: true,
            state,
        })
    }

    /// An engine over `state` made elsewhere (a restored backup), saved into `store` at once.
    ///
    /// # Errors
    /// The save failed.
    pub(crate) fn install(
        store: impl Store + 'static,
        transport: impl Transport + 'static,
        state: State,
    ) -> Result<Engine> {
        let mut engine = Engine {
            store: Box::new(store),
            transport: Arc::new(transport),
            held: true,
            state,
        };
        engine.save()?;
        Ok(engine)
    }

    /// Who this device is.
    #[must_use]
    pub fn profile(&self) -> Profile {
        Profile {
            name: self.state.name.clone(),
            identity: *self.state.device.identity().public(),
            relay: self.state.relay.clone(),
            suite: self.state.suite,
        }
    }

    /// The notices left since the last call (in order), emptying the list.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        core::mem::take(&mut self.state.notices)
    }

    /// The whole state.
    #[must_use]
    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    /// The transport (for a transfer's connection to another relay).
    #[must_use]
    pub fn transport(&self) -> &dyn Transport {
        &*self.transport
    }

    /// Encrypts and stores the state.
    ///
    /// # Errors
    /// The store failed, or it is released (during a watch, between steps).
    pub fn save(&mut self) -> Result<()> {
        if !self.held {
            return Err(Fail::new("internal error: saving without the lock"));
        }
        let bytes = self.state.encode()?;
        self.store.save(&bytes)
    }

    /// Lets other processes use the store (the in-memory state is stale from now on until
    /// [`Engine::reacquire`]).
    pub(crate) fn release(&mut self) {
        self.store.release();
        self.held = false;
    }

    /// Takes the store again and reloads the state another process may have changed; the
    /// notices not taken yet are kept.
    pub(crate) fn reacquire(&mut self) -> Result<()> {
        self.store.acquire()?;
        self.held = true;
        let plain = self
            .store
            .load()?
            .ok_or_else(|| Fail::new("the state disappeared from the store"))?;
        let notices = core::mem::take(&mut self.state.notices);
        self.state = State::decode(&plain)?;
        self.state.notices = notices;
        Ok(())
    }

    /// A connection to this identity's relay.
    pub(crate) async fn connect(&self) -> Result<Relay, relay::NetError> {
        let url = self.state.relay.clone();
        Relay::connect(&*self.transport, &url).await
    }
}
