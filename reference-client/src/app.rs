//! An opened home: the lock, the derived key and the decoded state, saved after every
//! change (`spec/09-delivery.md`: the outbox and inbox are durable; `spec/06-ratchet.md`
//! RAT-10: never encrypt from an older snapshot than the newest one used).

use zeroize::Zeroizing;

use crate::error::{Fail, Result};
use crate::state::State;
use crate::vault::{self, Home, Key, Lock};

/// An opened home.
#[derive(Debug)]
pub struct Ctx {
    home: Home,
    key: Key,
    lock: Option<Lock>,
    /// The state.
    pub state: State,
}

impl Ctx {
    /// Locks `home`, asks for the passphrase and decrypts the state.
    pub fn open(home: Home) -> Result<Ctx> {
        if !home.exists() {
            return Err(Fail::new(format!(
                "no identity here ({}), run `quietwire-client init`",
                home.dir().display()
            )));
        }
        let lock = home.lock()?;
        let passphrase = vault::passphrase(false)?;
        let (plain, key) = home.read(&passphrase)?;
        let state = State::decode(&plain)?;
        Ok(Ctx {
            home,
            key,
            lock: Some(lock),
            state,
        })
    }

    /// Creates a new home with `state` (for `init`). Fails if one exists.
    pub fn create(home: Home, passphrase: &Zeroizing<String>, state: State) -> Result<Ctx> {
        home.create()?;
        let lock = home.lock()?;
        if home.exists() {
            return Err(Fail::new(format!(
                "an identity already exists in {}",
                home.dir().display()
            )));
        }
        let key = vault::new_key(passphrase)?;
        let mut ctx = Ctx {
            home,
            key,
            lock: Some(lock),
            state,
        };
        ctx.save()?;
        Ok(ctx)
    }

    /// The home directory.
    pub fn dir(&self) -> &std::path::Path {
        self.home.dir()
    }

    /// Encrypts and writes the state.
    pub fn save(&mut self) -> Result<()> {
        if self.lock.is_none() {
            return Err(Fail::new("internal error: saving without the lock"));
        }
        let bytes = self.state.encode()?;
        self.home.write(&self.key, &bytes)
    }

    /// Releases the lock (the in-memory state is stale from now on until
    /// [`Ctx::relock`]).
    pub fn unlock(&mut self) {
        self.lock = None;
    }

    /// Takes the lock again and reloads the state another process may have changed.
    pub fn relock(&mut self) -> Result<()> {
        if self.lock.is_none() {
            self.lock = Some(self.home.lock()?);
        }
        let plain = self.home.reread(&self.key)?;
        self.state = State::decode(&plain)?;
        Ok(())
    }
}
