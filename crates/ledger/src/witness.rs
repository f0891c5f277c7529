//! C2SP tlog-witness: a witness that cosigns only checkpoints consistent with
//! what it saw before, and the client a log uses to collect cosignatures.
//!
//! Protocol: `POST /add-checkpoint` with body `old <size>\n`, the consistency
//! proof from that size (one base64 hash per line), a blank line, and the
//! signed checkpoint. Answers: `200` with cosignature lines; `409` with the
//! witness's current size (`text/x.tlog.size`) if `old` is not it; `404` for an
//! unknown log; `403` if the log's signature is missing or bad or the
//! checkpoint is malformed; `400` for a malformed request or `old` above the
//! checkpoint size; `422` if the consistency proof does not verify (including
//! the same size with another root: a fork).
//!
//! A checkpoint that does not extend what the witness cosigned before, with a valid signature of
//! the log, is evidence that the log shows different histories to different parties (a split
//! view, or a log rolled back and grown again): the witness keeps both signed checkpoints in
//! `split-views/` ([`Witness::split_views`]) and refuses it (422).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::checkpoint::Checkpoint;
use crate::merkle::{self, Hash, EMPTY_ROOT};
use crate::note::{Note, NoteSigner, NoteVerifier, ALG_COSIGNATURE_V1};
use crate::LedgerError;

/// Content type of the size body of a 409 answer.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// A witness the log asks for cosignatures.
#[derive(Debug, Clone)]
pub struct WitnessEndpoint {
    /// Base URL (`http://host:port`); requests go to `<url>/add-checkpoint`.
    pub url: String,
    /// The witness's cosignature verifier key.
    pub verifier: NoteVerifier,
}

impl WitnessEndpoint {
    /// Parses `<vkey>@<url>`.
    pub fn parse(s: &str) -> Result<Self, LedgerError> {
        let (vkey, url) =
            s.split_once('@').ok_or_else(|| LedgerError::Config(format!("witness {s:?} must be <vkey>@<url>")))?;
        Ok(Self { url: url.trim_end_matches('/').to_string(), verifier: NoteVerifier::parse(vkey)? })
    }
}

/// Asks witnesses to cosign, remembering the size each one last saw.
#[derive(Debug)]
pub struct WitnessClient {
    endpoints: Vec<WitnessEndpoint>,
    known: Vec<u64>,
    agent: ureq::Agent,
}

impl WitnessClient {
    /// A client for these witnesses.
    pub fn new(endpoints: Vec<WitnessEndpoint>) -> Self {
        Self::with_agent(endpoints, crate::http::agent(std::time::Duration::from_secs(10)))
    }

    /// A client that reaches the witnesses with `agent` (for example over mutual TLS,
    /// [`crate::http::tls_agent`]).
    pub fn with_agent(endpoints: Vec<WitnessEndpoint>, agent: ureq::Agent) -> Self {
        Self { known: vec![0; endpoints.len()], endpoints, agent }
    }

    /// Sends the checkpoint `note` (of tree `size`) to every witness and
    /// returns the verified cosignature lines received.
    pub fn cosign(
        &mut self,
        note: &str,
        size: u64,
        proof_for: &dyn Fn(u64) -> Result<Vec<Hash>, LedgerError>,
    ) -> Result<Vec<String>, LedgerError> {
        let body_text = Note::parse(note.as_bytes())?.body;
        let mut lines = Vec::new();
        let mut pending: Vec<usize> = (0..self.endpoints.len()).collect();
        // Every witness at once, so that a checkpoint waits for the slowest witness rather than
        // for the sum of them; one more round for those that answered 409 with their size.
        for _ in 0..2 {
            if pending.is_empty() {
                break;
            }
            // The proofs are computed here, on the log's thread, before the requests go out.
            let mut proofs = BTreeMap::new();
            for &i in &pending {
                let old = self.known[i].min(size);
                if let std::collections::btree_map::Entry::Vacant(e) = proofs.entry(old) {
                    e.insert(proof_for(old)?);
                }
            }
            let (agent, endpoints, known) = (&self.agent, &self.endpoints, &self.known);
            let answers: Vec<(usize, Asked)> = std::thread::scope(|s| {
                let handles: Vec<_> = pending
                    .iter()
                    .map(|&i| {
                        let old = known[i].min(size);
                        let (body_text, proof) = (&body_text, &proofs[&old]);
                        (i, s.spawn(move || ask(agent, &endpoints[i], note, body_text, old, proof)))
                    })
                    .collect();
                handles.into_iter().map(|(i, h)| (i, h.join().unwrap_or(Asked::Failed))).collect()
            });
            pending.clear();
            for (i, answer) in answers {
                match answer {
                    Asked::Cosigned(got) => {
                        if !got.is_empty() {
                            self.known[i] = size;
                        }
                        lines.extend(got);
                    }
                    Asked::Size(n) => {
                        self.known[i] = n;
                        pending.push(i);
                    }
                    Asked::Failed => {}
                }
            }
        }
        Ok(lines)
    }
}

