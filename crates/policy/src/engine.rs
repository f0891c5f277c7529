//! The checkpoint: turns a request into a decision with the law library, failing closed.
//!
//! For each agency of the originator chain (originator first, requester last) the request is
//! evaluated as if that agency had asked, against the slice of the library that can apply to the
//! triple (source, agency, action). Per agency:
//! 1. the rules (permits and forbids) decide allow or deny, Cedar-style;
//! 2. if allowed, review policies may hold it for a supervisor, and obligation policies attach their
//!    obligations;
//! 3. if denied, floor policies may still release a restricted part (8 U.S.C. 1373 status only).
//!
//! The chain's answer is the most restrictive: any deny denies, else any review reviews, else permit
//! with the union of obligations. Any evaluation error, unknown id or unknown obligation denies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use cedar_policy::{
    Authorizer, Context, Effect, Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy, PolicyId, PolicySet,
    Request as CedarRequest, RestrictedExpression,
};
use model::{vocab, Agency, Date, Decision, Deployment, Outcome, Reason, Request, Source};
use serde_json::{json, Map, Value};

use crate::justification::{self, Signal};
use crate::library::{LawLibrary, LawPolicy, PolicyClass, Side};
use crate::obligation;
use crate::specialize;

/// Why an engine could not be built for a deployment.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the checkpoint: {0}")]
pub struct EngineError(String);

/// Whether to evaluate the slice for the request or the whole library (for benchmarks and the
/// equivalence tests; both must decide the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slicing {
    /// Only the policies that can apply to the (source, agency) pair.
    Sliced,
    /// Every policy of the library.
    Unsliced,
}

/// The probes (see [`LawPolicy::probe`]) of the policies that can apply to one (source, agency,
/// action), evaluated together in one Cedar call.
#[derive(Clone, Debug, Default)]
struct Slice {
    probes: PolicySet,
    members: Vec<usize>,
}

impl Slice {
    fn build(members: Vec<(usize, Policy)>) -> Self {
        let mut probes = PolicySet::new();
        for (_, probe) in &members {
            // Ids are unique (checked when the library loaded), so adding cannot fail.
            let _ = probes.add(probe.clone());
        }
        Slice { probes, members: members.into_iter().map(|(i, _)| i).collect() }
    }
}

/// The values each context attribute can take: every attribute comes from a closed vocabulary,
/// which is what makes static pruning by enumeration sound.
fn context_domain(field: &str) -> usize {
    match field {
        "purpose" => vocab::PURPOSES.len(),
        "legal_basis" => vocab::LEGAL_BASIS_KINDS.len(),
        "justification_signal" => 3,
        _ => 2,
    }
}

/// The boolean context attributes, in the order of [`ContextKey::flags`].
const FLAGS: [&str; 7] = [
    "has_case_number",
    "has_justification",
    "immigration_purpose",
    "forwarded",
    "via_fusion_center",
    "via_immigration",
    "status_only",
];

/// True if the enumeration in `can_hold` knows every value of this context attribute.
fn enumerable(field: &str) -> bool {
    matches!(field, "purpose" | "legal_basis" | "justification_signal") || FLAGS.contains(&field)
}

fn set_context_field(key: &mut ContextKey, field: &str, value: usize) {
    match field {
        "purpose" => key.purpose = value,
        "legal_basis" => key.legal_basis = value,
        "justification_signal" => key.signal = [Signal::None, Signal::Weak, Signal::Strong][value],
        other => {
            if let Some(i) = FLAGS.iter().position(|f| *f == other) {
                key.flags[i] = value == 1;
            }
        }
    }
}

/// Everything a Cedar context is made of (all closed vocabularies), as a cache key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ContextKey {
    purpose: usize,
    legal_basis: usize,
    signal: Signal,
    flags: [bool; 7],
}

/// A request checked and translated into one Cedar request per agency of the chain.
struct Prepared {
    source_pos: usize,
    action_pos: usize,
    links: Vec<(usize, CedarRequest)>,
    signals: Vec<String>,
}

