//! Specialising a policy to one principal and one resource: a small partial evaluator over
//! Cedar's JSON policy form (EST).
//!
//! Within a slice the principal and the resource are fixed, so every `principal.ATTR`,
//! `resource.ATTR` and `resource.owner.ATTR` is a known value. This module substitutes them and
//! folds what becomes constant (`==`, `!=`, `!`, `&&`, `||`, `contains`), leaving only the
//! context-dependent rest for Cedar to evaluate per request. It folds only the constructs listed
//! here and leaves anything else exactly as it was, and it never folds away a subexpression that
//! could raise an error, so that the specialised policy holds, fails or errors exactly when the
//! original would for the same principal and resource. The scenario runner and the property tests
//! compare sliced (specialised) decisions with unsliced (original) ones.

use serde_json::{json, Map, Value};

/// The known attributes of the fixed principal, resource and resource owner.
pub struct Env<'a> {
    /// `principal.*`.
    pub principal: &'a Map<String, Value>,
    /// `resource.*` (without `owner`).
    pub resource: &'a Map<String, Value>,
    /// `resource.owner.*`.
    pub owner: &'a Map<String, Value>,
}

enum Folded {
    /// A known scalar or set (JSON array) value.
    Lit(Value),
    /// Still depends on the request.
    Expr(Value),
}

