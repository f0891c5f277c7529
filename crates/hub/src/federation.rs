//! Federation: hubs that forward requests to one another lawfully and keep each other honest.
//!
//! A deployment with a `[federation]` table and `[[peer]]` hubs forwards a request for a source a
//! peer serves: this hub decides first by the law that binds its side (its `[federation] law`),
//! logs an `outbound` entry, and sends the peer a signed [`Envelope`] over mutual TLS. The peer
//! checks the envelope ([`Federation::check`]), decides by its own law with the originator rule
//! over the whole chain, logs an `inbound` entry naming the sender's ledger index, releases only
//! after that, and answers with [`Receipt`]s. The sender checks the peer's receipt, logs it as a
//! `peer_receipt` entry, and only then passes the answer to its user. A peer that cannot be
//! reached, or answers without a receipt that verifies, is a 503 or 502 naming it, with a
//! `forward_failed` entry and nothing released.
//!
//! # The envelope (`POST /v1/federation/requests`, JSON)
//!
//! ```text
//! {"v": 1, "request": "<the request as JSON text>", "nonce": "<32 hex>",
//!  "issued": <unix secs>, "expires": <unix secs>,
//!  "hops": [{"hub": "<ledger origin>", "prev": "<hex>", "decision_id": "...", "index": <n>,
//!            "leaf": "<hex>", "decision": "permit", "signature": "<note signature line>"}, ...]}
//! ```
//!
//! Its *digest* is SHA-256 (hex) of `fusionguard/federation-envelope/v1\n<nonce>\n<issued>\n
//! <expires>\n` followed by the request's bytes: the request cannot change without changing it.
//! Each hub the request passes through appends one hop: its ledger origin, the id, ledger index and
//! RFC 9162 leaf hash of its `outbound` entry, its decision, and `prev`, SHA-256 (hex) of the
//! previous hop's signature line (`-` for the first). The hop is signed, as a C2SP signed note, by
//! the hub's ledger key over the body
//!
//! ```text
//! fusionguard/federation-hop/v1
//! <digest>
//! <prev>
//! <hub>
//! <decision_id>
//! <index>
//! <leaf>
//! <decision>
//! ```
//!
//! so a hub can add itself to the chain but never remove or reorder an earlier link: every hop's
//! signature covers the one before it, the first hop's `prev` is `-`, the last hop must be the peer
//! whose TLS certificate the connection presented, and the first hop's hub must count the
//! requesting agency among its members (`agencies` of its `[[peer]]` table). A hub cannot launder
//! a request: the originator chain (`on_behalf_of`) is inside the request, which every hop signs,
//! and the receiving hub decides with the originator rule over that chain.
//!
//! # Receipts
//!
//! A [`Receipt`] is a signed statement by a hub's ledger key that the entry whose bytes it carries
//! is at an index of its log: a C2SP signed note over
//! `fusionguard/federation-receipt/v1\n<origin>\n<index>\n<leaf>\n`. Anyone with the hub's
//! verifier key can check it, and later check that the published log holds that leaf at that
//! index.
//!
//! # Mutual witnessing
//!
//! Each hub is a C2SP tlog-witness for its peers' ledgers (`POST /witness/add-checkpoint`, state
//! in `DATA/witness/`, cosigning with its ledger key under the cosignature/v1 algorithm), and asks
//! every peer to cosign each checkpoint it publishes, so its published checkpoint carries its
//! peers' cosignatures. A peer that presents a checkpoint that does not extend the one cosigned
//! before (a split view, or a ledger rolled back) is refused, both signed checkpoints are kept as
//! evidence, and `/metrics` and `GET /federation/witness` say so.
//!
//! # Replay
//!
//! An envelope is valid from `issued` (30 seconds of clock skew allowed) to `expires`, for at
//! most `[federation] window_secs`; its nonce is remembered until it expires, so a second copy is
//! refused. A restarted hub reads the nonces of the `inbound` entries of the last window back from
//! its published ledger before it serves; if it stopped without publishing every entry (a crash),
//! it also refuses every envelope issued before it started. A restart does not reopen a replay.
//! Every refusal of an envelope from a hub of the federation's CA is logged as a `peer_refused`
//! entry, but for one: a peer over its rate (`[limits] peer_per_second`, `peer_burst`) gets a 429
//! with `Retry-After` before its envelope is checked, counted in `/metrics` as refused and not
//! logged, so that a flood costs this hub neither signature checks nor ledger entries. The
//! sending hub tells its user 503, naming the peer, and logs its `forward_failed` entry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ledger::note::{Note, NoteVerifier};
use model::entry::{Entry, FederationInfo, ForwardFailedEntry, PeerReceiptEntry, PeerRefusedEntry, ENTRY_VERSION};
use model::{Decision, Outcome, Request};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::api::AppState;
use crate::problem::Problem;
use crate::tls::ClientCert;
use crate::tokens::{now, TokenRecord};
use crate::HubError;

/// The folder of the data directory that holds the witness's state.
pub const WITNESS_DIR: &str = "witness";
/// Where a hub serves its witness: `<url>/witness/add-checkpoint`.
pub const WITNESS_PREFIX: &str = "/witness";

/// Version of the envelope format (its `v`).
pub const ENVELOPE_VERSION: u32 = 1;
/// The path peers receive envelopes at.
pub const REQUESTS_PATH: &str = "/v1/federation/requests";
/// Clock skew allowed on an envelope's `issued` time (seconds).
pub const SKEW_SECS: u64 = 30;
/// How long a call to a peer may take.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(10);
/// The subject `OU` of a hub's TLS certificate.
pub const HUB_ROLE: &str = "hub";

