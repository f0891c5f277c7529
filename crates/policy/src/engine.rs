//! The checkpoint: turns a request into a decision with the law library, failing closed.
//!
//! For each agency of the originator chain (originator first, requester last) the request is
//! evaluated as if that agency had asked, against the slice of the library that can apply to the
//! pair (source, agency). Per agency:
//! 1. the rules (permits and forbids) decide allow or deny, Cedar-style;
//! 2. if allowed, review policies may hold it for a supervisor, and obligation policies attach their
//!    obligations;
//! 3. if denied, floor policies may still release a restricted part (8 U.S.C. 1373 status only).
//!
//! The chain's answer is the most restrictive: any deny denies, else any review reviews, else permit
//! with the union of obligations. Any evaluation error, unknown id or unknown obligation denies.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet,
    Request as CedarRequest, RestrictedExpression,
};
use model::{vocab, Agency, Decision, Deployment, Outcome, Reason, Request, Source};

use crate::justification::{self, Signal};
use crate::library::{LawLibrary, LawPolicy, PolicyClass, Side};
use crate::obligation;

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

#[derive(Clone, Debug, Default)]
struct Slice {
    rules: PolicySet,
    review: PolicySet,
    floor: PolicySet,
    obligation: PolicySet,
    has_review: bool,
    has_floor: bool,
    has_obligation: bool,
    len: usize,
}

