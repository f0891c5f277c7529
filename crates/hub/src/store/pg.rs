//! The [`Store`] in PostgreSQL: the statements on the hub's tables (created by
//! [`PgState::connect`], the connection is [`crate::pgstate`]'s), shared by every replica of a
//! region. Each change is one statement or one transaction, so replicas deciding, claiming or
//! marking the same row at once see exactly one of them succeed.

use super::{by_deadline, ConsoleRequest, Stamp, Store, CONSOLE_REQUESTS_KEPT};
use crate::duties::{Notification, Sent};
use crate::pgstate::{db, PgState};
use crate::reviews::{Review, Settled, Verdict, CLAIM_SECS};
use crate::tokens::TokenRecord;
use crate::HubError;

/// A stored JSON record, or an error saying it is damaged.
fn parse_json<T: serde::de::DeserializeOwned>(data: &str) -> Result<T, HubError> {
    serde_json::from_str(data).map_err(|e| HubError::Config(format!("postgres: a stored record is damaged: {e}")))
}

impl Store for PgState {
    fn shared(&self) -> bool {
        true
    }

    fn tokens(&self) -> Result<Vec<TokenRecord>, HubError> {
        self.read_tokens("TRUE", None)
    }

    fn token(&self, id: &str) -> Result<Option<TokenRecord>, HubError> {
        Ok(self.read_tokens("id = $1", Some(id))?.pop())
    }