/// A request on its way between hubs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// [`ENVELOPE_VERSION`].
    pub v: u32,
    /// The request as JSON text, exactly as the first hub sent it.
    pub request: String,
    /// 32 hex digits, fresh for each request.
    pub nonce: String,
    /// When the first hub sent it (Unix seconds).
    pub issued: u64,
    /// When it stops being valid (Unix seconds).
    pub expires: u64,
    /// The hubs it passed through, the first hub first; each signed.
    pub hops: Vec<Hop>,
}

/// One hub's signed link in an envelope's chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hop {
    /// The hub's ledger origin.
    pub hub: String,
    /// SHA-256 (hex) of the previous hop's signature line; `-` for the first hop.
    pub prev: String,
    /// The id of the hub's `outbound` decision.
    pub decision_id: String,
    /// The ledger index of that entry.
    pub index: u64,
    /// Its RFC 9162 leaf hash (hex).
    pub leaf: String,
    /// The hub's decision (a hub forwards only what it permits).
    pub decision: Outcome,
    /// The signature line of the hub's ledger key over the hop's body.
    pub signature: String,
}

/// A hub's signed statement that an entry is in its ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The hub's ledger origin.
    pub origin: String,
    /// The entry's ledger index.
    pub index: u64,
    /// The entry's RFC 9162 leaf hash (hex).
    pub leaf: String,
    /// The entry, as the JSON text the ledger holds.
    pub entry: String,
    /// The signed note over `fusionguard/federation-receipt/v1\n<origin>\n<index>\n<leaf>\n`.
    pub note: String,
}

impl Receipt {
    /// The body its note signs.
    pub fn body(origin: &str, index: u64, leaf: &str) -> String {
        format!("fusionguard/federation-receipt/v1\n{origin}\n{index}\n{leaf}\n")
    }

    /// Checks the receipt against the hub's verifier key: the note is signed by it, names this
    /// origin, index and leaf, and the leaf is the entry's. Returns the entry, parsed.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<Entry, String> {
        if verifier.name() != self.origin {
            return Err(format!("the receipt names origin {:?}, the key is {:?}'s", self.origin, verifier.name()));
        }
        let note = Note::parse(self.note.as_bytes()).map_err(|e| format!("receipt note: {e}"))?;
        note.verify_by(verifier).map_err(|e| format!("receipt signature: {e}"))?;
        if note.body != Self::body(&self.origin, self.index, &self.leaf) {
            return Err("the receipt's note does not sign its origin, index and leaf".into());
        }
        if hex::encode(ledger::merkle::leaf_hash(self.entry.as_bytes())) != self.leaf {
            return Err("the receipt's leaf is not the hash of its entry".into());
        }
        Entry::from_json_slice(self.entry.as_bytes()).map_err(|e| format!("the receipt's entry: {e}"))
    }
}

/// The digest every hop signs: the request, nonce and validity.
pub fn digest(e: &Envelope) -> String {
    let mut h = Sha256::new();
    h.update(format!("fusionguard/federation-envelope/v1\n{}\n{}\n{}\n", e.nonce, e.issued, e.expires));
    h.update(e.request.as_bytes());
    hex::encode(h.finalize())
}

/// The body a hop's signature covers.
pub fn hop_body(digest: &str, hop: &Hop) -> String {
    format!(
        "fusionguard/federation-hop/v1\n{digest}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        hop.prev,
        hop.hub,
        hop.decision_id,
        hop.index,
        hop.leaf,
        hop.decision.as_str()
    )
}

/// What `prev` of the hop after `hop` must be.
pub fn link_of(hop: &Hop) -> String {
    hex::encode(Sha256::digest(hop.signature.as_bytes()))
}

/// Checks a signature line over `body` by `verifier`.
fn verify_line(verifier: &NoteVerifier, body: &str, line: &str) -> Result<(), String> {
    let note = Note::parse(format!("{body}\n{line}\n").as_bytes()).map_err(|e| e.to_string())?;
    note.verify_by(verifier).map(|_| ()).map_err(|e| e.to_string())
}

/// The last line of a signed note: its (only) signature.
fn signature_line(note: &str) -> String {
    note.lines().rev().find(|l| !l.is_empty()).unwrap_or_default().to_string()
}

/// A peer hub as this hub knows it.
#[derive(Debug)]
pub struct PeerLink {
    /// Its `[[peer]]` table.
    pub peer: model::Peer,
    /// Its ledger's verifier key.
    pub verifier: NoteVerifier,
    /// Envelopes sent to it, by outcome (permit, deny, review) of its answer, and failures.
    sent: [AtomicU64; 4],
    /// Envelopes received from it, by outcome of this hub's decision, and refusals.
    received: [AtomicU64; 4],
}

/// This hub's federation: its peers, its TLS client, the nonces it has seen.
#[derive(Debug)]
pub struct Federation {
    /// The `[federation]` table.
    pub config: model::Federation,
    /// The peers, in `[[peer]]` order.
    pub peers: Vec<PeerLink>,
    /// Reaches the peers' witnesses (the ledger's blocking client).
    agent: ureq::Agent,
    /// Sends envelopes to the peers.
    client: crate::peer_client::PeerClient,
    /// Nonces seen, with when each expires.
    nonces: Mutex<HashMap<String, u64>>,
    /// Envelopes issued before this time are refused (set at start after a crash, see
    /// [`Federation::recover_nonces`]).
    refuse_before: AtomicU64,
    /// This hub as a witness of its peers' ledgers.
    pub witness: ledger::witness::Witness,
}

