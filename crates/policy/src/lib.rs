//! The policy checkpoint (in progress).
