//! The PostgreSQL backend against the tests' server (`support/pg_server.rs`: CI's at
//! 127.0.0.1:5432, `FUSIONGUARD_TEST_PG`, or a private cluster); each test creates and drops its own schema.
#![cfg(feature = "postgres")]

use std::sync::Arc;
use std::time::Duration;

use ledger::merkle::{leaf_hash, verify_inclusion};
use ledger::note::NoteSigner;
use ledger::pg::{PgPublicReader, PgStorage};
use ledger::tiles::verify_log;
use ledger::{Ledger, LedgerError, Options};

#[path = "support/pg_server.rs"]
mod pg_server;
use pg_server::conninfo;

struct Schema(String);

impl Schema {
    fn new(tag: &str) -> Self {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        Schema(format!("ledger_{tag}_{}_{nanos}", std::process::id()))
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(conninfo(), postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
        }
    }
}

#[test]
fn postgres_ledger_appends_checkpoints_recovers_and_verifies() {
    let schema = Schema::new("basic");
    let signer = NoteSigner::generate("example.org/pg", 1).unwrap();
    let log = Arc::new(
        Ledger::open(Arc::new(PgStorage::connect(conninfo(), &schema.0).unwrap()), signer.clone(), Options::default())
            .unwrap(),
    );
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || (0..300u64).map(|i| log.append(format!("{t}/{i}").as_bytes()).unwrap()).count())
        })
        .collect();
    assert_eq!(threads.into_iter().map(|t| t.join().unwrap()).sum::<usize>(), 1200);
    assert!(log.group_commits() < 1200, "concurrent appends share commits");
    log.checkpoint().unwrap();
    drop(log);

    // Any replica can read and verify the published log without the lock.
    let reader = PgPublicReader::connect(conninfo(), &schema.0).unwrap();
    let v = verify_log(&reader, &signer.verifier()).unwrap();
    assert_eq!(v.checkpoint.size, 1200);

    // Reopen: recovers everything.
    let log =
        Ledger::open(Arc::new(PgStorage::connect(conninfo(), &schema.0).unwrap()), signer, Options::default()).unwrap();
    assert_eq!(log.size(), 1200);
    assert_eq!(log.append(b"after reopen").unwrap(), 1200);
    let note = log.checkpoint().unwrap();
    assert!(note.contains("\n1201\n"));
    let p = log.inclusion_proof(1200, 1201).unwrap();
    verify_inclusion(&leaf_hash(b"after reopen"), 1200, 1201, &p, &log.root(1201).unwrap()).unwrap();
    // Old entries' hashes are read back from the tiles in the database (only the right edge
    // of the tree is held in memory).
    assert!(log.memory_hashes() < 2 * 256 * 2, "{} hashes held", log.memory_hashes());
    let reader = PgPublicReader::connect(conninfo(), &schema.0).unwrap();
    let bundle = reader.read("tile/entries/000").unwrap().unwrap();
    let root = verify_log(&reader, &log.verifier()).unwrap().checkpoint.root;
    for (i, e) in ledger::tiles::decode_bundle(&bundle).unwrap().iter().enumerate().step_by(17) {
        let p = log.inclusion_proof(i as u64, 1201).unwrap();
        verify_inclusion(&leaf_hash(e), i as u64, 1201, &p, &root).unwrap();
    }
}