/// One peer's ledger as this hub, its witness, has seen it.
#[derive(Debug)]
pub struct Witnessed<'a> {
    /// The peer.
    pub peer: &'a model::Peer,
    /// The signed checkpoint last cosigned, if any.
    pub cosigned: Option<String>,
    /// The split views of its ledger, each with both signed checkpoints.
    pub split_views: Vec<ledger::witness::SplitView>,
}

impl Witnessed<'_> {
    /// The size of the checkpoint last cosigned.
    pub fn cosigned_size(&self) -> Option<u64> {
        let note = ledger::note::Note::parse(self.cosigned.as_deref()?.as_bytes()).ok()?;
        ledger::checkpoint::Checkpoint::parse(&note.body).ok().map(|c| c.size)
    }
}

/// Why an envelope is refused: one of [`model::entry::PEER_REFUSALS`], and the detail.
#[derive(Debug)]
pub struct Refusal {
    /// The closed-vocabulary reason.
    pub why: &'static str,
    /// What was wrong, for the sender.
    pub detail: String,
}

fn refuse(why: &'static str, detail: impl Into<String>) -> Refusal {
    Refusal { why, detail: detail.into() }
}

/// An envelope that passed every check.
#[derive(Debug)]
pub struct Accepted {
    /// The envelope.
    pub envelope: Envelope,
    /// Its digest.
    pub digest: String,
    /// The request inside, parsed and checked.
    pub request: Request,
    /// The peer that sent it (index into [`Federation::peers`]).
    pub sender: usize,
}

impl Federation {
    /// The federation of `deployment`, if it has one: every peer needs a verifier key whose name is
    /// its origin, and the TLS files must load.
    /// The witness keeps its state in `data/witness`, cosigning with the key of the ledger of
    /// `origin` in `data` (created here if it does not exist yet, once the rest is checked).
    pub fn open(
        deployment: &model::Deployment,
        data: &std::path::Path,
        origin: &str,
    ) -> Result<Option<Self>, HubError> {
        let Some(config) = deployment.federation() else { return Ok(None) };
        let mut peers = Vec::new();
        for p in deployment.peers() {
            let vkey = p.vkey.as_deref().ok_or_else(|| {
                HubError::Config(format!(
                    "peer {:?}: no `vkey`: put the peer's ledger verifier key there (its DATA/ledger.vkey, or GET {}/v1/ledger/key)",
                    p.name, p.url
                ))
            })?;
            let verifier =
                NoteVerifier::parse(vkey).map_err(|e| HubError::Config(format!("peer {:?}: vkey: {e}", p.name)))?;
            if verifier.name() != p.origin {
                return Err(HubError::Config(format!(
                    "peer {:?}: its vkey is for origin {:?}, the table says origin {:?}",
                    p.name,
                    verifier.name(),
                    p.origin
                )));
            }
            peers.push(PeerLink { peer: p.clone(), verifier, sent: Default::default(), received: Default::default() });
        }
        let tls = ledger::http::Tls::from_files(&config.ca, Some((&config.cert, &config.key)))
            .map_err(|e| HubError::Config(format!("[federation]: {e}")))?;
        let agent = ledger::http::tls_agent(&tls, PEER_TIMEOUT)
            .map_err(|e| HubError::Config(format!("[federation] TLS files: {e}")))?;
        let urls: Vec<&str> = peers.iter().map(|p| p.peer.url.as_str()).collect();
        let client = crate::peer_client::PeerClient::new(&config.ca, &config.cert, &config.key, &urls, PEER_TIMEOUT)
            .map_err(|e| HubError::Config(format!("[federation]: {e}")))?;
        // The ledger (and so its key) is created only once everything above is sound.
        crate::init_ledger(data, origin)?;
        let key_path = data.join(crate::LEDGER_DIR).join(ledger::KEY_FILE);
        let signer = std::fs::read_to_string(&key_path)
            .map_err(|e| HubError::Io(format!("{}: {e}", key_path.display())))
            .and_then(|k| ledger::note::NoteSigner::parse(&k).map_err(|e| HubError::Config(e.to_string())))?;
        let vkeys: Vec<String> = peers.iter().map(|p| p.verifier.vkey()).collect();
        let witness = ledger::witness::Witness::with_signer(&data.join(WITNESS_DIR), signer, &vkeys)?;
        Ok(Some(Self {
            config: config.clone(),
            peers,
            agent,
            client,
            nonces: Mutex::new(HashMap::new()),
            refuse_before: AtomicU64::new(0),
            witness,
        }))
    }

    /// The peers as the witnesses this hub's ledger asks to cosign each checkpoint, reached over
    /// mutual TLS.
    pub fn witnesses(&self) -> (Vec<ledger::witness::WitnessEndpoint>, ureq::Agent) {
        let endpoints = self
            .peers
            .iter()
            .map(|p| ledger::witness::WitnessEndpoint {
                url: format!("{}{WITNESS_PREFIX}", p.peer.url.trim_end_matches('/')),
                verifier: p.verifier.with_alg(ledger::note::ALG_COSIGNATURE_V1),
            })
            .collect();
        (endpoints, self.agent.clone())
    }

