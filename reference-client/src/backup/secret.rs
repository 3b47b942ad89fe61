//! The secret a backup is opened with: a recovery key or a passphrase as the user gave it
//! (`spec/10-backup.md` §10.4), kept to unlock more than once (re-keying checks the file,
//! then unlocks its header). Where it comes from (a prompt, the environment, an app's form)
//! is the app's business.

use quietwire::backup::{RecoveryKey, Unlock};
use zeroize::Zeroizing;

/// How a backup was opened (for messages about a wrong secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A recovery key.
    RecoveryKey,
    /// A passphrase.
    Passphrase,
    /// This device's transfer key.
    Transfer,
}

/// A recovery key or passphrase as the user gave it. Its `Debug` shows the method only.
pub struct Secret {
    /// Which method.
    pub method: Method,
    text: Zeroizing<String>,
}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Secret({:?})", self.method)
    }
}

impl Secret {
    /// A recovery key as typed (checked when it is used: format, then checksum).
    #[must_use]
    pub fn recovery_key(text: Zeroizing<String>) -> Secret {
        Secret {
            method: Method::RecoveryKey,
            text,
        }
    }

    /// A passphrase.
    #[must_use]
    pub fn passphrase(text: Zeroizing<String>) -> Secret {
        Secret {
            method: Method::Passphrase,
            text,
        }
    }

    /// The secret as the decoder takes it. (A transfer is unlocked with its key pair, never
    /// with a `Secret`.)
    #[must_use]
    pub fn unlock(&self) -> Unlock {
        match self.method {
            Method::Passphrase => Unlock::Passphrase((*self.text).clone()),
            Method::RecoveryKey | Method::Transfer => Unlock::RecoveryKey((*self.text).clone()),
        }
    }

    /// The recovery key itself (to keep it when re-keying), if this is one.
    #[must_use]
    pub fn as_recovery_key(&self) -> Option<RecoveryKey> {
        match self.method {
            Method::RecoveryKey => RecoveryKey::parse(&self.text).ok(),
            Method::Passphrase | Method::Transfer => None,
        }
    }

    /// The passphrase itself (to keep it when re-keying), if this is one.
    #[must_use]
    pub fn as_passphrase(&self) -> Option<String> {
        match self.method {
            Method::Passphrase => Some((*self.text).clone()),
            Method::RecoveryKey | Method::Transfer => None,
        }
    }
}