/// What one witness answered.
enum Asked {
    /// 200: the verified cosignature lines.
    Cosigned(Vec<String>),
    /// 409: the size the witness knows.
    Size(u64),
    /// Unreachable, or any other answer.
    Failed,
}

/// Asks one witness to cosign `note` given the consistency `proof` from `old`.
fn ask(agent: &ureq::Agent, w: &WitnessEndpoint, note: &str, body_text: &str, old: u64, proof: &[Hash]) -> Asked {
    let mut req = format!("old {old}\n");
    for h in proof {
        req.push_str(&B64.encode(h));
        req.push('\n');
    }
    req.push('\n');
    req.push_str(note);
    let Ok(mut resp) = agent.post(&format!("{}/add-checkpoint", w.url)).send(req.as_bytes()) else {
        return Asked::Failed;
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    match status {
        409 => text.trim().parse().map_or(Asked::Failed, Asked::Size),
        200 => Asked::Cosigned(
            text.lines()
                .filter(|l| !l.is_empty())
                .filter(|line| {
                    Note::parse(format!("{body_text}\n{line}\n").as_bytes())
                        .is_ok_and(|n| n.verify_by(&w.verifier).is_ok())
                })
                .map(str::to_string)
                .collect(),
        ),
        _ => Asked::Failed,
    }
}

/// First line of a split-view evidence file.
const SPLIT_VIEW_HEADER: &str = "fusionguard split view: two checkpoints signed by one log";
/// The line between the two checkpoints of an evidence file.
const SPLIT_VIEW_SEPARATOR: &str = "-- presented later, not consistent with the above --";

fn hex16(h: &Hash) -> String {
    h[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `path` through a temporary file, synced, then renamed.
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), LedgerError> {
    let err = |e: std::io::Error| LedgerError::Io { what: path.display().to_string(), why: e.to_string() };
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)?;
    match path.parent() {
        Some(dir) => std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(err),
        None => Ok(()),
    }
}

/// What a witness remembers about one log.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LogState {
    size: u64,
    root: Hash,
}

/// Evidence of a split view: two checkpoints, each signed by the log, that no append-only log
/// can both have published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitView {
    /// The log's origin.
    pub origin: String,
    /// The signed checkpoint the witness had cosigned (empty if it was cosigned before the
    /// witness kept signed notes).
    pub witnessed: String,
    /// The signed checkpoint presented later, which does not extend it.
    pub presented: String,
    /// Why they cannot both be true (the consistency check's error).
    pub why: String,
    /// The file that keeps them.
    pub file: PathBuf,
}

/// A witness: a cosigning key, the logs it follows and its durable state.
#[derive(Debug)]
pub struct Witness {
    dir: PathBuf,
    signer: NoteSigner,
    logs: BTreeMap<String, NoteVerifier>,
    lock: Mutex<()>,
}

/// Answer of the witness to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessResponse {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

fn answer(status: u16, body: impl Into<String>) -> WitnessResponse {
    WitnessResponse { status, content_type: "text/plain; charset=utf-8", body: body.into() }
}

