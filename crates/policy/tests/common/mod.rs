//! Shared setup: the repository's own law library and seed world.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use policy::{Engine, LawLibrary};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[allow(dead_code)]
pub fn engine() -> Engine {
    let library = Arc::new(LawLibrary::load(&repo().join("laws")).expect("the law library loads"));
    let deployment = model::Deployment::load(&repo().join("examples/seed-world")).expect("the seed world loads");
    Engine::new(library, deployment).expect("engine")
}

/// One engine for the whole test binary (building one takes milliseconds; proptest asks hundreds of times).
#[allow(dead_code)]
pub fn shared() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(engine)
}

#[allow(dead_code)]
pub fn request(json: &str) -> model::Request {
    model::Request::from_json_str(json).expect("test request parses")
}

/// A lawful local lookup: OC Sheriff detective, case number, OCIAC ALPR.
#[allow(dead_code)]
pub const LAWFUL: &str = r#"{
  "requester": {"id": "det-ramos", "agency": "oc-sheriff", "role": "detective"},
  "source": "ociac-alpr", "action": "lookup", "purpose": "criminal_investigation",
  "justification": "Armed robbery, suspect vehicle", "case_number": "OCSD-25-004411",
  "legal_basis": {"kind": "none"}, "subject": {"kind": "plate", "value": "7ABC123"}
}"#;
