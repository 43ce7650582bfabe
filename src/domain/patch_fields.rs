//! Deserializers for PATCH bodies, where an absent field and a null one mean different things.

use serde::{Deserialize, Deserializer};

/// A field that may be absent (keep), null (clear) or a value (set).
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A field that may be absent (keep) or a value (set). Null is a type error: these fields
/// have nothing to clear to, and keeping the old value silently would hide the mistake.
pub fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}