/// The verdict for one agency of the chain.
struct LinkVerdict {
    outcome: Outcome,
    reasons: Vec<usize>,
    obligations: Vec<usize>,
    errors: Vec<String>,
}

/// The policy checkpoint for one deployment and one law library.
pub struct Engine {
    library: Arc<LawLibrary>,
    deployment: Deployment,
    entities: Entities,
    agency_uids: Vec<EntityUid>,
    source_uids: Vec<EntityUid>,
    agency_attrs: Vec<Map<String, Value>>,
    source_attrs: Vec<Map<String, Value>>,
    action_uids: Vec<EntityUid>,
    slices: Vec<OnceLock<Slice>>,
    unsliced: Slice,
    policy_index: HashMap<String, usize>,
    supported: Vec<&'static str>,
    authorizer: Authorizer,
    contexts: RwLock<HashMap<ContextKey, Context>>,
    interned: Mutex<HashMap<(usize, String), Policy>>,
    id_seed: u64,
    id_counter: AtomicU64,
}

fn uid(type_name: &str, id: &str) -> Result<EntityUid, EngineError> {
    let t: EntityTypeName = type_name.parse().map_err(|e| EngineError(format!("{type_name}: {e}")))?;
    Ok(EntityUid::from_type_name_and_id(t, EntityId::new(id)))
}

fn s(v: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(v.to_string())
}

/// Cedar attribute values for a JSON object of strings, booleans and arrays of strings.
fn cedar_attrs(attrs: &Map<String, Value>) -> HashMap<String, RestrictedExpression> {
    fn expr(v: &Value) -> RestrictedExpression {
        match v {
            Value::Bool(b) => RestrictedExpression::new_bool(*b),
            Value::Array(items) => RestrictedExpression::new_set(items.iter().map(expr)),
            Value::String(text) => s(text),
            other => s(&other.to_string()),
        }
    }
    attrs.iter().map(|(k, v)| (k.clone(), expr(v))).collect()
}

/// True if `p` can apply when `agency` asks to `action` on `source`: the slicing rule. It must
/// never drop a policy that could fire (the scenario runner checks sliced against unsliced).
fn applies(p: &LawPolicy, source: &Source, owner: &Agency, agency: &Agency, action: &str) -> bool {
    if !p.covers_category(&source.category) || !p.covers_action(action) {
        return false;
    }
    if let Some(agreement) = &p.agreement {
        return source.agreements.contains(agreement);
    }
    if p.jurisdiction == "*" || p.jurisdiction == "US" {
        return true;
    }
    let binds = |j: &model::Jurisdiction| p.jurisdiction == j.state || p.jurisdiction == j.key();
    match p.side {
        Side::Owner => binds(&owner.jurisdiction),
        Side::Requester => binds(&agency.jurisdiction),
        Side::Both => binds(&owner.jurisdiction) || binds(&agency.jurisdiction),
    }
}

