//! Traffic control: rate limits (GCRA), progressive penalties, quotas and credits.
//! Pure rules with time passed in; the verification pipeline and the gateway hold the state.

pub mod allowance;
pub mod engine;
pub mod gcra;
pub mod penalty;
pub mod period;
pub mod settings;
pub mod shared;
pub mod spec;
pub mod table;