    fn insert_token(&self, r: &TokenRecord) -> Result<(), HubError> {
        let s = self.schema();
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO {s}.hub_tokens (id, hash, agency, usr, role, issued, expires, revoked)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ),
                &[&r.id, &r.hash, &r.agency, &r.user, &r.role, &(r.issued as i64), &(r.expires as i64), &r.revoked],
            )
            .map_err(|e| db("store token", e))?;
            Ok(())
        })
    }

    fn revoke_token(&self, id: &str) -> Result<bool, HubError> {
        let s = self.schema();
        self.with(|c| {
            let n = c
                .execute(&format!("UPDATE {s}.hub_tokens SET revoked = TRUE WHERE id = $1"), &[&id])
                .map_err(|e| db("revoke token", e))?;
            Ok(n > 0)
        })
    }

    /// Always `None`: the records are read again every time (every second, by the hub).
    fn token_stamp(&self) -> Stamp {
        None
    }

    fn hold(&self, review: Review) -> Result<(), HubError> {
        let s = self.schema();
        let data = serde_json::to_string(&review).map_err(|e| HubError::Io(e.to_string()))?;
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO {s}.hub_reviews (id, owner, created, decided, data) VALUES ($1, $2, $3, FALSE, $4)"
                ),
                &[&review.id, &review.owner, &(review.created as i64), &data],
            )
            .map_err(|e| db("hold review", e))?;
            Ok(())
        })
    }

    /// One UPDATE sets the claim's end ([`CLAIM_SECS`] from now) where the review is pending and
    /// unclaimed (or its claim expired), so of two replicas claiming at once exactly one gets it.
    fn claim(&self, id: &str) -> Result<Review, HubError> {
        let s = self.schema();
        let now = crate::tokens::now();
        let until = now + CLAIM_SECS;
        self.with(|c| {
            let claimed = c
                .query_opt(
                    &format!(
                        "UPDATE {s}.hub_reviews SET claimed_until = $2 WHERE id = $1 AND NOT decided AND claimed_until <= $3 RETURNING data"
                    ),
                    &[&id, &(until as i64), &(now as i64)],
                )
                .map_err(|e| db("claim review", e))?;
            if let Some(row) = claimed {
                return parse_json(row.get(0));
            }
            let decided: Option<bool> = c
                .query_opt(&format!("SELECT decided FROM {s}.hub_reviews WHERE id = $1"), &[&id])
                .map_err(|e| db("read review", e))?
                .map(|r| r.get(0));
            Err(match decided {
                None => HubError::NotFound(format!("no review {id:?}")),
                Some(true) => HubError::Conflict(format!("review {id:?} is already decided")),
                Some(false) => HubError::Conflict(format!("review {id:?} is being decided by another supervisor")),
            })
        })
    }

    fn unclaim(&self, id: &str) -> Result<(), HubError> {
        let s = self.schema();
        self.with(|c| {
            c.execute(&format!("UPDATE {s}.hub_reviews SET claimed_until = 0 WHERE id = $1 AND NOT decided"), &[&id])
                .map_err(|e| db("unclaim review", e))?;
            Ok(())
        })
    }

    /// In one transaction, the row locked (`FOR UPDATE`): of two replicas deciding at once, the
    /// second finds it decided.
    fn decide(&self, id: &str, verdict: Verdict) -> Result<Review, HubError> {
        let s = self.schema();
        self.with(|c| {
            let mut tx = c.transaction().map_err(|e| db("begin", e))?;
            let row = tx
                .query_opt(&format!("SELECT data FROM {s}.hub_reviews WHERE id = $1 FOR UPDATE"), &[&id])
                .map_err(|e| db("read review", e))?
                .ok_or_else(|| HubError::NotFound(format!("no review {id:?}")))?;
            let mut review: Review = parse_json(row.get(0))?;
            if review.verdict.is_some() {
                return Err(HubError::Conflict(format!("review {id:?} is already decided")));
            }
            review.verdict = Some(verdict);
            let data = serde_json::to_string(&review).map_err(|e| HubError::Io(e.to_string()))?;
            tx.execute(
                &format!("UPDATE {s}.hub_reviews SET decided = TRUE, claimed_until = 0, data = $2 WHERE id = $1"),
                &[&id, &data],
            )
            .map_err(|e| db("decide review", e))?;
            tx.commit().map_err(|e| db("commit verdict", e))?;
            Ok(review)
        })
    }

    fn review(&self, id: &str) -> Result<Option<Review>, HubError> {
        let s = self.schema();
        self.with(|c| {
            c.query_opt(&format!("SELECT data FROM {s}.hub_reviews WHERE id = $1"), &[&id])
                .map_err(|e| db("read review", e))?
                .map(|r| parse_json(r.get(0)))
                .transpose()
        })
    }

    fn pending_reviews(&self, agency: &str) -> Result<Vec<Review>, HubError> {
        self.pending_where("owner = $1 AND", &[&agency])
    }

    /// Oldest first.
    fn all_pending_reviews(&self) -> Result<Vec<Review>, HubError> {
        self.pending_where("", &[])
    }

    fn settled(&self, _id: &str) -> Option<Settled> {
        None
    }

    fn evict_decided(&self, _now: u64, _approval_secs: u64) {}

    fn queue_notice(&self, n: Notification) -> Result<(), HubError> {
        let s = self.schema();
        let data = serde_json::to_string(&n).map_err(|e| HubError::Io(e.to_string()))?;
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO {s}.hub_notifications (id, owner, due, sent, data) VALUES ($1, $2, $3, FALSE, $4)"
                ),
                &[&n.id, &n.owner, &(n.due as i64), &data],
            )
            .map_err(|e| db("queue notification", e))?;
            Ok(())
        })
    }

    fn notice(&self, id: &str) -> Result<Option<Notification>, HubError> {
        let s = self.schema();
        self.with(|c| {
            c.query_opt(&format!("SELECT data FROM {s}.hub_notifications WHERE id = $1"), &[&id])
                .map_err(|e| db("read notification", e))?
                .map(|r| parse_json(r.get(0)))
                .transpose()
        })
    }

    fn pending_notices(&self, agency: &str) -> Result<Vec<Notification>, HubError> {
        let s = self.schema();
        let mut out: Vec<Notification> = self.with(|c| {
            c.query(&format!("SELECT data FROM {s}.hub_notifications WHERE owner = $1 AND NOT sent"), &[&agency])
                .map_err(|e| db("read notifications", e))?
                .iter()
                .map(|r| parse_json(r.get(0)))
                .collect()
        })?;
        by_deadline(&mut out);
        Ok(out)
    }

    /// In one transaction, the row locked (`FOR UPDATE`): sent once, across replicas.
    fn mark_notice_sent(&self, id: &str, sent: Sent) -> Result<Notification, HubError> {
        let s = self.schema();
        self.with(|c| {
            let mut tx = c.transaction().map_err(|e| db("begin", e))?;
            let row = tx
                .query_opt(&format!("SELECT data FROM {s}.hub_notifications WHERE id = $1 FOR UPDATE"), &[&id])
                .map_err(|e| db("read notification", e))?
                .ok_or_else(|| HubError::NotFound(format!("no notification {id:?}")))?;
            let mut n: Notification = parse_json(row.get(0))?;
            if n.sent.is_some() {
                return Err(HubError::Conflict(format!("notification {id:?} is already sent")));
            }
            n.sent = Some(sent);
            let data = serde_json::to_string(&n).map_err(|e| HubError::Io(e.to_string()))?;
            tx.execute(
                &format!("UPDATE {s}.hub_notifications SET sent = TRUE, data = $2 WHERE id = $1"),
                &[&id, &data],
            )
            .map_err(|e| db("mark notification sent", e))?;
            tx.commit().map_err(|e| db("commit notification", e))?;
            Ok(n)
        })
    }

    fn add_console_request(&self, r: ConsoleRequest) -> Result<(), HubError> {
        let s = self.schema();
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO {s}.hub_console_requests (id, agency, usr, time, source, decision, ledger_index)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ),
                &[&r.id, &r.agency, &r.user, &(r.time as i64), &r.source, &r.decision, &(r.ledger_index as i64)],
            )
            .map_err(|e| db("store console request", e))?;
            Ok(())
        })
    }

    /// Newest first by time, then by the order stored.
    fn console_requests(&self, agency: &str, user: &str) -> Result<Vec<ConsoleRequest>, HubError> {
        let s = self.schema();
        self.with(|c| {
            let rows = c
                .query(
                    &format!(
                        "SELECT id, agency, usr, time, source, decision, ledger_index FROM {s}.hub_console_requests
                         WHERE agency = $1 AND usr = $2 ORDER BY time DESC, seq DESC LIMIT $3"
                    ),
                    &[&agency, &user, &(CONSOLE_REQUESTS_KEPT as i64)],
                )
                .map_err(|e| db("read console requests", e))?;
            Ok(rows
                .iter()
                .map(|r| ConsoleRequest {
                    id: r.get(0),
                    agency: r.get(1),
                    user: r.get(2),
                    time: r.get::<_, i64>(3) as u64,
                    source: r.get(4),
                    decision: r.get(5),
                    ledger_index: r.get::<_, i64>(6) as u64,
                })
                .collect())
        })
    }
}