impl Engine {
    /// Builds the checkpoint: the Cedar entities of the deployment and one slice per (source, agency).
    pub fn new(library: Arc<LawLibrary>, deployment: Deployment) -> Result<Self, EngineError> {
        // Entity attributes, kept twice: as JSON for specialising policies to a slice, and as the
        // Cedar entities the requests are evaluated against (the `owner` reference only in the latter).
        let mut entities = Vec::new();
        let mut agency_uids = Vec::new();
        let mut agency_attrs = Vec::new();
        for a in deployment.agencies() {
            let u = uid("FusionGuard::Agency", &a.id)?;
            let attrs = json!({
                "kind": a.kind.as_str(),
                "state": a.jurisdiction.state,
                "locality": a.jurisdiction.locality,
                "federal": a.is_federal(),
                "law_enforcement": a.kind.is_law_enforcement(),
                "immigration_role": a.immigration_role.as_str(),
                "participates_287g": a.participates_287g,
            });
            let attrs = attrs.as_object().cloned().unwrap_or_default();
            entities.push(
                Entity::new(u.clone(), cedar_attrs(&attrs), Default::default())
                    .map_err(|e| EngineError(e.to_string()))?,
            );
            agency_uids.push(u);
            agency_attrs.push(attrs);
        }
        let mut source_uids = Vec::new();
        let mut source_attrs = Vec::new();
        for src in deployment.sources() {
            let owner =
                deployment.agency(&src.owner).ok_or_else(|| EngineError(format!("source {}: no owner", src.id)))?;
            let u = uid("FusionGuard::Source", &src.id)?;
            let attrs = json!({
                "category": src.category,
                "state": owner.jurisdiction.state,
                "locality": owner.jurisdiction.locality,
                "holds_status": src.holds_status_fields(),
                "agreements": src.agreements,
                "part23": src.part23,
            });
            let attrs = attrs.as_object().cloned().unwrap_or_default();
            let mut cedar = cedar_attrs(&attrs);
            cedar.insert("owner".into(), RestrictedExpression::new_entity_uid(uid("FusionGuard::Agency", &owner.id)?));
            entities.push(Entity::new(u.clone(), cedar, Default::default()).map_err(|e| EngineError(e.to_string()))?);
            source_uids.push(u);
            source_attrs.push(attrs);
        }
        let entities = Entities::from_entities(entities, Some(library.schema()))
            .map_err(|e| EngineError(format!("deployment does not fit the schema: {e}")))?;
        let action_uids =
            vocab::ACTIONS.iter().map(|a| uid("FusionGuard::Action", a)).collect::<Result<Vec<_>, _>>()?;

        let slice_count = deployment.sources().len() * deployment.agencies().len() * vocab::ACTIONS.len();
        let slices = (0..slice_count).map(|_| OnceLock::new()).collect();
        let unsliced = Slice::build(library.policies().iter().enumerate().map(|(i, p)| (i, p.probe.clone())).collect());
        let policy_index = library.policies().iter().enumerate().map(|(i, p)| (p.id.clone(), i)).collect();
        let id_seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
                ^ (u64::from(std::process::id()) << 32);
        Ok(Self {
            library,
            deployment,
            entities,
            agency_uids,
            source_uids,
            agency_attrs,
            source_attrs,
            action_uids,
            slices,
            unsliced,
            policy_index,
            supported: obligation::KINDS.to_vec(),
            authorizer: Authorizer::new(),
            contexts: RwLock::new(HashMap::new()),
            interned: Mutex::new(HashMap::new()),
            id_seed,
            id_counter: AtomicU64::new(0),
        })
    }

    /// Restricts the obligation kinds this checkpoint's caller can carry out; a decision that needs
    /// any other is denied (fail closed).
    pub fn with_supported_obligations(mut self, kinds: &[&'static str]) -> Self {
        self.supported = kinds.to_vec();
        self
    }

    /// The deployment.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The law library.
    pub fn library(&self) -> &LawLibrary {
        &self.library
    }

    /// How many policies the slice for (source, agency, action) holds, or None for unknown ids.
    pub fn slice_len(&self, source: &str, agency: &str, action: &str) -> Option<usize> {
        let (s, a) = (self.deployment.source_position(source)?, self.deployment.agency_position(agency)?);
        let act = vocab::ACTIONS.iter().position(|x| *x == action)?;
        Some(self.slice(Slicing::Sliced, s, a, act).members.len())
    }

    /// Decides a request against the sliced library, by the law in force today (UTC).
    pub fn decide(&self, request: &Request) -> Decision {
        self.decide_on(request, Date::today())
    }

    /// Decides a request by the law in force on `date`: what the checkpoint would have decided
    /// (or will decide) that day, for auditing a past entry or testing a law before it applies.
    pub fn decide_on(&self, request: &Request, date: Date) -> Decision {
        self.decide_with(request, Slicing::Sliced, date)
    }

    fn next_id(&self) -> String {
        let n = self.id_counter.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}{:08x}", self.id_seed, n)
    }