    /// What this hub, as its peers' witness, has seen of each peer's ledger.
    pub fn witnessed(&self) -> Vec<Witnessed<'_>> {
        let views = self.witness.split_views();
        self.peers
            .iter()
            .map(|p| Witnessed {
                peer: &p.peer,
                cosigned: self.witness.witnessed(&p.peer.origin),
                split_views: views.iter().filter(|v| v.origin == p.peer.origin).cloned().collect(),
            })
            .collect()
    }

    /// [`Federation::witnessed`] as `GET /federation/witness` answers it.
    pub fn witness_view(&self) -> Value {
        let rows = self.witnessed();
        let peers: Vec<Value> = rows
            .iter()
            .map(|w| {
                let split: Vec<Value> = w
                    .split_views
                    .iter()
                    .map(|v| json!({"why": v.why, "witnessed": v.witnessed, "presented": v.presented}))
                    .collect();
                json!({
                    "name": w.peer.name,
                    "origin": w.peer.origin,
                    "url": w.peer.url,
                    "cosigned": w.cosigned,
                    "split_views": split,
                })
            })
            .collect();
        json!({"peers": peers, "split_views": rows.iter().map(|w| w.split_views.len()).sum::<usize>()})
    }

    /// The TLS files a federated hub serves with: its certificate, and the federation's CA for
    /// the peers' client certificates.
    pub fn tls_files(&self) -> crate::tls::TlsFiles {
        crate::tls::TlsFiles {
            cert: self.config.cert.clone(),
            key: self.config.key.clone(),
            client_ca: Some(self.config.ca.clone()),
            client_crls: Vec::new(),
        }
    }

    /// The peer that serves `source`.
    pub fn peer_for_source(&self, source: &str) -> Option<usize> {
        self.peers.iter().position(|p| p.peer.sources.iter().any(|s| s == source))
    }

    fn peer_by_origin(&self, origin: &str) -> Option<&PeerLink> {
        self.peers.iter().find(|p| p.peer.origin == origin)
    }

    /// Checks an envelope from the peer at `sender`: its form, every hop's signature and link,
    /// the first hub's right to send for the requester, the time window, and the nonce.
    pub fn check(&self, own_origin: &str, sender: usize, body: &[u8]) -> Result<Accepted, Refusal> {
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|e| refuse("malformed", format!("the envelope: {e}")))?;
        if envelope.v != ENVELOPE_VERSION {
            return Err(refuse(
                "malformed",
                format!("envelope version {}; this hub knows {ENVELOPE_VERSION}", envelope.v),
            ));
        }
        if envelope.nonce.len() != 32 || !envelope.nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(refuse("malformed", "`nonce` must be 32 hex digits"));
        }
        if envelope.hops.is_empty() || envelope.hops.len() > crate::api::MAX_CHAIN {
            return Err(refuse("malformed", format!("`hops` must hold 1 to {} links", crate::api::MAX_CHAIN)));
        }
        let peer = &self.peers[sender];
        let last = envelope.hops.last().map(|h| h.hub.as_str()).unwrap_or_default();
        if last != peer.peer.origin {
            return Err(refuse(
                "not_the_sender",
                format!(
                    "the last hop is {last:?}, but the connection is peer {:?} ({})",
                    peer.peer.name, peer.peer.origin
                ),
            ));
        }
        let digest = digest(&envelope);
        let mut prev = "-".to_string();
        for (i, hop) in envelope.hops.iter().enumerate() {
            if hop.hub == own_origin || envelope.hops[..i].iter().any(|h| h.hub == hop.hub) {
                return Err(refuse("broken_chain", format!("hop {i}: hub {:?} appears twice in the chain", hop.hub)));
            }
            let Some(link) = self.peer_by_origin(&hop.hub) else {
                return Err(refuse("unknown_peer", format!("hop {i}: hub {:?} is not a peer of this hub", hop.hub)));
            };
            let text_ok = |t: &str| !t.is_empty() && t.len() <= 256 && !t.contains(['\n', '\r']);
            if !text_ok(&hop.decision_id) || !text_ok(&hop.leaf) || !text_ok(&hop.prev) {
                return Err(refuse("malformed", format!("hop {i}: empty, overlong or multi-line field")));
            }
            verify_line(&link.verifier, &hop_body(&digest, hop), &hop.signature)
                .map_err(|e| refuse("bad_signature", format!("hop {i} ({}): {e}", hop.hub)))?;
            if hop.prev != prev {
                return Err(refuse(
                    "broken_chain",
                    format!("hop {i} ({}) does not follow the hop before it: a link was removed or reordered", hop.hub),
                ));
            }
            if hop.decision != Outcome::Permit {
                return Err(refuse("not_permitted", format!("hop {i} ({}) did not permit the request", hop.hub)));
            }
            prev = link_of(hop);
        }
        let request = crate::api::parse_request(envelope.request.as_bytes())
            .map_err(|p| refuse("malformed", format!("the request: {}", p.body()["detail"].as_str().unwrap_or(""))))?;
        let first = &envelope.hops[0].hub;
        let members = &self.peer_by_origin(first).map(|p| &p.peer.agencies);
        if !members.is_some_and(|m| m.contains(&request.requester.agency)) {
            return Err(refuse(
                "not_a_member",
                format!(
                    "agency {:?} is not a member of hub {first:?}, which sent the request first",
                    request.requester.agency
                ),
            ));
        }
        let time = now();
        let window = self.config.window_secs;
        if envelope.issued > time + SKEW_SECS || envelope.expires < time || envelope.expires < envelope.issued {
            return Err(refuse(
                "expired",
                format!("the envelope is valid from {} to {}; it is {time}", envelope.issued, envelope.expires),
            ));
        }
        if envelope.expires - envelope.issued > window {
            return Err(refuse("expired", format!("the envelope is valid for more than this hub's {window} seconds")));
        }
        if envelope.issued < self.refuse_before.load(Ordering::Relaxed) {
            return Err(refuse("expired", "the envelope was issued before this hub restarted; send it again"));
        }
        let mut nonces = self.nonces.lock().map_err(|_| refuse("malformed", "nonce store unavailable"))?;
        nonces.retain(|_, expires| *expires >= time);
        if nonces.insert(envelope.nonce.clone(), envelope.expires).is_some() {
            return Err(refuse("replayed", format!("nonce {} was already received", envelope.nonce)));
        }
        Ok(Accepted { envelope, digest, request, sender })
    }

    /// Remembers the nonces of the `inbound` entries of the last window in `ledger`'s published
    /// log (read from its end), so that an envelope received before a restart is still a replay
    /// after it. Durable entries past the published checkpoint (a crash before the last
    /// checkpoint) cannot be read here: then every envelope issued before now is refused.
    /// Returns how many nonces were found.
    pub fn recover_nonces(&self, ledger: &ledger::Ledger) -> Result<usize, HubError> {
        let size = ledger.published().map_or(0, |p| p.checkpoint.size);
        if ledger.size() > size {
            self.refuse_before.store(now(), Ordering::Relaxed);
        }
        // Entries are appended in time order, give or take the moments between deciding and
        // appending: a minute of margin past the window.
        let horizon = now().saturating_sub(self.config.window_secs + SKEW_SECS + 60);
        let mut nonces = self.nonces.lock().map_err(|_| HubError::Io("nonce store poisoned".into()))?;
        let mut found = 0;
        const W: u64 = ledger::tiles::TILE_WIDTH;
        let mut tile = size.div_ceil(W);
        'tiles: while tile > 0 {
            tile -= 1;
            let width = (size - tile * W).min(W);
            let bundle = crate::api::published_bundle(ledger, tile, size).map_err(HubError::Io)?;
            let entries = ledger::tiles::decode_bundle(&bundle).map_err(HubError::Io)?;
            for bytes in entries.iter().take(width as usize).rev() {
                let Ok(entry) = Entry::from_json_slice(bytes) else { continue };
                if entry.time() < horizon {
                    break 'tiles;
                }
                if let Entry::Inbound(d) = entry {
                    if let Some(f) = d.federation {
                        nonces.insert(f.nonce, d.time + self.config.window_secs + SKEW_SECS);
                        found += 1;
                    }
                }
            }
        }
        Ok(found)
    }

    /// The peer a verified client certificate names (`OU=hub`, `CN` = its name).
    fn sender_of(&self, cert: Option<&ClientCert>) -> Result<usize, (StatusCode, String, Option<String>)> {
        let id = cert.and_then(|c| c.identity.as_ref()).ok_or_else(|| {
            (
                StatusCode::UNAUTHORIZED,
                "hub-to-hub requests need a peer hub's client certificate (mutual TLS)".into(),
                None,
            )
        })?;
        if let Some(c) = cert {
            c.still_valid().map_err(|e| (StatusCode::UNAUTHORIZED, e, None))?;
        }
        if id.role != HUB_ROLE {
            return Err((
                StatusCode::FORBIDDEN,
                format!("the client certificate is not a hub's (OU is {:?}, not \"hub\")", id.role),
                None,
            ));
        }
        self.peers.iter().position(|p| p.peer.name == id.user).ok_or_else(|| {
            (
                StatusCode::FORBIDDEN,
                format!("hub {:?} (certificate CN) is not a peer of this hub", id.user),
                Some(id.user.clone()),
            )
        })
    }

    /// Counts an envelope received from `peer`, by this hub's outcome (`None`: refused).
    fn count_received(&self, peer: usize, outcome: Option<Outcome>) {
        self.peers[peer].received[slot(outcome)].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an envelope sent to `peer`, by its answer's outcome (`None`: failed).
    fn count_sent(&self, peer: usize, outcome: Option<Outcome>) {
        self.peers[peer].sent[slot(outcome)].fetch_add(1, Ordering::Relaxed);
    }

    /// The counts per peer, for `/metrics`: (peer name, sent by outcome and failed, received by
    /// outcome and refused).
    pub fn counts(&self) -> Vec<(String, [u64; 4], [u64; 4])> {
        let load = |a: &[AtomicU64; 4]| std::array::from_fn(|i| a[i].load(Ordering::Relaxed));
        self.peers.iter().map(|p| (p.peer.name.clone(), load(&p.sent), load(&p.received))).collect()
    }

    /// Sends `envelope` to peer `peer` and returns the HTTP status and body.
    async fn send(&self, peer: usize, envelope: &Envelope) -> Result<(u16, Vec<u8>), String> {
        let body = serde_json::to_vec(envelope).map_err(|e| e.to_string())?;
        self.client.post(peer, REQUESTS_PATH, body).await
    }
}

