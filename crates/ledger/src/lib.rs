//! placeholder
pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod tiles;