    fn fail_closed(&self, code: &str, message: String, signals: Vec<String>) -> Decision {
        Decision {
            decision_id: self.next_id(),
            decision: Outcome::Deny,
            reasons: vec![Reason {
                policy: format!("fusionguard:{code}"),
                citation: "FusionGuard fail-closed rule (docs/ARCHITECTURE.md, invariants)".into(),
                summary: message,
            }],
            obligations: Vec::new(),
            policy_digest: self.library.digest().to_string(),
            justification_signals: signals,
        }
    }

    /// Checks ids and vocabularies, classifies the justification and builds one Cedar request per
    /// agency of the chain (originator first). An unknown anything becomes a fail-closed denial.
    fn prepare(&self, request: &Request) -> Result<Prepared, Box<Decision>> {
        let deny = |code: &str, message: String| Err(Box::new(self.fail_closed(code, message, vec![])));
        let Some(source_pos) = self.deployment.source_position(&request.source) else {
            return deny("unknown-source", format!("unknown source {:?}", request.source));
        };
        let source = &self.deployment.sources()[source_pos];
        let mut chain = Vec::with_capacity(request.on_behalf_of.len() + 1);
        for agency in request.chain() {
            match self.deployment.agency_position(agency) {
                Some(p) => chain.push(p),
                None => return deny("unknown-agency", format!("unknown agency {agency:?}")),
            }
        }
        let Some(action_pos) = vocab::ACTIONS.iter().position(|a| *a == request.action) else {
            return deny("unknown-action", format!("unknown action {:?}", request.action));
        };
        let action_uid = &self.action_uids[action_pos];
        if !vocab::is_known(vocab::PURPOSES, &request.purpose) {
            return deny("unknown-purpose", format!("unknown purpose {:?}", request.purpose));
        }
        if !vocab::is_known(vocab::LEGAL_BASIS_KINDS, &request.legal_basis.kind) {
            return deny("unknown-legal-basis", format!("unknown legal basis kind {:?}", request.legal_basis.kind));
        }
        if let Some(fields) = &request.fields {
            if let Some(bad) = fields.iter().find(|f| !source.fields.contains(f)) {
                return deny("unknown-field", format!("source {:?} has no field {bad:?}", source.id));
            }
        }

        let classification = justification::classify(&request.justification);
        let signals = classification.evidence();
        let immigration_purpose =
            vocab::is_known(vocab::IMMIGRATION_PURPOSES, &request.purpose) || classification.signal == Signal::Strong;
        let agencies = self.deployment.agencies();
        let via_fusion_center = chain.iter().any(|&a| agencies[a].kind == model::AgencyKind::FusionCenter);
        let via_immigration = chain.iter().any(|&a| agencies[a].immigration_role != model::ImmigrationRole::None);
        let status_only = request
            .fields
            .as_ref()
            .is_some_and(|f| !f.is_empty() && f.iter().all(|f| vocab::is_known(vocab::STATUS_FIELDS, f)));

        // One context for every agency of the chain: the originator rule asks the same question of each.
        let key = ContextKey {
            purpose: vocab::PURPOSES.iter().position(|p| *p == request.purpose).expect("checked above"),
            legal_basis: vocab::LEGAL_BASIS_KINDS
                .iter()
                .position(|k| *k == request.legal_basis.kind)
                .expect("checked above"),
            signal: classification.signal,
            flags: [
                request.has_case_number(),
                !request.justification.trim().is_empty(),
                immigration_purpose,
                request.is_forwarded(),
                via_fusion_center,
                via_immigration,
                status_only,
            ],
        };
        let context = match self.context(key) {
            Ok(c) => c,
            Err(e) => return Err(Box::new(self.fail_closed("evaluation-error", format!("context: {e}"), signals))),
        };
        let mut links = Vec::with_capacity(chain.len());
        for &agency_pos in &chain {
            let cedar_request = CedarRequest::new(
                self.agency_uids[agency_pos].clone(),
                action_uid.clone(),
                self.source_uids[source_pos].clone(),
                context.clone(),
                None,
            );
            match cedar_request {
                Ok(r) => links.push((agency_pos, r)),
                Err(e) => return Err(Box::new(self.fail_closed("evaluation-error", format!("request: {e}"), signals))),
            }
        }
        Ok(Prepared { source_pos, action_pos, links, signals })
    }