fn slot(outcome: Option<Outcome>) -> usize {
    match outcome {
        Some(Outcome::Permit) => 0,
        Some(Outcome::Deny) => 1,
        Some(Outcome::Review) => 2,
        None => 3,
    }
}

/// A fresh nonce: 32 hex digits.
fn nonce() -> Result<String, Problem> {
    crate::keys::random_bytes::<16>()
        .map(hex::encode)
        .map_err(|e| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "no-randomness", e.to_string()))
}

/// What came back from a peer, verified and logged.
pub(crate) struct Forwarded {
    /// The peer's answer (its decision, reasons, data), without its `receipts`.
    pub answer: Value,
    /// Every receipt: this hub's `outbound`, the peer's (its `inbound` first), this hub's
    /// `peer_receipt`.
    pub receipts: Vec<Receipt>,
    /// The peer's decision.
    pub decision: Outcome,
}

impl AppState {
    /// Appends `entry` and returns its index and its receipt.
    /// The receipt is signed while the entry's flush runs, and returned once it is durable.
    pub(crate) async fn log_with_receipt(&self, entry: &Entry) -> Result<(u64, Receipt), Problem> {
        let bytes = entry.to_json_vec();
        let appending = self.ledger.submit(bytes.clone()).map_err(crate::api::append_problem)?;
        let index = appending.written().await.map_err(crate::api::append_problem)?;
        let leaf = hex::encode(ledger::merkle::leaf_hash(&bytes));
        let receipt = self.receipt_for(index, leaf, bytes)?;
        appending.durable().await.map_err(crate::api::append_problem)?;
        Ok((index, receipt))
    }