impl Witness {
    /// Opens (creating the key if needed) the witness state directory `dir`,
    /// named `name`, following the logs whose checkpoint verifier keys are `log_vkeys`.
    pub fn open(dir: &Path, name: &str, log_vkeys: &[String]) -> Result<Self, LedgerError> {
        let ioe =
            |what: &Path, e: std::io::Error| LedgerError::Io { what: what.display().to_string(), why: e.to_string() };
        std::fs::create_dir_all(dir.join("logs")).map_err(|e| ioe(dir, e))?;
        let key_path = dir.join("witness.key");
        let signer = match std::fs::read_to_string(&key_path) {
            Ok(s) => NoteSigner::parse(&s)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let s = NoteSigner::generate(name, ALG_COSIGNATURE_V1)?;
                std::fs::write(&key_path, format!("{}\n", s.skey())).map_err(|e| ioe(&key_path, e))?;
                s
            }
            Err(e) => return Err(ioe(&key_path, e)),
        };
        Self::with_signer(dir, signer, log_vkeys)
    }

    /// Opens the witness state directory `dir`, cosigning with `signer` (used with the
    /// cosignature/v1 algorithm whatever its own), following the logs of `log_vkeys`.
    pub fn with_signer(dir: &Path, signer: NoteSigner, log_vkeys: &[String]) -> Result<Self, LedgerError> {
        let ioe =
            |what: &Path, e: std::io::Error| LedgerError::Io { what: what.display().to_string(), why: e.to_string() };
        std::fs::create_dir_all(dir.join("logs")).map_err(|e| ioe(dir, e))?;
        let signer = signer.with_alg(ALG_COSIGNATURE_V1);
        let mut logs = BTreeMap::new();
        for v in log_vkeys {
            let v = NoteVerifier::parse(v)?;
            logs.insert(v.name().to_string(), v);
        }
        Ok(Self { dir: dir.to_path_buf(), signer, logs, lock: Mutex::new(()) })
    }

    /// The witness's cosignature verifier key.
    pub fn vkey(&self) -> String {
        self.signer.verifier().vkey()
    }

    fn state_path(&self, origin: &str) -> PathBuf {
        let id = crate::merkle::leaf_hash(origin.as_bytes());
        let hex: String = id[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join("logs").join(hex)
    }

    fn load(&self, origin: &str) -> Result<LogState, LedgerError> {
        match std::fs::read_to_string(self.state_path(origin)) {
            Ok(s) => {
                // The signed checkpoint last cosigned (a bare checkpoint body in older state).
                let body = Note::parse(s.as_bytes()).map(|n| n.body).unwrap_or(s);
                let cp = Checkpoint::parse(&body)?;
                Ok(LogState { size: cp.size, root: cp.root })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LogState { size: 0, root: EMPTY_ROOT }),
            Err(e) => Err(LedgerError::Io { what: self.state_path(origin).display().to_string(), why: e.to_string() }),
        }
    }

    /// Keeps the signed checkpoint `note` as the last one cosigned for its log: one file, written
    /// durably, the evidence if a later checkpoint contradicts it.
    fn store(&self, cp: &Checkpoint, note: &str) -> Result<(), LedgerError> {
        write_durably(&self.state_path(&cp.origin), note.as_bytes())
    }

    /// Keeps `presented`, which contradicts the checkpoint last cosigned for its log.
    fn keep_split_view(&self, cp: &Checkpoint, presented: &str, why: &str) -> Result<(), LedgerError> {
        let witnessed = self.witnessed(&cp.origin).unwrap_or_default();
        let dir = self.dir.join("split-views");
        std::fs::create_dir_all(&dir)
            .map_err(|e| LedgerError::Io { what: dir.display().to_string(), why: e.to_string() })?;
        let id = hex16(&crate::merkle::leaf_hash(presented.as_bytes()));
        let file = dir.join(format!("{}-{id}.txt", hex16(&crate::merkle::leaf_hash(cp.origin.as_bytes()))));
        let text = format!("{SPLIT_VIEW_HEADER}\nwhy {why}\n\n{witnessed}\n{SPLIT_VIEW_SEPARATOR}\n\n{presented}");
        write_durably(&file, text.as_bytes())
    }

    /// The last checkpoint of log `origin` this witness cosigned, as the log signed it.
    pub fn witnessed(&self, origin: &str) -> Option<String> {
        std::fs::read_to_string(self.state_path(origin)).ok().filter(|s| Note::parse(s.as_bytes()).is_ok())
    }

    /// The split views this witness has seen, each with both signed checkpoints.
    pub fn split_views(&self) -> Vec<SplitView> {
        let Ok(dir) = std::fs::read_dir(self.dir.join("split-views")) else { return Vec::new() };
        let mut out: Vec<SplitView> = dir
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let file = e.path();
                let text = std::fs::read_to_string(&file).ok()?;
                let rest = text.strip_prefix(SPLIT_VIEW_HEADER)?.strip_prefix("\nwhy ")?;
                let (why, rest) = rest.split_once("\n\n")?;
                let (witnessed, presented) = rest.split_once(&format!("\n{SPLIT_VIEW_SEPARATOR}\n\n"))?;
                let origin = Note::parse(presented.as_bytes())
                    .ok()
                    .and_then(|n| Checkpoint::parse(&n.body).ok())
                    .map(|c| c.origin)
                    .unwrap_or_default();
                Some(SplitView {
                    origin,
                    witnessed: witnessed.to_string(),
                    presented: presented.to_string(),
                    why: why.to_string(),
                    file,
                })
            })
            .collect();
        out.sort_by(|a, b| a.file.cmp(&b.file));
        out
    }

    /// Handles the body of a `POST /add-checkpoint` request.
    pub fn add_checkpoint(&self, body: &[u8]) -> WitnessResponse {
        match self.add_checkpoint_inner(body, None) {
            Ok(r) | Err(r) => r,
        }
    }

    /// Like [`Witness::add_checkpoint`], for a caller authenticated as the operator of log
    /// `origin`: a checkpoint of another log is refused (403). A witness that keeps split-view
    /// evidence should take checkpoints this way only: a consistency proof that fails is then the
    /// log's own claim, not a stranger's.
    pub fn add_checkpoint_from(&self, origin: &str, body: &[u8]) -> WitnessResponse {
        match self.add_checkpoint_inner(body, Some(origin)) {
            Ok(r) | Err(r) => r,
        }
    }

    fn add_checkpoint_inner(&self, body: &[u8], from: Option<&str>) -> Result<WitnessResponse, WitnessResponse> {
        let text = std::str::from_utf8(body).map_err(|_| answer(400, "not UTF-8"))?;
        let (head, note_text) = text.split_once("\n\n").ok_or_else(|| answer(400, "missing blank line"))?;
        let mut head_lines = head.lines();
        let old: u64 = head_lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| answer(400, "first line must be old <size>"))?;
        let proof: Vec<Vec<u8>> = head_lines
            .map(|l| B64.decode(l).map_err(|_| answer(400, "proof line is not base64")))
            .collect::<Result<_, _>>()?;
        if proof.len() > 63 {
            return Err(answer(400, "proof too long"));
        }
        let note = Note::parse(note_text.as_bytes()).map_err(|e| answer(403, e.to_string()))?;
        let cp = Checkpoint::parse(&note.body).map_err(|e| answer(403, e.to_string()))?;
        if from.is_some_and(|o| o != cp.origin) {
            return Err(answer(403, "a log's operator may submit only its own log's checkpoints"));
        }
        let verifier = self.logs.get(&cp.origin).ok_or_else(|| answer(404, "unknown log"))?;
        note.verify_by(verifier).map_err(|e| answer(403, e.to_string()))?;
        if old > cp.size {
            return Err(answer(400, "old size is larger than the checkpoint"));
        }
        let _g = self.lock.lock().map_err(|_| answer(500, "poisoned"))?;
        let state = self.load(&cp.origin).map_err(|e| answer(500, e.to_string()))?;
        if old != state.size {
            return Err(WitnessResponse {
                status: 409,
                content_type: SIZE_CONTENT_TYPE,
                body: format!("{}\n", state.size),
            });
        }
        if let Err(e) = merkle::verify_consistency(old, cp.size, &proof, &state.root, &cp.root) {
            // The log signed a checkpoint that does not extend the one cosigned before. A proof
            // that is merely wrong cannot be told from a fork here, so the evidence is kept
            // either way: both checkpoints are signed by the log.
            self.keep_split_view(&cp, note_text, &e.to_string()).map_err(|e| answer(500, e.to_string()))?;
            return Err(answer(422, e.to_string()));
        }
        self.store(&cp, note_text).map_err(|e| answer(500, e.to_string()))?;
        let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let line = self.signer.signature_line(note.body.as_bytes(), ts);
        Ok(answer(200, format!("{line}\n")))
    }

    /// Serves the witness on `listener` until `stop` returns true (checked per connection).
    pub fn serve(&self, listener: &TcpListener, stop: &dyn Fn() -> bool) -> Result<(), LedgerError> {
        for conn in listener.incoming() {
            if stop() {
                break;
            }
            let Ok(stream) = conn else { continue };
            let _ = self.handle(stream);
        }
        Ok(())
    }

    fn handle(&self, stream: TcpStream) -> std::io::Result<()> {
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut request_line = String::new();
        reader.read_line(&mut request_line)?;
        let mut content_length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.trim().eq_ignore_ascii_case("content-length") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let resp = if request_line.starts_with("POST /add-checkpoint ") {
            if content_length > 1 << 20 {
                answer(400, "body too large")
            } else {
                let mut body = vec![0; content_length];
                reader.read_exact(&mut body)?;
                self.add_checkpoint(&body)
            }
        } else {
            answer(404, "not found")
        };
        let mut out = stream;
        write!(
            out,
            "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            resp.status,
            resp.content_type,
            resp.body.len(),
            resp.body
        )?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, MemoryTree};
    use crate::note::{sign_note, NoteSigner, ALG_ED25519};

    fn request(old: u64, proof: &[Hash], note: &str) -> Vec<u8> {
        let mut r = format!("old {old}\n");
        for h in proof {
            r.push_str(&B64.encode(h));
            r.push('\n');
        }
        r.push('\n');
        r.push_str(note);
        r.into_bytes()
    }

    #[test]
    fn status_codes_follow_tlog_witness() {
        let dir = std::env::temp_dir().join(format!("witness-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let log = NoteSigner::generate("example.org/w", ALG_ED25519).unwrap();
        let w = Witness::open(&dir, "w.example", &[log.verifier().vkey()]).unwrap();
        let mut tree = MemoryTree::new();
        for i in 0..10u8 {
            tree.push(leaf_hash(&[i]));
        }
        let cp = |n: u64, t: &MemoryTree| {
            sign_note(&Checkpoint::new("example.org/w", n, t.root(n).unwrap()).body(), &[&log], 0)
        };
        // Happy path from the empty state, then 409 for a stale old size.
        assert_eq!(w.add_checkpoint(&request(0, &[], &cp(5, &tree))).status, 200);
        let r = w.add_checkpoint(&request(0, &[], &cp(10, &tree)));
        assert_eq!((r.status, r.content_type, r.body.as_str()), (409, SIZE_CONTENT_TYPE, "5\n"));
        // Bad proof: 422; good proof: 200.
        let good = crate::merkle::consistency_proof(&tree, 5, 10).unwrap();
        let mut bad = good.clone();
        bad[0][0] ^= 1;
        assert_eq!(w.add_checkpoint(&request(5, &bad, &cp(10, &tree))).status, 422);
        assert_eq!(w.add_checkpoint(&request(5, &good, &cp(10, &tree))).status, 200);
        // A fork at the same size: 422. Unknown log: 404. Bad signature: 403. old > size: 400.
        let mut fork = MemoryTree::new();
        for i in 0..10u8 {
            fork.push(leaf_hash(&[i, 1]));
        }
        // A wrong proof cannot be told from a fork: it is kept too (the log signed both).
        assert_eq!(w.split_views().len(), 1);
        std::fs::remove_dir_all(dir.join("split-views")).unwrap();
        assert_eq!(w.add_checkpoint(&request(10, &[], &cp(10, &fork))).status, 422);
        // The fork is kept as evidence: the checkpoint cosigned and the one that contradicts it.
        let views = w.split_views();
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].origin, "example.org/w");
        assert_eq!(views[0].witnessed, cp(10, &tree));
        assert_eq!(views[0].presented, cp(10, &fork));
        let other = NoteSigner::generate("example.org/other", ALG_ED25519).unwrap();
        let unknown = sign_note(&Checkpoint::new("example.org/other", 1, [0; 32]).body(), &[&other], 0);
        assert_eq!(w.add_checkpoint(&request(0, &[], &unknown)).status, 404);
        // An operator authenticated for another log may not submit this one's checkpoints.
        assert_eq!(w.add_checkpoint_from("example.org/other", &request(10, &[], &cp(10, &tree))).status, 403);
        let forged =
            sign_note(&Checkpoint::new("example.org/w", 10, tree.root(10).unwrap()).body(), &[&other.with_alg(1)], 0)
                .replace("example.org/other ", "example.org/w ");
        assert_eq!(w.add_checkpoint(&request(10, &[], &forged)).status, 403);
        assert_eq!(w.add_checkpoint(&request(11, &[], &cp(10, &tree))).status, 400);
        // State survives a restart.
        drop(w);
        let w = Witness::open(&dir, "w.example", &[log.verifier().vkey()]).unwrap();
        assert_eq!(w.add_checkpoint(&request(0, &[], &cp(10, &tree))).body, "10\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
