//! Suggesting areas for an opinion with a model that learns: a starter corpus and confirmed tags in,
//! a per-area suggestion with its evidence out. Pure computation: no I/O, no clock, seed passed in.

pub mod corpus;
pub mod features;
pub mod metrics;
pub mod model;

pub use corpus::Example;
pub use model::{AreaScore, Model, TrainOptions};