    /// The signed receipt for the entry `bytes`, whose leaf hash (hex) is `leaf`, at `index`.
    fn receipt_for(&self, index: u64, leaf: String, bytes: Vec<u8>) -> Result<Receipt, Problem> {
        let note = self
            .ledger
            .get()
            .ok_or_else(|| Problem::ledger_unavailable("the ledger is recovering from a fault"))?
            .sign_note(&Receipt::body(&self.origin, index, &leaf))
            .map_err(|e| Problem::ledger_unavailable(e.to_string()))?;
        let entry = String::from_utf8(bytes).unwrap_or_default();
        Ok(Receipt { origin: self.origin.clone(), index, leaf, entry, note })
    }

    /// Sends a request this hub permitted to the peer that serves its source, and returns the
    /// peer's verified answer. `prior`: the envelope it came in (a relay), else a new one.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn forward(
        self: &Arc<Self>,
        peer: usize,
        request: &Request,
        decision: &Decision,
        token: &TokenRecord,
        owner: &str,
        prior: Option<&Envelope>,
    ) -> Result<Forwarded, Problem> {
        let fed = self.federation.as_ref().ok_or_else(not_federated)?;
        let link = &fed.peers[peer];
        let time = now();
        let mut envelope = match prior {
            Some(e) => e.clone(),
            None => Envelope {
                v: ENVELOPE_VERSION,
                request: serde_json::to_string(request).map_err(|e| Problem::bad_field("(body)", e.to_string()))?,
                nonce: nonce()?,
                issued: time,
                expires: time + fed.config.window_secs,
                hops: Vec::new(),
            },
        };
        let digest = digest(&envelope);
        let deployment = self.engine.deployment();
        let mut d = crate::entry::decision_entry(&self.key, deployment, request, decision, token, owner, time);
        d.federation = Some(FederationInfo {
            peer: link.peer.origin.clone(),
            envelope: digest.clone(),
            nonce: envelope.nonce.clone(),
            hops: envelope.hops.iter().map(|h| h.hub.clone()).collect(),
            sender_index: None,
        });
        // Log before it leaves: the outbound entry is written to the log before the envelope is
        // sent, and durable before anything from the peer reaches the user. Its flush runs while
        // the envelope travels (see "Federation" in docs/ARCHITECTURE.md for what that risks).
        let bytes = Entry::Outbound(d).to_json_vec();
        let appending = self.ledger.submit(bytes.clone()).map_err(crate::api::append_problem)?;
        let index = appending.written().await.map_err(crate::api::append_problem)?;
        let leaf = hex::encode(ledger::merkle::leaf_hash(&bytes));
        let ledger = self.ledger.get().ok_or_else(|| Problem::ledger_unavailable("the ledger is recovering"))?;
        let mut hop = Hop {
            hub: self.origin.clone(),
            prev: envelope.hops.last().map_or_else(|| "-".to_string(), link_of),
            decision_id: decision.decision_id.clone(),
            index,
            leaf: leaf.clone(),
            decision: decision.decision,
            signature: String::new(),
        };
        let note =
            ledger.sign_note(&hop_body(&digest, &hop)).map_err(|e| Problem::ledger_unavailable(e.to_string()))?;
        drop(ledger);
        hop.signature = signature_line(&note);
        envelope.hops.push(hop);
        // The user's receipt for the outbound entry is signed while the envelope travels: after
        // a yield, so that the connection's task, woken by the send, writes the envelope out
        // first (it waits on this worker otherwise, behind the signing).
        let (durable, sent, outbound) = tokio::join!(appending.durable(), fed.send(peer, &envelope), async {
            tokio::task::yield_now().await;
            self.receipt_for(index, leaf, bytes)
        });
        // Not durable: whatever the peer answered stays here (the peer's inbound entry names an
        // index this hub could not keep; the cross-ledger audit reports it).
        durable.map_err(crate::api::append_problem)?;
        let outbound = outbound?;
        let name = &link.peer.name;
        let failed = |why: &'static str| {
            Entry::ForwardFailed(ForwardFailedEntry {
                v: ENTRY_VERSION,
                time: now(),
                decision_id: decision.decision_id.clone(),
                decision_index: index,
                peer: link.peer.origin.clone(),
                why: why.to_string(),
            })
        };
        let checked = match sent {
            Err(e) => Err((
                "unreachable",
                StatusCode::SERVICE_UNAVAILABLE,
                format!("peer hub {name:?} ({}) cannot be reached: {e}", link.peer.url),
            )),
            Ok((status, body)) => self.check_answer(link, &digest, index, status, &body),
        };
        let (answer, peer_receipts, peer_decision) = match checked {
            Ok(ok) => ok,
            Err((why, status, detail)) => {
                fed.count_sent(peer, None);
                let at = self.log(&failed(why)).await?;
                return Err(Problem::new(
                    status,
                    if status == StatusCode::SERVICE_UNAVAILABLE { "peer-unavailable" } else { "peer-failed" },
                    format!("{detail}; nothing was released; the attempt is recorded at ledger index {at}"),
                )
                .with("peer", name.as_str())
                .with("ledger", self.receipt(at)));
            }
        };
        let first = &peer_receipts[0];
        let receipt_entry = Entry::PeerReceipt(PeerReceiptEntry {
            v: ENTRY_VERSION,
            time: now(),
            decision_id: decision.decision_id.clone(),
            decision_index: index,
            peer: link.peer.origin.clone(),
            peer_index: first.index,
            peer_leaf: first.leaf.clone(),
            peer_decision,
        });
        // The peer's receipt is durable here before anything from the peer reaches the user.
        let (_, logged) = self.log_with_receipt(&receipt_entry).await?;
        fed.count_sent(peer, Some(peer_decision));
        let mut receipts = vec![outbound];
        receipts.extend(peer_receipts);
        receipts.push(logged);
        Ok(Forwarded { answer, receipts, decision: peer_decision })
    }

    /// Checks a peer's answer: a 200 with receipts, the first one the peer's `inbound` entry for
    /// this envelope, naming this hub's outbound index, with the decision the answer gives.
    /// Returns the answer without its `receipts` member, and the receipts, parsed.
    #[allow(clippy::type_complexity)]
    fn check_answer(
        &self,
        link: &PeerLink,
        digest: &str,
        index: u64,
        status: u16,
        body: &[u8],
    ) -> Result<(Value, Vec<Receipt>, Outcome), (&'static str, StatusCode, String)> {
        let name = &link.peer.name;
        let mut answer: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        if status != 200 {
            let detail = answer["detail"].as_str().unwrap_or("no detail");
            // Unavailable for now (503), or over its rate for this hub (429): the user may retry.
            let kind = match status {
                503 | 429 => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_GATEWAY,
            };
            return Err(("refused", kind, format!("peer hub {name:?} answered {status}: {detail}")));
        }
        let bad = |why: &str| {
            (
                "bad_receipt",
                StatusCode::BAD_GATEWAY,
                format!("peer hub {name:?} answered without a valid receipt: {why}"),
            )
        };
        // Taken out of the answer (not copied): the caller passes on the receipts it checked.
        let receipts = answer.get_mut("receipts").map_or(Value::Null, Value::take);
        let receipts: Vec<Receipt> = serde_json::from_value(receipts).map_err(|e| bad(&format!("`receipts`: {e}")))?;
        let first = receipts.first().ok_or_else(|| bad("no receipt"))?;
        let unverified = |why: String| {
            (
                "unverified_receipt",
                StatusCode::BAD_GATEWAY,
                format!("peer hub {name:?}'s receipt does not verify: {why}"),
            )
        };
        let entry = first.verify(&link.verifier).map_err(unverified)?;
        let Entry::Inbound(d) = entry else {
            return Err(unverified(format!("the receipt is for a {:?} entry, not an inbound one", entry.kind())));
        };
        let fed = d.federation.as_ref().ok_or_else(|| unverified("no federation member".into()))?;
        if fed.envelope != digest || fed.peer != self.origin || fed.sender_index != Some(index) {
            return Err(unverified(
                "the receipt's entry is not the peer's inbound entry for this envelope from this hub".into(),
            ));
        }
        // The answer's decision is the peer's own, or, where the peer permitted and relayed the
        // request, the decision of a hub further on, whose receipt for this envelope says so.
        let claimed = answer["decision"].as_str().unwrap_or_default();
        let relayed = || {
            d.decision == Outcome::Permit
                && receipts[1..].iter().any(|r| {
                    let Some(hub) = self.federation.as_ref().and_then(|f| f.peer_by_origin(&r.origin)) else {
                        return false;
                    };
                    matches!(r.verify(&hub.verifier), Ok(Entry::Inbound(e))
                        if e.decision.as_str() == claimed
                            && e.federation.as_ref().is_some_and(|f| f.envelope == digest))
                })
        };
        if claimed != d.decision.as_str() && !relayed() {
            return Err(unverified(format!(
                "the answer says {claimed:?}, the peer's logged entry {:?}, and no receipt of a hub further on says {claimed:?}",
                d.decision.as_str()
            )));
        }
        Ok((answer, receipts, d.decision))
    }
}

