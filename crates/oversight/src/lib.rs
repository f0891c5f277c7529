//! FusionGuard oversight: the tools an inspector general, an oversight board or a journalist uses
//! on records agencies release (ALPR search audits, email productions, sharing lists) to find data
//! sharing that gets around sanctuary laws.
//!
//! - [`searches`] imports Flock search audits (portal exports and organization/network audits, in
//!   their column and time-format variants) as a stream; [`search_audit`] runs the detectors over
//!   them (immigration purpose via [`policy::justification`], federal originators, protected
//!   activity, vague reasons, wide searches, off-hours searches, bursts).
//! - [`emails`] imports email productions (Outlook CSV, mbox, `.eml` files and folders, parsed by
//!   [`mail`]; email printed to PDF, its text layer read by [`pdf`] and split into messages by
//!   [`printed`]), rebuilds threads and flags DHS or federal addresses (by the component's
//!   [`directory::Class`]), personal mail accounts on official business and immigration vocabulary;
//!   [`sharing`] checks sharing lists against the law, and [`policy_practice`] against the source
//!   agencies' own published policies; [`intelligence`] checks criminal intelligence records against
//!   the five-year retention limit of 28 CFR 23.20(h); [`side_door`] reads a hub's ledger through
//!   [`ledger`] and flags immigration enforcement reaching local data around the checkpoint;
//!   [`federation`] reads several federated hubs' ledgers side by side and flags requests one
//!   hub logged and its peer did not, or logged otherwise.
//! - Every importer counts rows read, kept and rejected, with each rejection's line, column and
//!   reason ([`stats::ImportStats`]): nothing is dropped silently.
//! - Every detector emits [`finding::Finding`]s: kind, severity, the record it rests on, the
//!   evidence, the rule and, where there is one, the citation.
//!
//! ```
//! use oversight::searches::SearchReader;
//! use oversight::search_audit::{detect_row, SearchRules};
//!
//! let csv = "ID,Org_Name,Total_Networks_Searched,Total_Devices_Searched,Reason,Search_Time\n\
//!            a1,Test SO,1,104,ICE WARRANT,\"11/14/2025, 09:53:36 AM UTC\"\n\
//!            a2,Test SO,1,104,stolen vehicle 25-1234,yesterday\n";
//! let mut reader = SearchReader::new("audit.csv".as_ref(), csv.as_bytes()).unwrap();
//! let mut findings = Vec::new();
//! while let Some(search) = reader.next_search().unwrap() {
//!     detect_row(&search, &SearchRules::default(), &mut |f| findings.push(f));
//! }
//! assert_eq!((reader.stats.read, reader.stats.kept, reader.stats.rejected.len()), (2, 1, 1));
//! assert_eq!(reader.stats.rejected[0].line, 3);
//! assert_eq!(reader.stats.rejected[0].column.as_deref(), Some("Search_Time"));
//! assert_eq!(findings[0].kind, oversight::finding::Kind::ImmigrationPurpose);
//! assert_eq!(findings[0].severity, oversight::finding::Severity::High);
//! ```

#![warn(missing_docs)]

mod chunks;
pub mod directory;
pub mod emails;
pub mod error;
pub mod federation;
pub mod finding;
pub mod insider;
pub mod intelligence;
pub mod ledger;
pub mod mail;
pub mod pdf;
pub mod policy_practice;
pub mod printed;
pub mod report;
mod scan;
pub mod search_audit;
pub mod searches;
pub mod sharing;
pub mod side_door;
pub mod stats;
pub mod time;
pub mod transparency;
pub mod vocab;

pub use error::{Error, Result};
pub use finding::{Finding, Kind, Severity, Subject};
pub use stats::{ImportStats, Rejection};