impl PgState {
    fn read_tokens(&self, filter: &str, id: Option<&str>) -> Result<Vec<TokenRecord>, HubError> {
        let s = self.schema();
        let sql = format!(
            "SELECT id, hash, agency, usr, role, issued, expires, revoked FROM {s}.hub_tokens WHERE {filter} ORDER BY issued, id"
        );
        self.with(|c| {
            let rows = match id {
                Some(id) => c.query(&sql, &[&id]),
                None => c.query(&sql, &[]),
            }
            .map_err(|e| db("read tokens", e))?;
            Ok(rows
                .iter()
                .map(|r| TokenRecord {
                    id: r.get(0),
                    hash: r.get(1),
                    agency: r.get(2),
                    user: r.get(3),
                    role: r.get(4),
                    issued: r.get::<_, i64>(5) as u64,
                    expires: r.get::<_, i64>(6) as u64,
                    revoked: r.get(7),
                })
                .collect())
        })
    }

    /// The pending reviews matching `filter` (empty, or a condition followed by `AND`), oldest
    /// first.
    fn pending_where(
        &self,
        filter: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Review>, HubError> {
        let s = self.schema();
        self.with(|c| {
            c.query(
                &format!("SELECT data FROM {s}.hub_reviews WHERE {filter} NOT decided ORDER BY created, id"),
                params,
            )
            .map_err(|e| db("read reviews", e))?
            .iter()
            .map(|r| parse_json(r.get(0)))
            .collect()
        })
    }
}
