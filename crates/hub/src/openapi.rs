//! The OpenAPI 3.1 document of the hub's API, served at `/openapi.json`. Written by hand next to
//! the handlers in `api/mod.rs`; `tests/api.rs` checks that every documented path answers.

use serde_json::{json, Value};

fn problem_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

/// [`document`], with the kinds of subject each source of `deployment` accepts as
/// `x-subject-kinds` (source id → kinds).
pub fn document_for(deployment: &model::Deployment) -> Value {
    let mut doc = document();
    let kinds: serde_json::Map<String, Value> =
        deployment.sources().iter().map(|s| (s.id.clone(), json!(s.subject_kinds()))).collect();
    doc["x-subject-kinds"] = Value::Object(kinds);
    doc
}

/// The document.
pub fn document() -> Value {
    let bearer = json!([{"bearer": []}]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "FusionGuard hub",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Requests to share data are decided by the law library, durably logged in a verifiable ledger, and only then answered with data, with every obligation applied. Errors are RFC 9457 problem details.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        },
        "paths": {
            "/v1/requests": {"post": {
                "summary": "Submit a request to share data",
                "operationId": "submitRequest",
                "security": bearer,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Request"}}}},
                "responses": {
                    "200": {"description": "Decided (permit, deny or review) and durably logged", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DecisionResponse"}}}},
                    "400": problem_response("Malformed request, a free-text field over its cap, or a certification the law library does not ask for; `field` names the field at fault"),
                    "401": problem_response("No valid bearer token"),
                    "403": problem_response("The token's agency or user is not the requester's; the attempt is logged"),
                    "413": problem_response("Request too large"),
                    "429": problem_response("`rate-limited`: over the token's or the agency's request rate, or its quota of held reviews outstanding; nothing decided or logged; retry after `Retry-After` seconds"),
                    "503": problem_response("The ledger cannot record decisions now, or (`source-unavailable`) the permit is logged but its source's database cannot answer; nothing was released")
                }
            }},
            "/v1/requests/{id}": {"get": {
                "summary": "A held (reviewed) request: its status, and the data once approved (requester only; each fetch is a `release` ledger entry, logged first; approvals expire)",
                "operationId": "getRequest",
                "security": bearer,
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The review and, when approved, the data", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Review"}}}},
                    "401": problem_response("No valid bearer token"),
                    "403": problem_response("Neither the requester nor a supervisor of the owning agency"),
                    "404": problem_response("No such held request"),
                    "410": problem_response("`approval-expired`: the approval is past its time; nothing released"),
                    "429": problem_response("Over the token's or the agency's request rate"),
                    "503": problem_response("The review queue cannot be read now (database unreachable)")
                }
            }},
            "/v1/reviews": {"get": {
                "summary": "Pending reviews of the caller's agency's sources (supervisors only)",
                "operationId": "listReviews",
                "security": bearer,
                "responses": {
                    "200": {"description": "Pending reviews", "content": {"application/json": {"schema": {"type": "object", "required": ["agency", "reviews"], "properties": {"agency": {"type": "string"}, "reviews": {"type": "array", "items": {"$ref": "#/components/schemas/Review"}}}}}}},
                    "401": problem_response("No valid bearer token"),
                    "403": problem_response("Not a supervisor"),
                    "503": problem_response("The review queue cannot be read now (database unreachable)")
                }
            }},
            "/v1/reviews/{id}": {"post": {
                "summary": "Approve or deny a held request (a supervisor of the owning agency); the verdict is logged",
                "operationId": "decideReview",
                "security": bearer,
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Verdict"}}}},
                "responses": {
                    "200": {"description": "Decided and logged", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Review"}}}},
                    "400": problem_response("Malformed verdict"),
                    "401": problem_response("No valid bearer token"),
                    "403": problem_response("Not a supervisor of the owning agency, or the requester (or someone in its chain) deciding their own request"),
                    "404": problem_response("No such review"),
                    "409": problem_response("Already decided, or being decided by another supervisor right now"),
                    "503": problem_response("The ledger cannot record the verdict now")
                }
            }},
            "/v1/notifications": {"get": {
                "summary": "Notices the caller's agency owes to people requests were about (notify_subject; supervisors only), earliest deadline first",
                "operationId": "listNotifications",
                "security": bearer,
                "responses": {
                    "200": {"description": "Unsent notices", "content": {"application/json": {"schema": {"type": "object", "required": ["agency", "notifications"], "properties": {"agency": {"type": "string"}, "notifications": {"type": "array", "items": {"type": "object"}}}}}}},
                    "401": problem_response("No valid bearer token"),
                    "403": problem_response("Not a supervisor"),
                    "503": problem_response("The outbox cannot be read now")
                }
            }},
            "/v1/notifications/{id}": {"post": {
                "summary": "Mark a notice sent (a supervisor of the owing agency); logged as a `notified` ledger entry",
                "operationId": "markNotificationSent",
                "security": bearer,
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["method"], "additionalProperties": false, "properties": {"method": {"type": "string", "description": "How the person was told, e.g. mail"}}}}}},
                "responses": {
                    "200": {"description": "The notice, marked sent, with the ledger receipt", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": problem_response("Malformed body"),
                    "401": problem_response("No valid bearer token"),
                    "403": problem_response("Not a supervisor of the owing agency"),
                    "404": problem_response("No such notice"),
                    "409": problem_response("Already marked sent"),
                    "503": problem_response("The ledger or the outbox cannot write now")
                }
            }},
            "/v1/reports": {"get": {
                "summary": "Transparency counts: decisions carrying report:BODY obligations in the published ledger, per body and outcome",
                "operationId": "reports",
                "responses": {
                    "200": {"description": "Counts as of the published tree size", "content": {"application/json": {"schema": {"type": "object", "required": ["tree_size", "bodies"], "properties": {"tree_size": {"type": "integer"}, "bodies": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}}}}}}},
                    "503": problem_response("The ledger cannot be read now")
                }
            }},
            "/v1/ledger/key": {"get": {
                "summary": "The ledger's verifier key (C2SP signed-note vkey)",
                "operationId": "ledgerKey",
                "responses": {"200": {"description": "The vkey", "content": {"text/plain": {"schema": {"type": "string"}}}}}
            }},
            "/v1/ledger/proof/{index}": {"get": {
                "summary": "A receipt for a ledger entry, with an inclusion proof once a checkpoint covers it",
                "operationId": "ledgerProof",
                "parameters": [{"name": "index", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}}],
                "responses": {
                    "200": {"description": "The receipt", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Receipt"}}}},
                    "400": problem_response("Not an index"),
                    "404": problem_response("Beyond the ledger's size"),
                    "503": problem_response("The ledger is recovering")
                }
            }},
            "/ledger/checkpoint": {"get": {
                "summary": "The latest signed checkpoint (C2SP tlog-checkpoint)",
                "operationId": "ledgerCheckpoint",
                "responses": {"200": {"description": "Signed note", "content": {"text/plain": {"schema": {"type": "string"}}}}, "503": problem_response("The ledger is recovering")}
            }},
            "/ledger/tile/{path}": {"get": {
                "summary": "A hash tile or entry bundle (C2SP tlog-tiles): tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]",
                "operationId": "ledgerTile",
                "parameters": [{"name": "path", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Tile bytes", "content": {"application/octet-stream": {"schema": {"type": "string", "contentEncoding": "binary"}}}}, "404": problem_response("No such tile"), "503": problem_response("The ledger is recovering")}
            }},
            "/healthz": {"get": {
                "summary": "Liveness and ledger state",
                "operationId": "healthz",
                "responses": {
                    "200": {"description": "Serving", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "503": {"description": "Degraded: the ledger is recovering from a write fault (ledger: recovering), or entries have waited for a checkpoint past the bound (ledger: checkpoint-behind; requests are still answered)", "content": {"application/json": {"schema": {"type": "object"}}}}
                }
            }},
            "/metrics": {"get": {
                "summary": "Prometheus metrics",
                "operationId": "metrics",
                "responses": {"200": {"description": "Text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}
            }},
            "/transparency": {"get": {
                "summary": "The public transparency page: the year's surveillance-use report as HTML (charts with tables; aggregates only, no personal data), from the verified ledger at its latest checkpoint",
                "operationId": "transparencyPage",
                "parameters": [
                    {"name": "year", "in": "query", "required": false, "description": "Calendar year, by entry time in UTC (default: the current year)", "schema": {"type": "integer", "minimum": 1970, "maximum": 9999}},
                    {"name": "lang", "in": "query", "required": false, "description": "The page's language, en or es, remembered in the fg_lang cookie (without it: the cookie, else Accept-Language, else English; any other value is ignored)", "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {"description": "HTML page in English or Spanish (Content-Language), no script, no external asset", "content": {"text/html": {"schema": {"type": "string"}}}},
                    "400": problem_response("Bad or unknown query parameter"),
                    "404": problem_response("A year the ledger cannot hold (before its earliest entry's year, or after the current year): type year-not-in-ledger, with first_year and last_year"),
                    "503": problem_response("The ledger is recovering")
                }
            }},
            "/v1/transparency": {"get": {
                "summary": "The year's surveillance-use report as JSON (format fusionguard.transparency/1, documented in crates/oversight/README.md), the same numbers as `fusionguard report transparency`",
                "operationId": "transparencyReport",
                "parameters": [{"name": "year", "in": "query", "required": false, "description": "Calendar year, by entry time in UTC (default: the current year)", "schema": {"type": "integer", "minimum": 1970, "maximum": 9999}}],
                "responses": {
                    "200": {"description": "The report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TransparencyReport"}}}},
                    "400": problem_response("Bad or unknown query parameter"),
                    "404": problem_response("A year the ledger cannot hold (before its earliest entry's year, or after the current year): type year-not-in-ledger, with first_year and last_year"),
                    "503": problem_response("The ledger is recovering")
                }
            }},
            "/openapi.json": {"get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A token from `fusionguard token issue`"}},
            "schemas": {
                "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
                    "type": {"type": "string", "description": "urn:fusionguard:problem:<kind>"},
                    "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
                    "field": {"type": "string", "description": "The request field at fault (400)"},
                    "line": {"type": "integer"}, "column": {"type": "integer"},
                    "ledger": {"$ref": "#/components/schemas/Receipt"}
                }},
                "Request": {"type": "object", "additionalProperties": false,
                    "required": ["requester", "source", "action", "purpose", "legal_basis", "subject"],
                    "properties": {
                        "requester": {"type": "object", "additionalProperties": false, "required": ["id", "agency"], "properties": {"id": {"type": "string", "minLength": 1}, "agency": {"type": "string", "minLength": 1}, "role": {"type": "string"}}},
                        "on_behalf_of": {"type": "array", "maxItems": 16, "items": {"type": "object", "additionalProperties": false, "required": ["id", "agency"], "properties": {"id": {"type": "string", "minLength": 1}, "agency": {"type": "string", "minLength": 1}}}},
                        "source": {"type": "string", "minLength": 1},
                        "action": {"enum": ["lookup", "bulk_export", "biometric_search"]},
                        "purpose": {"enum": ["criminal_investigation", "civil_immigration_enforcement", "criminal_immigration_enforcement", "missing_person", "traffic_enforcement", "counterterrorism", "other"]},
                        "justification": {"type": "string"},
                        "case_number": {"type": ["string", "null"]},
                        "legal_basis": {"type": "object", "additionalProperties": false, "required": ["kind"], "properties": {
                            "kind": {"enum": ["none", "judicial_warrant", "federal_judicial_warrant", "judicial_probable_cause", "court_order", "judicial_subpoena", "grand_jury_subpoena", "administrative_warrant", "detainer", "consent"]},
                            "reference": {"type": ["string", "null"]}, "issued_by": {"type": ["string", "null"]}}},
                        "subject": {"type": "object", "additionalProperties": false, "required": ["kind", "value"], "properties": {"kind": {"enum": model::vocab::SUBJECT_KINDS, "description": "Each source accepts the kinds its fields allow (x-subject-kinds lists them per source); another kind is a 400 naming them"}, "value": {"type": "string", "minLength": 1}}},
                        "fields": {"type": ["array", "null"], "items": {"type": "string"}},
                        "certifications": {"type": "array", "items": {"type": "string"}, "description": "Certifications the requesting agency makes (e.g. no_immigration_use); a `certify:WHAT` obligation without WHAT here turns a permit into a deny"}
                    }},
                "Reason": {"type": "object", "required": ["policy", "citation", "summary"], "properties": {"policy": {"type": "string"}, "citation": {"type": "string"}, "summary": {"type": "string"}}},
                "Receipt": {"type": "object", "required": ["index", "origin", "proof_url"], "properties": {
                    "index": {"type": "integer"}, "origin": {"type": "string"}, "proof_url": {"type": "string"},
                    "checkpoint": {"type": "string", "description": "Signed checkpoint covering the entry"},
                    "tree_size": {"type": "integer"},
                    "inclusion_proof": {"type": "array", "items": {"type": "string", "contentEncoding": "base64"}}
                }},
                "DecisionResponse": {"type": "object", "required": ["decision_id", "decision", "reasons", "obligations", "policy_digest", "ledger"], "properties": {
                    "decision_id": {"type": "string"},
                    "decision": {"enum": ["permit", "deny", "review"]},
                    "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
                    "obligations": {"type": "array", "items": {"type": "string"}},
                    "policy_digest": {"type": "string"},
                    "justification_signals": {"type": "array", "items": {"type": "string"}},
                    "ledger": {"$ref": "#/components/schemas/Receipt"},
                    "data": {"type": "array", "items": {"type": "object"}, "description": "Only for a permit: records with obligations applied (redacted fields absent)"},
                    "found": {"type": "integer", "description": "Only for a permit: how many records were found (0: the lookup found nothing)"},
                    "data_error": {"type": "string"},
                    "missing_certifications": {"type": "array", "items": {"type": "string"}, "description": "Certifications the law requires and the request lacks (the decision is then deny)"},
                    "notification": {"type": "object", "description": "The notice the owning agency owes the person (notify_subject)", "properties": {"id": {"type": "string"}, "owner": {"type": "string"}, "due": {"type": "integer"}, "obligation": {"type": "string"}, "asked_by": {"type": "array", "description": "Everyone who asked, originator first: [{id, agency}]"}}},
                    "note": {"type": "string"},
                    "review": {"type": "object", "properties": {"id": {"type": "string"}, "status": {"type": "string"}, "url": {"type": "string"}}}
                }},
                "TransparencyReport": {"type": "object", "description": "Aggregates only; every list holds rows with `key`, an optional `label` and counts",
                    "required": ["format", "year", "period", "ledger", "totals", "uses", "sharing", "citations", "reviews", "obligations", "findings", "violations"],
                    "properties": {
                        "format": {"const": "fusionguard.transparency/1"}, "year": {"type": "integer"},
                        "period": {"type": "object"}, "ledger": {"type": "object"}, "totals": {"type": "object"},
                        "uses": {"type": "object"}, "sharing": {"type": "object"}, "citations": {"type": "object"},
                        "reviews": {"type": "object"}, "obligations": {"type": "object"}, "findings": {"type": "object"},
                        "violations": {"type": "object"}
                    }},
                "Verdict": {"type": "object", "additionalProperties": false, "required": ["decision", "reason"], "properties": {
                    "decision": {"enum": ["approve", "deny"]}, "reason": {"type": "string", "minLength": 1, "maxLength": 4096}}},
                "Review": {"type": "object", "required": ["id", "status", "owner", "request", "decision", "ledger_index"], "properties": {
                    "id": {"type": "string"}, "status": {"enum": ["pending", "approved", "denied"]}, "owner": {"type": "string"},
                    "request": {"$ref": "#/components/schemas/Request"}, "decision": {"type": "object"},
                    "ledger_index": {"type": "integer"}, "created": {"type": "integer"},
                    "verdict": {"type": ["object", "null"]},
                    "data": {"type": "array", "items": {"type": "object"}}, "data_error": {"type": "string"},
                    "ledger": {"$ref": "#/components/schemas/Receipt"}
                }}
            }
        }
    })
}