#[test]
fn one_replica_sequences_the_others_wait_then_take_over() {
    let schema = Schema::new("replicas");
    let signer = NoteSigner::generate("example.org/replicas", 1).unwrap();
    let a =
        Ledger::open(Arc::new(PgStorage::connect(conninfo(), &schema.0).unwrap()), signer.clone(), Options::default())
            .unwrap();
    for i in 0..100 {
        assert_eq!(a.append(format!("a{i}").as_bytes()).unwrap(), i);
    }
    // A second replica cannot sequence while the first holds the lock.
    let err = PgStorage::try_connect(conninfo(), &schema.0).unwrap_err();
    assert!(matches!(err, LedgerError::Locked(_)), "{err}");
    // A waiting replica takes over as soon as the first goes away.
    let (s2, name) = (signer.clone(), schema.0.clone());
    let waiter = std::thread::spawn(move || {
        let storage = PgStorage::connect(conninfo(), &name).unwrap();
        let b = Ledger::open(Arc::new(storage), s2, Options::default()).unwrap();
        let idx = b.append(b"from b").unwrap();
        b.checkpoint().unwrap();
        idx
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(!waiter.is_finished(), "second replica waits for the lock");
    a.checkpoint().unwrap();
    drop(a);
    assert_eq!(waiter.join().unwrap(), 100, "it continues after the first replica's entries");
    let reader = PgPublicReader::connect(conninfo(), &schema.0).unwrap();
    assert_eq!(verify_log(&reader, &signer.verifier()).unwrap().checkpoint.size, 101);
}

#[test]
fn shared_replicas_all_append_without_losing_or_reordering() {
    let schema = Schema::new("shared");
    let signer = NoteSigner::generate("example.org/shared", 1).unwrap();
    let open = || {
        Arc::new(
            Ledger::open(
                Arc::new(PgStorage::connect_shared(conninfo(), &schema.0).unwrap()),
                signer.clone(),
                Options::default(),
            )
            .unwrap(),
        )
    };
    let replicas = [open(), open(), open()];
    // Each thread appends to one replica; every acknowledged index is unique and holds its entry.
    let acked: Vec<(u64, String)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..6usize)
            .map(|t| {
                let log = &replicas[t % 3];
                s.spawn(move || {
                    (0..100)
                        .map(|i| {
                            let e = format!("{t}/{i}");
                            (log.append(e.as_bytes()).unwrap(), e)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut idx: Vec<u64> = acked.iter().map(|a| a.0).collect();
    idx.sort_unstable();
    assert_eq!(idx, (0..600).collect::<Vec<_>>());
    // Appending catches a replica up with the others' entries first, so its tree is the whole log.
    let last = replicas[0].append(b"last").unwrap();
    assert_eq!(last, 600);
    replicas[0].checkpoint().unwrap();
    let reader = PgPublicReader::connect(conninfo(), &schema.0).unwrap();
    let v = verify_log(&reader, &signer.verifier()).unwrap();
    assert_eq!(v.checkpoint.size, 601);
    for (i, e) in &acked {
        let p = replicas[0].inclusion_proof(*i, 601).unwrap();
        verify_inclusion(&leaf_hash(e.as_bytes()), *i, 601, &p, &v.checkpoint.root).unwrap();
    }
    // An idle replica catches up by itself; a smaller checkpoint never replaces a larger one.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while replicas[2].size() < 601 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(replicas[2].size(), 601);
    assert_eq!(replicas[2].root(601).unwrap(), v.checkpoint.root);
    let late = open();
    drop(replicas);
    assert_eq!(late.size(), 601);
    let stale = PgStorage::connect_shared(conninfo(), &schema.0).unwrap();
    use ledger::storage::Storage;
    stale.publish_checkpoint(b"not a checkpoint", 10).unwrap();
    assert_eq!(verify_log(&reader, &signer.verifier()).unwrap().checkpoint.size, 601);
}

#[test]
fn postgres_publication_faults_are_counted_and_clear_themselves() {
    let schema = Schema::new("pubfault");
    let s = &schema.0;
    let signer = NoteSigner::generate("example.org/pg-fault", 1).unwrap();
    let options = Options { checkpoint_interval: Some(Duration::from_millis(50)), ..Options::default() };
    let log = Ledger::open(Arc::new(PgStorage::connect(conninfo(), s).unwrap()), signer, options).unwrap();
    let wait_until = |what: &str, done: &dyn Fn() -> bool| {
        for _ in 0..200 {
            if done() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}");
    };
    log.append(b"one").unwrap();
    wait_until("the first checkpoint", &|| log.published().is_some_and(|p| p.checkpoint.size == 1));

    // A trigger refuses every write of a public file (a superuser cannot bypass it); entries
    // are still appended.
    let mut c = postgres::Client::connect(conninfo(), postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "CREATE FUNCTION {s}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'public files refused'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON {s}.public_files FOR EACH ROW EXECUTE FUNCTION {s}.refuse();"
    ))
    .unwrap();
    assert_eq!(log.append(b"two").unwrap(), 1);
    wait_until("the lag to pass its bound", &|| log.publication().behind());
    let p = log.publication();
    assert!(p.faults > 0 && p.unpublished == 1, "{p:?}");
    assert!(p.error.as_deref().is_some_and(|e| e.contains("public files refused")), "{p:?}");
    assert!(p.public_error.as_deref().is_some_and(|e| e.contains("public files refused")), "{p:?}");

    c.batch_execute(&format!("DROP TRIGGER refuse ON {s}.public_files")).unwrap();
    wait_until("a checkpoint of 2", &|| log.published().is_some_and(|p| p.checkpoint.size == 2));
    let p = log.publication();
    assert!(p.error.is_none() && !p.behind() && p.lag == Duration::ZERO, "{p:?}");
    let reader = PgPublicReader::connect(conninfo(), s).unwrap();
    assert_eq!(verify_log(&reader, &log.verifier()).unwrap().checkpoint.size, 2);
}