impl Folded {
    fn into_expr(self) -> Value {
        match self {
            Folded::Lit(v) => json!({ "Value": v }),
            Folded::Expr(e) => e,
        }
    }
    fn cannot_error(&self) -> bool {
        match self {
            Folded::Lit(_) => true,
            Folded::Expr(e) => cannot_error(e),
        }
    }
    fn as_bool(&self) -> Option<bool> {
        match self {
            Folded::Lit(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}

fn is_var(e: &Value, name: &str) -> bool {
    e.get("Var").and_then(Value::as_str) == Some(name)
}

fn is_owner(e: &Value) -> bool {
    e.get(".").is_some_and(|d| is_var(&d["left"], "resource") && d["attr"] == "owner")
}

/// True if evaluating `e` cannot raise an error: only literals, context attributes and boolean or
/// equality operators (every context attribute is always present).
fn cannot_error(e: &Value) -> bool {
    let Some((op, body)) = e.as_object().and_then(|o| if o.len() == 1 { o.iter().next() } else { None }) else {
        return false;
    };
    match op.as_str() {
        "Value" => body.is_string() || body.is_boolean(),
        "." => is_var(&body["left"], "context"),
        "==" | "!=" | "&&" | "||" => cannot_error(&body["left"]) && cannot_error(&body["right"]),
        "!" => cannot_error(&body["arg"]),
        _ => false,
    }
}

fn lookup(map: &Map<String, Value>, attr: &Value, e: &Value) -> Folded {
    match attr.as_str().and_then(|a| map.get(a)) {
        Some(v) => Folded::Lit(v.clone()),
        None => Folded::Expr(e.clone()),
    }
}

fn fold(e: &Value, env: &Env) -> Folded {
    let Some((op, body)) = e.as_object().and_then(|o| if o.len() == 1 { o.iter().next() } else { None }) else {
        return Folded::Expr(e.clone());
    };
    match op.as_str() {
        "Value" if body.is_string() || body.is_boolean() => Folded::Lit(body.clone()),
        "." => {
            let left = &body["left"];
            if is_var(left, "principal") {
                lookup(env.principal, &body["attr"], e)
            } else if is_var(left, "resource") && body["attr"] != "owner" {
                lookup(env.resource, &body["attr"], e)
            } else if is_owner(left) {
                lookup(env.owner, &body["attr"], e)
            } else {
                Folded::Expr(e.clone())
            }
        }
        "==" | "!=" => {
            let (l, r) = (fold(&body["left"], env), fold(&body["right"], env));
            match (&l, &r) {
                (Folded::Lit(a), Folded::Lit(b)) if !a.is_array() && !b.is_array() => {
                    Folded::Lit(Value::Bool((a == b) == (op == "==")))
                }
                _ => Folded::Expr(json!({ op.as_str(): { "left": l.into_expr(), "right": r.into_expr() } })),
            }
        }
        "!" => match fold(&body["arg"], env) {
            Folded::Lit(Value::Bool(b)) => Folded::Lit(Value::Bool(!b)),
            other => Folded::Expr(json!({ "!": { "arg": other.into_expr() } })),
        },
        "&&" | "||" => {
            // `&&` short-circuits on false, `||` on true.
            let decisive = op == "||";
            let l = fold(&body["left"], env);
            if l.as_bool() == Some(decisive) {
                return Folded::Lit(Value::Bool(decisive));
            }
            let r = fold(&body["right"], env);
            if l.as_bool() == Some(!decisive) {
                return r;
            }
            match r.as_bool() {
                Some(b) if b != decisive => l,
                Some(_) if l.cannot_error() => Folded::Lit(Value::Bool(decisive)),
                _ => Folded::Expr(json!({ op.as_str(): { "left": l.into_expr(), "right": r.into_expr() } })),
            }
        }
        "contains" => {
            let (l, r) = (fold(&body["left"], env), fold(&body["right"], env));
            match (&l, &r) {
                (Folded::Lit(Value::Array(set)), Folded::Lit(x)) if !x.is_array() => {
                    Folded::Lit(Value::Bool(set.contains(x)))
                }
                _ => Folded::Expr(json!({ "contains": { "left": l.into_expr(), "right": r.into_expr() } })),
            }
        }
        _ => Folded::Expr(e.clone()),
    }
}

/// Specialises a policy (in Cedar's JSON form) to `env`. Returns `None` if some condition is
/// false for every request, otherwise the policy with its conditions folded.
pub fn specialize(policy: &Value, env: &Env) -> Option<Value> {
    let mut out = policy.clone();
    let conditions = out.get_mut("conditions").and_then(Value::as_array_mut)?;
    for condition in conditions.iter_mut() {
        let unless = condition["kind"] == "unless";
        let folded = fold(&condition["body"], env);
        match folded.as_bool() {
            Some(b) if b == unless => return None,
            _ => condition["body"] = folded.into_expr(),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_maps() -> (Map<String, Value>, Map<String, Value>, Map<String, Value>) {
        let principal = json!({"state": "US-CA", "federal": false, "immigration_role": "none"});
        let resource = json!({"state": "US-CA", "category": "alpr", "agreements": ["fusionguard-dsa"]});
        let owner = json!({"law_enforcement": true});
        (
            principal.as_object().unwrap().clone(),
            resource.as_object().unwrap().clone(),
            owner.as_object().unwrap().clone(),
        )
    }

    fn body(cedar: &str) -> Option<Value> {
        let policy: cedar_policy::Policy = cedar.parse().unwrap();
        let (p, r, o) = env_maps();
        specialize(&policy.to_json().unwrap(), &Env { principal: &p, resource: &r, owner: &o })
            .map(|v| v["conditions"][0]["body"].clone())
    }

    #[test]
    fn folds_known_attributes_and_keeps_the_context() {
        let b = body(r#"permit(principal, action, resource) when { resource.state == "US-CA" && resource.owner.law_enforcement && context.immigration_purpose };"#).unwrap();
        assert_eq!(b, json!({".": {"left": {"Var": "context"}, "attr": "immigration_purpose"}}));
    }

    #[test]
    fn drops_a_policy_that_can_never_hold() {
        assert!(
            body(r#"permit(principal, action, resource) when { principal.federal && context.forwarded };"#).is_none()
        );
        assert!(body(r#"permit(principal, action, resource) when { context.forwarded && resource.agreements.contains("other") };"#).is_none());
        assert!(body(r#"permit(principal, action, resource) unless { principal.state == "US-CA" };"#).is_none());
    }

    #[test]
    fn never_folds_away_what_could_error() {
        // `x + 1` could overflow: `(... ) && false` must stay, so the error still surfaces.
        let b =
            body(r#"permit(principal, action, resource) when { (context.n + 1 > 0) && principal.federal };"#).unwrap();
        assert_ne!(b, json!({"Value": false}));
        // Unknown attributes are left for Cedar to report.
        let b = body(r#"permit(principal, action, resource) when { principal.shoe_size == 3 };"#).unwrap();
        assert!(b.to_string().contains("shoe_size"));
    }
}
