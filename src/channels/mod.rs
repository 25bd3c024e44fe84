//! Channels: the touchpoints the firm runs (`/v1/channels`), and the channel
//! metrics (`/v1/metrics/channels`).
//!
//! A channel that has interactions is never deleted (history keeps pointing at
//! it); it is deactivated instead, and inactive channels take no new
//! interactions.

pub mod events;
pub mod metrics;
pub mod model;
pub mod repo;
pub mod routes;

pub use model::ChannelKind;