/// The answer of a hub that is not in a federation to a federation request.
fn not_federated() -> Problem {
    Problem::not_found("this hub is not in a federation")
}

/// `POST /witness/add-checkpoint`: a peer asks this hub to cosign its checkpoint (C2SP
/// tlog-witness). Only a peer, over mutual TLS, and only for its own ledger: a consistency proof
/// that fails is then that peer's own claim, and no stranger can make an honest peer look split.
pub(crate) async fn add_checkpoint(
    State(st): State<Arc<AppState>>,
    cert: Option<axum::Extension<ClientCert>>,
    body: Bytes,
) -> Response {
    let Some(fed) = st.federation.as_ref() else {
        return not_federated().into_response();
    };
    let origin = match fed.sender_of(cert.as_ref().map(|axum::Extension(c)| c)) {
        Ok(i) => fed.peers[i].peer.origin.clone(),
        Err((status, detail, _)) => return Problem::new(status, "peer-refused", detail).into_response(),
    };
    let answer = tokio::task::spawn_blocking(move || {
        st.federation.as_ref().map(|f| f.witness.add_checkpoint_from(&origin, &body))
    })
    .await;
    match answer {
        Ok(Some(r)) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(axum::http::header::CONTENT_TYPE, r.content_type)], r.body).into_response()
        }
        _ => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "witness-unavailable", "the witness cannot answer now")
            .into_response(),
    }
}