    /// The Cedar context for a key. Every field is from a closed vocabulary, so there are finitely
    /// many contexts; each is built once (building one costs microseconds) and then shared.
    fn context(&self, key: ContextKey) -> Result<Context, String> {
        if let Some(c) = self.contexts.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(c.clone());
        }
        let [has_case_number, has_justification, immigration_purpose, forwarded, via_fusion_center, via_immigration, status_only] =
            key.flags;
        let b = RestrictedExpression::new_bool;
        let context = Context::from_pairs([
            ("purpose".to_string(), s(vocab::PURPOSES[key.purpose])),
            ("legal_basis".to_string(), s(vocab::LEGAL_BASIS_KINDS[key.legal_basis])),
            ("has_case_number".to_string(), b(has_case_number)),
            ("has_justification".to_string(), b(has_justification)),
            ("immigration_purpose".to_string(), b(immigration_purpose)),
            ("justification_signal".to_string(), s(key.signal.as_str())),
            ("forwarded".to_string(), b(forwarded)),
            ("via_fusion_center".to_string(), b(via_fusion_center)),
            ("via_immigration".to_string(), b(via_immigration)),
            ("status_only".to_string(), b(status_only)),
        ])
        .map_err(|e| e.to_string())?;
        self.contexts.write().unwrap_or_else(|e| e.into_inner()).insert(key, context.clone());
        Ok(context)
    }

    fn slice(&self, slicing: Slicing, source_pos: usize, agency_pos: usize, action_pos: usize) -> &Slice {
        match slicing {
            Slicing::Sliced => {
                let per_source = self.deployment.agencies().len() * vocab::ACTIONS.len();
                self.slices[source_pos * per_source + agency_pos * vocab::ACTIONS.len() + action_pos]
                    .get_or_init(|| self.build_slice(source_pos, agency_pos, action_pos))
            }
            Slicing::Unsliced => &self.unsliced,
        }
    }

    /// The policies of the slice for (source, agency, action), specialised to that principal and
    /// resource, as Cedar text (what `fusionguard laws slice` prints). None for unknown ids.
    pub fn slice_text(&self, source: &str, agency: &str, action: &str) -> Option<String> {
        let (s, a) = (self.deployment.source_position(source)?, self.deployment.agency_position(agency)?);
        let act = vocab::ACTIONS.iter().position(|x| *x == action)?;
        Some(self.slice(Slicing::Sliced, s, a, act).probes.to_string())
    }

    /// The policies that can apply to some request on `source` (the union of its slices over
    /// every agency and action: specialised to the source, so a condition it can never meet, such
    /// as 28 CFR Part 23 on a system without Omnibus funds, leaves the policy out), in library
    /// order; empty for an unknown source.
    pub fn policies_for_source(&self, source: &str) -> Vec<&LawPolicy> {
        let Some(s) = self.deployment.source_position(source) else { return Vec::new() };
        let mut members = vec![false; self.library.policies().len()];
        for a in 0..self.deployment.agencies().len() {
            for act in 0..vocab::ACTIONS.len() {
                for &i in &self.slice(Slicing::Sliced, s, a, act).members {
                    members[i] = true;
                }
            }
        }
        self.library.policies().iter().zip(members).filter(|(_, m)| *m).map(|(p, _)| p).collect()
    }

    /// Builds every slice now (otherwise each is built on first use, in about a millisecond).
    pub fn warm(&self) {
        for s in 0..self.deployment.sources().len() {
            for a in 0..self.deployment.agencies().len() {
                for act in 0..vocab::ACTIONS.len() {
                    self.slice(Slicing::Sliced, s, a, act);
                }
            }
        }
    }

    /// The slice for (source, agency, action): the policies whose category, action, jurisdiction,
    /// side and agreement let them apply, each specialised to this principal and resource
    /// (`specialize.rs`), less those that then hold for no context at all. That last step
    /// enumerates every value of every context attribute the policy reads (all closed
    /// vocabularies), so it drops a policy only if it can never hold; a policy that errors for
    /// some context is kept, so that the error still denies.
    fn build_slice(&self, source_pos: usize, agency_pos: usize, action_pos: usize) -> Slice {
        let source = &self.deployment.sources()[source_pos];
        let owner_pos = self.deployment.agency_position(&source.owner).expect("validated deployment");
        let owner = &self.deployment.agencies()[owner_pos];
        let agency = &self.deployment.agencies()[agency_pos];
        let action = vocab::ACTIONS[action_pos];
        let env = specialize::Env {
            principal: &self.agency_attrs[agency_pos],
            resource: &self.source_attrs[source_pos],
            owner: &self.agency_attrs[owner_pos],
        };
        let mut members = Vec::new();
        for (i, p) in self.library.policies().iter().enumerate() {
            if !applies(p, source, owner, agency, action) {
                continue;
            }
            // Anything unexpected keeps the original probe: specialising is an optimisation only.
            let probe = match specialize::specialize(&p.probe_json, &env) {
                None => continue,
                Some(folded) => self.intern(i, folded).unwrap_or_else(|| p.probe.clone()),
            };
            if self.can_hold(&probe, &p.context_fields, source_pos, agency_pos, action_pos) {
                members.push((i, probe));
            }
        }
        Slice::build(members)
    }

    /// One shared Cedar policy per distinct specialisation: many slices specialise a policy to the
    /// same condition (`!context.immigration_purpose`), and sharing its AST keeps the policies a
    /// stream of decisions touches few and hot in cache.
    fn intern(&self, index: usize, folded: Value) -> Option<Policy> {
        let key = (index, folded.to_string());
        let mut interned = self.interned.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = interned.get(&key) {
            return Some(p.clone());
        }
        let policy = Policy::from_json(Some(PolicyId::new(&self.library.policies()[index].id)), folded).ok()?;
        interned.insert(key, policy.clone());
        Some(policy)
    }

    fn can_hold(
        &self,
        probe: &Policy,
        fields: &[String],
        source_pos: usize,
        agency_pos: usize,
        action_pos: usize,
    ) -> bool {
        // A context attribute this enumeration does not know (a schema change) keeps the policy.
        if !fields.iter().all(|f| enumerable(f)) {
            return true;
        }
        let Ok(single) = PolicySet::from_policies([probe.clone()]) else { return true };
        let domains: Vec<usize> = fields.iter().map(|f| context_domain(f)).collect();
        let combos: usize = domains.iter().product();
        for n in 0..combos {
            let mut key = ContextKey { purpose: 0, legal_basis: 0, signal: Signal::None, flags: [false; 7] };
            let mut rest = n;
            for (field, &d) in fields.iter().zip(&domains) {
                set_context_field(&mut key, field, rest % d);
                rest /= d;
            }
            let Ok(context) = self.context(key) else { return true };
            let request = CedarRequest::new(
                self.agency_uids[agency_pos].clone(),
                self.action_uids[action_pos].clone(),
                self.source_uids[source_pos].clone(),
                context,
                None,
            );
            let Ok(request) = request else { return true };
            let mut errors = Vec::new();
            if !self.holding(&single, &request, &mut errors).is_empty() || !errors.is_empty() {
                return true;
            }
        }
        false
    }

    /// For coverage reports: evaluates every policy of the library against every agency of the
    /// chain and returns (ids in force on `date` whose conditions hold for some agency, the others).
    /// A policy that holds for an agency whose slice leaves it out is a slicing error.
    pub fn policy_activity(&self, request: &Request, date: Date) -> Result<(Vec<String>, Vec<String>), Box<Decision>> {
        let prepared = self.prepare(request)?;
        let policies = self.library.policies();
        let mut held = vec![false; policies.len()];
        for (agency_pos, cedar_request) in &prepared.links {
            let mut errors = Vec::new();
            let holding = self.holding(&self.unsliced.probes, cedar_request, &mut errors);
            if !errors.is_empty() {
                return Err(Box::new(self.fail_closed("evaluation-error", errors.join("; "), vec![])));
            }
            let agency = &self.deployment.agencies()[*agency_pos];
            let slice = self.slice(Slicing::Sliced, prepared.source_pos, *agency_pos, prepared.action_pos);
            for i in holding {
                if !slice.members.contains(&i) {
                    let message = format!(
                        "policy {} holds for agency {:?} but its slice leaves it out",
                        policies[i].id, agency.id
                    );
                    return Err(Box::new(self.fail_closed("slicing-error", message, vec![])));
                }
                held[i] = policies[i].in_force(date);
            }
        }
        let (fired, silent): (Vec<_>, Vec<_>) = policies.iter().zip(held).partition(|(_, h)| *h);
        Ok((
            fired.into_iter().map(|(p, _)| p.id.clone()).collect(),
            silent.into_iter().map(|(p, _)| p.id.clone()).collect(),
        ))
    }

    /// Decides a request by the law in force on `date`, choosing whether to slice the library.
    pub fn decide_with(&self, request: &Request, slicing: Slicing, date: Date) -> Decision {
        let prepared = match self.prepare(request) {
            Ok(p) => p,
            Err(decision) => return *decision,
        };
        let signals = prepared.signals;
        let agencies = self.deployment.agencies();
        let mut verdicts = Vec::with_capacity(prepared.links.len());
        for (agency_pos, cedar_request) in &prepared.links {
            let slice = self.slice(slicing, prepared.source_pos, *agency_pos, prepared.action_pos);
            let verdict = self.evaluate(slice, cedar_request, date);
            if !verdict.errors.is_empty() {
                let message = format!(
                    "policy evaluation failed for agency {:?}: {}",
                    agencies[*agency_pos].id,
                    verdict.errors.join("; ")
                );
                return self.fail_closed("evaluation-error", message, signals);
            }
            verdicts.push(verdict);
        }

        let outcome = if verdicts.iter().any(|v| v.outcome == Outcome::Deny) {
            Outcome::Deny
        } else if verdicts.iter().any(|v| v.outcome == Outcome::Review) {
            Outcome::Review
        } else {
            Outcome::Permit
        };
        let mut reason_ids: Vec<usize> = Vec::new();
        let mut obligation_ids: Vec<usize> = Vec::new();
        for v in verdicts.iter().filter(|v| v.outcome == outcome) {
            for &r in &v.reasons {
                if !reason_ids.contains(&r) {
                    reason_ids.push(r);
                }
            }
        }
        for v in &verdicts {
            // Every obligation of a determining policy binds: a notice owed on a denial is still owed.
            for &o in &v.obligations {
                if !obligation_ids.contains(&o) {
                    obligation_ids.push(o);
                }
            }
        }
        let policies = self.library.policies();
        // Where a statute decides, it is cited before any model agreement that says the same.
        reason_ids.sort_by_key(|&i| policies[i].is_template());
        if outcome == Outcome::Deny && reason_ids.is_empty() {
            return Decision {
                decision_id: self.next_id(),
                decision: Outcome::Deny,
                reasons: vec![Reason {
                    policy: "fusionguard:no-permit".into(),
                    citation: "FusionGuard default deny (no policy of the library permits this request)".into(),
                    summary: format!(
                        "No law or agreement in the library permits {:?} to {} {:?}.",
                        request.requester.agency, request.action, request.source
                    ),
                }],
                obligations: Vec::new(),
                policy_digest: self.library.digest().to_string(),
                justification_signals: signals,
            };
        }
        let mut obligations: Vec<String> = Vec::new();
        for &i in &obligation_ids {
            for o in &policies[i].obligations {
                let text = o.to_string();
                if !self.supported.contains(&o.kind()) {
                    let message = format!(
                        "policy {} requires obligation {text:?}, which this hub cannot carry out",
                        policies[i].id
                    );
                    return self.fail_closed("unsupported-obligation", message, signals);
                }
                if !obligations.contains(&text) {
                    obligations.push(text);
                }
            }
        }
        Decision {
            decision_id: self.next_id(),
            decision: outcome,
            reasons: reason_ids
                .into_iter()
                .map(|i| Reason {
                    policy: policies[i].id.clone(),
                    citation: policies[i].citation.clone(),
                    summary: policies[i].summary.clone(),
                })
                .collect(),
            obligations,
            policy_digest: self.library.digest().to_string(),
            justification_signals: signals,
        }
    }

    /// The policies of `set` whose conditions hold. Cedar skips a policy that errors: a skipped
    /// forbid could have denied, so the caller denies on any error.
    fn holding(&self, set: &PolicySet, request: &CedarRequest, errors: &mut Vec<String>) -> Vec<usize> {
        let response = self.authorizer.is_authorized(request, set, &self.entities);
        errors.extend(response.diagnostics().errors().map(|e| e.to_string()));
        // Every probe is a permit, so the reasons are exactly the policies whose conditions hold.
        response
            .diagnostics()
            .reason()
            .filter_map(|id| self.policy_index.get(AsRef::<str>::as_ref(id)).copied())
            .collect()
    }

    /// Cedar's semantics (forbid overrides permit, default deny) applied to the rules in force on
    /// `date` that hold, then review, obligation and floor policies.
    fn evaluate(&self, slice: &Slice, request: &CedarRequest, date: Date) -> LinkVerdict {
        let mut errors = Vec::new();
        let policies = self.library.policies();
        let mut holding = self.holding(&slice.probes, request, &mut errors);
        holding.retain(|&i| policies[i].in_force(date));
        let of = |class: PolicyClass, effect: Effect| -> Vec<usize> {
            holding.iter().copied().filter(|&i| policies[i].class == class && policies[i].effect == effect).collect()
        };
        let with_obligations =
            |ids: &[usize]| ids.iter().copied().filter(|&i| !policies[i].obligations.is_empty()).collect::<Vec<_>>();
        let forbids = of(PolicyClass::Rule, Effect::Forbid);
        let permits = of(PolicyClass::Rule, Effect::Permit);
        if forbids.is_empty() && !permits.is_empty() {
            let mut obligations = with_obligations(&permits);
            obligations.extend(of(PolicyClass::Obligation, Effect::Permit));
            let review = of(PolicyClass::Review, Effect::Forbid);
            if !review.is_empty() {
                return LinkVerdict { outcome: Outcome::Review, reasons: review, obligations, errors };
            }
            return LinkVerdict { outcome: Outcome::Permit, reasons: permits, obligations, errors };
        }
        let floor = of(PolicyClass::Floor, Effect::Permit);
        if !floor.is_empty() {
            // Released under the floor: its restriction binds, and the denying laws stay cited.
            let obligations = with_obligations(&floor);
            let mut reasons = floor;
            reasons.extend(forbids);
            return LinkVerdict { outcome: Outcome::Permit, reasons, obligations, errors };
        }
        let obligations = with_obligations(&forbids);
        LinkVerdict { outcome: Outcome::Deny, reasons: forbids, obligations, errors }
    }
}
