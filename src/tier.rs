//! How much an operation can do, from nothing to another person's eyes: the safety tiers.
//!
//! The tiers are our judgement, not GeWe's: `openapi/overlays/tiers.yaml` puts an `x-gewe-tier`
//! on each operation, and the build reads it into [`Operation::tier`](crate::Operation::tier).
//! The build also reads this file, so the names below are the only ones an overlay can use.

/// The tiers, each with its name in the overlay and what it covers; the enum and its helpers
/// derive from this one table.
macro_rules! tiers {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal ),* $(,)?) => {
        /// What an operation can do: read, change state, reach people, delete, or administer
        /// the account.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Tier {
            $( $(#[$doc])* $variant, )*
        }

        impl Tier {
            /// Every tier, from the least effect to the most.
            pub const ALL: &'static [Tier] = &[$(Tier::$variant),*];

            /// The tier's name, as in the overlay and on the command line (`read`, `send`, …).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Tier::$variant => $name,)*
                }
            }

            /// The Rust name of the variant, for generated code.
            pub const fn variant(self) -> &'static str {
                match self {
                    $(Tier::$variant => stringify!($variant),)*
                }
            }
        }
    };
}

tiers! {
    /// No effect on the account or anyone else: lists, details, downloads.
    Read = "read",
    /// Changes state without messaging anyone: remarks, settings, pins, labels, likes.
    Write = "write",
    /// Reaches other people: messages, Moments and channel posts, comments, friend requests.
    Send = "send",
    /// Deletes, revokes, removes members, quits a group, deletes friends.
    Destructive = "destructive",
    /// Administers the account: logins, logout, the callback URL, creating a device. Also the
    /// tier of an operation the overlay gives none.
    Admin = "admin",
}

impl Tier {
    /// The tier named `name` (`read`, `write`, `send`, `destructive`, `admin`).
    pub fn from_name(name: &str) -> Option<Tier> {
        Tier::ALL.iter().copied().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseTierError(pub String);

impl std::fmt::Display for ParseTierError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown tier `{}`: expected one of", self.0)?;
        for (i, t) in Tier::ALL.iter().enumerate() {
            write!(f, "{}{t}", if i == 0 { " " } else { ", " })?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseTierError {}

impl std::str::FromStr for Tier {
    type Err = ParseTierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tier::from_name(s).ok_or_else(|| ParseTierError(s.to_string()))
    }
}