/// `GET /federation/witness`: what this hub, as its peers' witness, has seen (public).
pub(crate) async fn witness_view(State(st): State<Arc<AppState>>) -> Response {
    match st.federation.as_ref() {
        Some(f) => Json(f.witness_view()).into_response(),
        None => not_federated().into_response(),
    }
}

/// `POST /v1/federation/requests`: an envelope from a peer hub.
pub(crate) async fn receive(
    State(st): State<Arc<AppState>>,
    cert: Option<axum::Extension<ClientCert>>,
    body: Bytes,
) -> Response {
    let Some(fed) = st.federation.as_ref() else {
        return not_federated().into_response();
    };
    let refused = |peer: String, why: &'static str| {
        Entry::PeerRefused(PeerRefusedEntry {
            v: ENTRY_VERSION,
            time: now(),
            peer,
            why: why.to_string(),
            // Hashed only for a refusal that is logged.
            envelope: hex::encode(Sha256::digest(&body)),
        })
    };
    let sender = match fed.sender_of(cert.as_ref().map(|axum::Extension(c)| c)) {
        Ok(i) => i,
        Err((status, detail, named)) => {
            let mut problem = Problem::new(status, "peer-refused", detail);
            // A certificate of the federation's CA that names no peer: logged, by a keyed hash.
            if let Some(name) = named {
                match st.log(&refused(crate::entry::hashed(&st.key, "peer", &name), "unknown_peer")).await {
                    Ok(at) => problem = problem.with("ledger", st.receipt(at)),
                    Err(p) => return p.into_response(),
                }
            }
            return problem.into_response();
        }
    };
    let origin = fed.peers[sender].peer.origin.clone();
    // A peer over its rate is refused before its envelope's signatures are checked, and the
    // refusal is not logged: a flood must not cost this hub signature checks or ledger entries.
    if let Err(p) = st.limiter.admit_peer(&origin) {
        fed.count_received(sender, None);
        return p.into_response();
    }
    let accepted = match fed.check(&st.origin, sender, &body) {
        Ok(a) => a,
        Err(r) => {
            fed.count_received(sender, None);
            let status = if r.why == "malformed" { StatusCode::BAD_REQUEST } else { StatusCode::FORBIDDEN };
            return match st.log(&refused(origin, r.why)).await {
                Ok(at) => Problem::new(
                    status,
                    "envelope-refused",
                    format!("{}: {}; the refusal is recorded", r.why, r.detail),
                )
                .with("reason", r.why)
                .with("ledger", st.receipt(at))
                .into_response(),
                Err(p) => p.into_response(),
            };
        }
    };
    inbound(st, accepted).await
}

/// Decides an accepted envelope by this hub's law, logs the `inbound` entry, and releases, holds
/// or forwards it further.
async fn inbound(st: Arc<AppState>, a: Accepted) -> Response {
    let fed = st.federation.as_ref().expect("a federated hub");
    let link = &fed.peers[a.sender];
    let request = &a.request;
    let token = TokenRecord {
        id: format!("hub:{}", link.peer.name),
        hash: String::new(),
        agency: request.requester.agency.clone(),
        user: request.requester.id.clone(),
        role: HUB_ROLE.into(),
        issued: 0,
        expires: u64::MAX,
        revoked: false,
    };
    let deployment = st.engine.deployment();
    let mut decision = st.engine.decide_on(request, model::Date::from_unix(now() as i64));
    crate::duties::require_certifications(&mut decision, request);
    let owner = deployment.source(&request.source).map(|s| s.owner.clone()).unwrap_or_default();
    let time = now();
    let mut d = crate::entry::decision_entry(&st.key, deployment, request, &decision, &token, &owner, time);
    let last = a.envelope.hops.last().map(|h| h.index);
    d.federation = Some(FederationInfo {
        peer: link.peer.origin.clone(),
        envelope: a.digest.clone(),
        nonce: a.envelope.nonce.clone(),
        hops: a.envelope.hops.iter().map(|h| h.hub.clone()).collect(),
        sender_index: last,
    });
    // Log before release: the inbound entry is durable before anything else happens.
    let (index, receipt) = match st.log_with_receipt(&Entry::Inbound(d)).await {
        Ok(r) => r,
        Err(p) => return p.into_response(),
    };
    fed.count_received(a.sender, Some(decision.decision));
    let mut body = crate::api::decision_json(&decision);
    let mut receipts = vec![receipt];
    match decision.decision {
        Outcome::Permit => {
            if let Some(next) = fed.peer_for_source(&request.source) {
                // A relay: this hub permitted it by its law; the peer that serves the source decides.
                match st.forward(next, request, &decision, &token, &owner, Some(&a.envelope)).await {
                    Ok(f) => {
                        body = f.answer;
                        receipts.extend(f.receipts);
                    }
                    Err(p) => return p.into_response(),
                }
            } else if let Err(p) = st.attach_data(&mut body, request, &decision.obligations, index).await {
                return p.into_response();
            }
        }
        Outcome::Review => {
            if let Err(p) = st.hold_review(request, &decision, &owner, index, time).await {
                return p.into_response();
            }
            body["review"] = json!({"id": decision.decision_id, "status": "pending", "held_by": st.origin});
        }
        Outcome::Deny => {}
    }
    body["receipts"] = json!(receipts);
    (StatusCode::OK, Json(body)).into_response()
}
