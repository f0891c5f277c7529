//! The policy checkpoint: decides whether a request to share data is lawful, using a law library
//! of Cedar policies that each cite the section they enforce.
//!
//! Cedar decides permit or deny; this crate adds what the law needs and Cedar lacks: it fails closed
//! on any evaluation error or unknown id, judges a forwarded request as if every agency of the chain
//! had asked (the originator rule), reads the free-text justification for hidden immigration
//! purposes, adds a third outcome (review) and obligations (redaction, notice), lets federal
//! floors (8 U.S.C. 1373) release status alone, and slices the library so that each decision
//! evaluates only the policies that can apply. Every policy carries the day it takes effect (and
//! may carry the day it lapses): a request is decided by the law in force on its date
//! ([`Engine::decide_on`]; [`Engine::decide`] uses today's UTC date).
//!
//! ```no_run
//! use std::{path::Path, sync::Arc};
//! use policy::{Engine, LawLibrary};
//! let library = Arc::new(LawLibrary::load(Path::new("laws")).unwrap());
//! let deployment = model::Deployment::load(Path::new("examples/seed-world")).unwrap();
//! let engine = Engine::new(library, deployment).unwrap();
//! let request = model::Request::from_json_str(&std::fs::read_to_string("request.json").unwrap()).unwrap();
//! let decision = engine.decide(&request);
//! println!("{}", serde_json::to_string_pretty(&decision).unwrap());
//! ```

pub mod bench;
mod engine;
pub mod justification;
mod library;
pub mod obligation;
pub mod scenarios;
mod specialize;

pub use engine::{Engine, EngineError, Slicing};
pub use library::{
    files_with_extension, folder_for, LawLibrary, LawPolicy, LibraryError, PolicyClass, Side, Verified, ANNOTATIONS,
    SCHEMA_FILE,
};
pub use obligation::Obligation;