impl Slice {
    fn build<'a>(policies: impl Iterator<Item = &'a LawPolicy>) -> Result<Self, EngineError> {
        let mut slice = Slice::default();
        for p in policies {
            let set = match p.class {
                PolicyClass::Rule => &mut slice.rules,
                PolicyClass::Review => {
                    slice.has_review = true;
                    &mut slice.review
                }
                PolicyClass::Floor => {
                    slice.has_floor = true;
                    &mut slice.floor
                }
                PolicyClass::Obligation => {
                    slice.has_obligation = true;
                    &mut slice.obligation
                }
            };
            set.add(p.policy.clone()).map_err(|e| EngineError(e.to_string()))?;
            slice.len += 1;
        }
        Ok(slice)
    }
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
    action_uids: Vec<EntityUid>,
    slices: Vec<Slice>,
    unsliced: Slice,
    policy_index: HashMap<String, usize>,
    supported: Vec<&'static str>,
    authorizer: Authorizer,
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
        let mut entities = Vec::new();
        let mut agency_uids = Vec::new();
        for a in deployment.agencies() {
            let u = uid("FusionGuard::Agency", &a.id)?;
            let attrs = HashMap::from([
                ("kind".to_string(), s(a.kind.as_str())),
                ("state".to_string(), s(&a.jurisdiction.state)),
                ("locality".to_string(), s(&a.jurisdiction.locality)),
                ("federal".to_string(), RestrictedExpression::new_bool(a.is_federal())),
                ("immigration_role".to_string(), s(a.immigration_role.as_str())),
                ("participates_287g".to_string(), RestrictedExpression::new_bool(a.participates_287g)),
            ]);
            entities.push(Entity::new(u.clone(), attrs, Default::default()).map_err(|e| EngineError(e.to_string()))?);
            agency_uids.push(u);
        }
        let mut source_uids = Vec::new();
        for src in deployment.sources() {
            let owner = deployment.agency(&src.owner).ok_or_else(|| EngineError(format!("source {}: no owner", src.id)))?;
            let u = uid("FusionGuard::Source", &src.id)?;
            let attrs = HashMap::from([
                ("category".to_string(), s(&src.category)),
                ("owner".to_string(), RestrictedExpression::new_entity_uid(uid("FusionGuard::Agency", &owner.id)?)),
                ("state".to_string(), s(&owner.jurisdiction.state)),
                ("locality".to_string(), s(&owner.jurisdiction.locality)),
                ("holds_status".to_string(), RestrictedExpression::new_bool(src.holds_status_fields())),
                ("agreements".to_string(), RestrictedExpression::new_set(src.agreements.iter().map(|a| s(a)))),
            ]);
            entities.push(Entity::new(u.clone(), attrs, Default::default()).map_err(|e| EngineError(e.to_string()))?);
            source_uids.push(u);
        }
        let entities = Entities::from_entities(entities, Some(library.schema()))
            .map_err(|e| EngineError(format!("deployment does not fit the schema: {e}")))?;
        let action_uids = vocab::ACTIONS.iter().map(|a| uid("FusionGuard::Action", a)).collect::<Result<Vec<_>, _>>()?;

        let mut slices = Vec::with_capacity(deployment.sources().len() * deployment.agencies().len() * vocab::ACTIONS.len());
        for src in deployment.sources() {
            let owner = deployment.agency(&src.owner).expect("checked above");
            for agency in deployment.agencies() {
                for action in vocab::ACTIONS {
                    let policies = library.policies().iter().filter(|p| applies(p, src, owner, agency, action));
                    slices.push(Slice::build(policies)?);
                }
            }
        }
        let unsliced = Slice::build(library.policies().iter())?;
        let policy_index = library.policies().iter().enumerate().map(|(i, p)| (p.id.clone(), i)).collect();
        let id_seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ (u64::from(std::process::id()) << 32);
        Ok(Self {
            library,
            deployment,
            entities,
            agency_uids,
            source_uids,
            action_uids,
            slices,
            unsliced,
            policy_index,
            supported: obligation::KINDS.to_vec(),
            authorizer: Authorizer::new(),
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
        Some(self.slice(Slicing::Sliced, s, a, act).len)
    }

    /// Decides a request against the sliced library.
    pub fn decide(&self, request: &Request) -> Decision {
        self.decide_with(request, Slicing::Sliced)
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
        let context = Context::from_pairs([
            ("purpose".to_string(), s(&request.purpose)),
            ("legal_basis".to_string(), s(&request.legal_basis.kind)),
            ("has_case_number".to_string(), RestrictedExpression::new_bool(request.has_case_number())),
            ("immigration_purpose".to_string(), RestrictedExpression::new_bool(immigration_purpose)),
            ("justification_signal".to_string(), s(classification.signal.as_str())),
            ("forwarded".to_string(), RestrictedExpression::new_bool(request.is_forwarded())),
            ("via_fusion_center".to_string(), RestrictedExpression::new_bool(via_fusion_center)),
            ("via_immigration".to_string(), RestrictedExpression::new_bool(via_immigration)),
            ("role".to_string(), s(&request.requester.role)),
            ("status_only".to_string(), RestrictedExpression::new_bool(status_only)),
        ]);
        let context = match context {
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

    fn slice(&self, slicing: Slicing, source_pos: usize, agency_pos: usize, action_pos: usize) -> &Slice {
        match slicing {
            Slicing::Sliced => {
                let per_source = self.deployment.agencies().len() * vocab::ACTIONS.len();
                &self.slices[source_pos * per_source + agency_pos * vocab::ACTIONS.len() + action_pos]
            }
            Slicing::Unsliced => &self.unsliced,
        }
    }

    /// For coverage reports: evaluates every policy of the library alone against every agency of
    /// the chain and returns (ids whose conditions hold for some agency, ids that hold for none).
    /// A policy that holds for an agency whose slice leaves it out is a slicing error.
    pub fn policy_activity(&self, request: &Request) -> Result<(Vec<String>, Vec<String>), Decision> {
        let prepared = self.prepare(request).map_err(|d| *d)?;
        let source = &self.deployment.sources()[prepared.source_pos];
        let owner = self.deployment.agency(&source.owner).expect("validated deployment");
        let (mut fired, mut silent) = (Vec::new(), Vec::new());
        for (i, p) in self.library.policies().iter().enumerate() {
            let single = PolicySet::from_policies([p.policy.clone()])
                .map_err(|e| self.fail_closed("evaluation-error", e.to_string(), vec![]))?;
            let mut holds = false;
            for (agency_pos, cedar_request) in &prepared.links {
                let mut errors = Vec::new();
                let (_, reasons) = self.authorize(&single, cedar_request, &mut errors);
                if !errors.is_empty() {
                    return Err(self.fail_closed("evaluation-error", errors.join("; "), vec![]));
                }
                if reasons.contains(&i) {
                    holds = true;
                    let agency = &self.deployment.agencies()[*agency_pos];
                    if !applies(p, source, owner, agency, &request.action) {
                        let message = format!("policy {} holds for agency {:?} but its slice leaves it out", p.id, agency.id);
                        return Err(self.fail_closed("slicing-error", message, vec![]));
                    }
                }
            }
            if holds {
                fired.push(p.id.clone());
            } else {
                silent.push(p.id.clone());
            }
        }
        Ok((fired, silent))
    }

    /// Decides a request, choosing whether to slice the library.
    pub fn decide_with(&self, request: &Request, slicing: Slicing) -> Decision {
        let prepared = match self.prepare(request) {
            Ok(p) => p,
            Err(decision) => return *decision,
        };
        let signals = prepared.signals;
        let agencies = self.deployment.agencies();
        let mut verdicts = Vec::with_capacity(prepared.links.len());
        for (agency_pos, cedar_request) in &prepared.links {
            let verdict = self.evaluate(self.slice(slicing, prepared.source_pos, *agency_pos, prepared.action_pos), cedar_request);
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
                    let message = format!("policy {} requires obligation {text:?}, which this hub cannot carry out", policies[i].id);
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

    fn authorize(&self, set: &PolicySet, request: &CedarRequest, errors: &mut Vec<String>) -> (bool, Vec<usize>) {
        let response = self.authorizer.is_authorized(request, set, &self.entities);
        // Cedar skips a policy that errors: a skipped forbid could have denied, so any error denies.
        errors.extend(response.diagnostics().errors().map(|e| e.to_string()));
        let ids = response.diagnostics().reason().filter_map(|id| self.policy_index.get(AsRef::<str>::as_ref(id)).copied()).collect();
        (response.decision() == CedarDecision::Allow, ids)
    }

    fn evaluate(&self, slice: &Slice, request: &CedarRequest) -> LinkVerdict {
        let mut errors = Vec::new();
        let (allowed, determining) = self.authorize(&slice.rules, request, &mut errors);
        let policies = self.library.policies();
        let with_obligations = |ids: &[usize]| ids.iter().copied().filter(|&i| !policies[i].obligations.is_empty()).collect::<Vec<_>>();
        if allowed {
            let mut obligations = with_obligations(&determining);
            if slice.has_obligation {
                let (_, extra) = self.authorize(&slice.obligation, request, &mut errors);
                obligations.extend(extra);
            }
            if slice.has_review {
                // A set of forbids only: its reasons are the review policies that fire.
                let (_, review) = self.authorize(&slice.review, request, &mut errors);
                if !review.is_empty() {
                    return LinkVerdict { outcome: Outcome::Review, reasons: review, obligations, errors };
                }
            }
            return LinkVerdict { outcome: Outcome::Permit, reasons: determining, obligations, errors };
        }
        if slice.has_floor {
            let (floor_allows, floor) = self.authorize(&slice.floor, request, &mut errors);
            if floor_allows {
                // Released under the floor: its restriction binds, and the denying laws stay cited.
                let obligations = with_obligations(&floor);
                let mut reasons = floor;
                reasons.extend(determining);
                return LinkVerdict { outcome: Outcome::Permit, reasons, obligations, errors };
            }
        }
        let obligations = with_obligations(&determining);
        LinkVerdict { outcome: Outcome::Deny, reasons: determining, obligations, errors }
    }
}
