//! FusionGuard's shared vocabulary: the agencies of a deployment, the data sources they own, the
//! requests that ask for data, and the decisions that answer them.
//!
//! This crate does no I/O beyond parsing text it is handed: every other crate speaks its types.
//! Words come from the field: a request has a *requester*, an *originator* chain
//! (`on_behalf_of`), a *purpose*, a *legal basis*; a decision has *reasons* that cite the law and
//! *obligations* the hub must carry out before data leaves.
//!
//! ```
//! use model::{Deployment, Request};
//! let deployment = Deployment::from_toml_str(r#"
//!     [[agency]]
//!     id = "lapd"
//!     name = "Los Angeles Police Department"
//!     kind = "local_police"
//!     jurisdiction = "US-CA"
//!
//!     [[source]]
//!     id = "lapd-rms"
//!     category = "rms"
//!     owner = "lapd"
//!     fields = ["name", "home_address"]
//! "#).unwrap();
//! assert_eq!(deployment.agency("lapd").unwrap().jurisdiction.state, "US-CA");
//!
//! let request = Request::from_json_str(r#"{
//!     "requester": {"id": "det-1", "agency": "lapd", "role": "detective"},
//!     "source": "lapd-rms", "action": "lookup", "purpose": "criminal_investigation",
//!     "justification": "burglary follow-up", "case_number": "24-001",
//!     "legal_basis": {"kind": "none"}, "subject": {"kind": "name", "value": "J. Doe"}
//! }"#).unwrap();
//! assert_eq!(request.chain().count(), 1);
//! ```

pub mod canon;
pub mod date;
mod decision;
mod deployment;
pub mod entry;
pub mod lang;
mod request;
pub mod vocab;

pub use date::Date;
pub use decision::{Decision, Outcome, Reason};
pub use deployment::{
    Agency, AgencyKind, Deployment, DeploymentError, Federation, Funding, ImmigrationRole, Jurisdiction, Limits, Peer,
    Source,
};
pub use request::{ChainLink, LegalBasis, Request, RequestError, Requester, Subject};
