//! End-to-end tests of `fusionguard audit ...` on the real records in `../shared/data`.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_fusionguard");

fn data(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel).display().to_string()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run fusionguard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

/// `audit searches FILE --format parquet --out OUT`, which must succeed, and the file it wrote.
fn searches_to_parquet(
    file: &str,
    out: &std::path::Path,
) -> parquet::file::serialized_reader::SerializedFileReader<std::fs::File> {
    let (code, _, stderr) =
        run(&["audit", "searches", file, "--format", "parquet", "--out", &out.display().to_string()]);
    assert_eq!(code, 0, "{stderr}");
    parquet::file::serialized_reader::SerializedFileReader::new(std::fs::File::open(out).unwrap()).unwrap()
}

#[test]
fn searches_jsonl_and_stats() {
    let file = data("flock/okaloosa-fl-org-audit-2025-11.csv");
    let (code, stdout, stderr) = run(&["audit", "searches", &file, "--format", "jsonl", "--stats"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2397 + 3195 + 12);
    // The first search (reason "bolo", 840 networks) is vague and wide.
    for (v, kind) in lines[..2].iter().zip(["vague_reason", "wide_search"]) {
        assert_eq!(v["kind"], kind);
        assert_eq!(v["record"], "23d55b89-42eb-4f5c-9281-f5e8bf4864be");
        assert_eq!(v["line"], 2);
    }
    assert_eq!(
        lines[0]["evidence"],
        "reason \"bolo\" with no case number; practice concern (no statute of FL in the law library governs it)"
    );
    assert_eq!(lines[0]["file"], file);
    assert!(stderr.contains("7273 rows read, 7273 kept, 0 rejected; 5604 findings"), "{stderr}");
    assert!(stderr.contains("note: no user column"), "{stderr}");
}

#[test]
fn searches_tz_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.csv");
    let mut csv = "id,User,Organization,Search Time,Reason,Moderation\n".to_owned();
    for i in 0..12 {
        csv.push_str(&format!("b{i},u1,A PD,2025-06-01T03:0{}:00Z,theft 25-{i:03}1,\n", i % 10));
    }
    csv.push_str("m1,u1,A PD,2025-06-02T10:00:00Z,Immigration (civil/administrative),block\n");
    std::fs::write(&file, csv).unwrap();
    let file = file.display().to_string();
    let (code, stdout, stderr) =
        run(&["audit", "searches", &file, "--format", "jsonl", "--tz", "-06:00", "--state", "CA"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let burst = lines.iter().find(|v| v["kind"] == "burst").expect("a burst");
    assert!(burst["evidence"].as_str().unwrap().ends_with("times in UTC-06:00 (--tz; the export writes UTC)"));
    let blocked = lines.iter().find(|v| v["kind"] == "moderation_blocked").expect("a blocked search");
    assert_eq!(blocked["record"], "m1");
    // An IANA name is refused with a message saying only fixed offsets are read.
    let (code, _, stderr) = run(&["audit", "searches", &file, "--tz", "America/Chicago"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("only fixed offsets are read"), "{stderr}");
}

#[test]
fn searches_table_tells_the_story_first() {
    let (code, stdout, _) = run(&["audit", "searches", &data("flock/eugene-or-search-audit-2025-06.csv")]);
    assert_eq!(code, 0);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("Audit of searches (1 file):"));
    assert!(stdout.contains("4,294 records read, 4,294 kept, 0 rejected"), "{stdout}");
    assert!(stdout.contains("citations: no state: the export names no organisation; give --state"), "{stdout}");
    assert!(stdout.contains("Searches: 4,294 distinct; 1,289 wide (30.0%)"), "{stdout}");
    assert!(stdout.contains("top users by searches"), "{stdout}");
    // Findings by detector and severity, then examples, then every finding most severe first.
    let table = stdout.find("  DETECTOR ").expect("the detector table");
    let examples = stdout.find("\nExamples:\n").expect("examples");
    let list = stdout.find("\nFindings, most severe first:\nSEVERITY  KIND").expect("the list");
    assert!(table < examples && examples < list);
    let severities: Vec<&str> = stdout[list..]
        .lines()
        .skip(3)
        .take_while(|l| !l.ends_with(" findings"))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let rank = |s: &str| ["high", "medium", "low"].iter().position(|x| *x == s).expect(s);
    assert!(severities.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "most severe first");
    assert!(stdout.ends_with(&format!("{} findings\n", severities.len())));
}

#[test]
fn searches_out_html_csv_parquet_and_many_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = data("flock/okaloosa-fl-org-audit-2025-11.csv");
    // The evidence report: the format follows the extension; the summary goes to standard output.
    let html = dir.path().join("report.html");
    let (code, stdout, stderr) = run(&["audit", "searches", &file, "--out", &html.display().to_string()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("Audit of searches (1 file):"), "{stdout}");
    assert!(stderr.contains("report.html (5604 findings)"), "{stderr}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html><html lang=\"en\">") && page.ends_with("</html>"));
    assert!(page.contains("5,604") && page.contains("<svg") && page.contains("id=\"method\""));
    assert!(!dir.path().join("report.html.partial").exists());
    let (code, _, _) = run(&["audit", "searches", &file, "--out", &html.display().to_string(), "--lang", "es"]);
    assert_eq!(code, 0);
    assert!(std::fs::read_to_string(&html).unwrap().contains("Informe de pruebas"));
    // `--html-limit 3`: the report keeps only the findings it lists (memory does not grow with
    // the findings), and they are the first three of the full list, most severe first.
    let rows = |page: &str| -> Vec<String> {
        let list = &page[page.rfind("class=\"findings\"").unwrap()..];
        list.split("<tr><td>").skip(1).map(|r| r[..r.find("</tr>").unwrap()].to_owned()).collect()
    };
    let (code, _, _) = run(&["audit", "searches", &file, "--out", &html.display().to_string()]);
    assert_eq!(code, 0);
    let all = rows(&std::fs::read_to_string(&html).unwrap());
    assert_eq!(all.len(), 5604);
    let (code, _, stderr) =
        run(&["audit", "searches", &file, "--out", &html.display().to_string(), "--html-limit", "3"]);
    assert_eq!(code, 0, "{stderr}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("The first 3 of 5,604 findings"), "{page}");
    assert_eq!(rows(&page), all[..3]);

    // CSV: a header of the finding schema and one row per finding.
    let csv_path = dir.path().join("f.csv");
    let (code, _, _) = run(&["audit", "searches", &file, "--out", &csv_path.display().to_string()]);
    assert_eq!(code, 0);
    let csv_text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv_text
        .starts_with("kind,severity,rule,citation,record,agency,counterparty,user,time,file,line,also_in,evidence\n"));
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(rdr.records().count(), 5604);

    // Parquet: one row per finding, read back.
    use parquet::file::reader::FileReader;
    let reader = searches_to_parquet(&file, &dir.path().join("f.parquet"));
    let meta = reader.metadata();
    assert_eq!(meta.file_metadata().num_rows(), 5604);
    let names: Vec<&str> = meta.file_metadata().schema_descr().columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, oversight::finding::FLAT_COLUMNS);
    // Parquet is never written to a terminal or a pipe.
    let (code, _, stderr) = run(&["audit", "searches", &file, "--format", "parquet"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--format parquet needs --out"), "{stderr}");

    // A folder of exports: each file read, the same search counted once.
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    std::fs::copy(&file, exports.join("a.csv")).unwrap();
    std::fs::copy(&file, exports.join("b.csv")).unwrap();
    std::fs::write(exports.join("notes.txt"), "not an export").unwrap();
    let (code, stdout, stderr) = run(&["audit", "searches", &exports.display().to_string(), "--format", "jsonl"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5604, "each search once");
    let first = &lines[0];
    assert!(first["file"].as_str().unwrap().ends_with("a.csv"));
    assert!(first["also_in"][0]["file"].as_str().unwrap().ends_with("b.csv"));
    assert_eq!(first["also_in"][0]["line"], first["line"]);
}

/// Parquet rows over several row groups (whose column buffers are reused from one group to the
/// next) hold what the JSON lines hold, finding for finding and field for field.
#[test]
fn parquet_rows_over_several_row_groups_are_the_json_lines() {
    use parquet::file::reader::FileReader;
    use parquet::record::Field;
    let dir = tempfile::tempdir().unwrap();
    let real = std::fs::read_to_string(data("flock/okaloosa-fl-org-audit-2025-11.csv")).unwrap();
    let (header, rows) = real.split_once('\n').unwrap();
    // Twelve copies, each search ID with a prefix of its own: about 67,000 findings, more than
    // one row group holds (65,536).
    let mut big = format!("{header}\n");
    for copy in 0..12 {
        for row in rows.lines() {
            big.push_str(&format!("{copy}-{row}\n"));
        }
    }
    let file = dir.path().join("big.csv");
    std::fs::write(&file, big).unwrap();
    let file = file.display().to_string();
    let (code, jsonl, stderr) = run(&["audit", "searches", &file, "--format", "jsonl"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() > 65_536, "{} findings", lines.len());
    let reader = searches_to_parquet(&file, &dir.path().join("big.parquet"));
    assert!(reader.metadata().num_row_groups() >= 2);
    let mut n = 0;
    for (row, json) in reader.get_row_iter(None).unwrap().zip(&lines) {
        for (name, field) in row.unwrap().get_column_iter() {
            let expected = match &json[name.as_str()] {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            };
            let cell = match field {
                Field::Null => None,
                Field::Str(s) => Some(s.clone()),
                Field::Long(l) => Some(l.to_string()),
                other => panic!("column {name}: {other:?}"),
            };
            assert_eq!(cell, expected, "finding {n}, column {name}");
        }
        n += 1;
    }
    assert_eq!(n, lines.len());
}

#[test]
fn searches_bad_input_exits_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let (code, _, stderr) = run(&["audit", "searches", &empty.display().to_string()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("empty.csv: line 1: not a search audit"), "{stderr}");
    // A header and no rows: nothing could be read.
    let header_only = dir.path().join("h.csv");
    std::fs::write(&header_only, "id,searchDate,reason\n").unwrap();
    let (code, _, stderr) = run(&["audit", "searches", &header_only.display().to_string()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no search could be read"), "{stderr}");
    // A folder with no CSV file.
    let (code, _, stderr) = run(&["audit", "searches", &dir.path().join("none").display().to_string()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("none"), "{stderr}");
    std::fs::create_dir(dir.path().join("nocsv")).unwrap();
    let (code, _, stderr) = run(&["audit", "searches", &dir.path().join("nocsv").display().to_string()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("the folder holds no .csv files"), "{stderr}");
    // Several files, none a search audit: each named, exit 2.
    let sharing = data("sharing/flock-agency-access-2024-04-26.csv");
    let (code, _, stderr) = run(&["audit", "searches", &sharing, &empty.display().to_string()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("flock-agency-access-2024-04-26.csv: line 1: not a search audit"), "{stderr}");
    // An output folder that does not exist: said before anything is read.
    let (code, _, stderr) = run(&[
        "audit",
        "searches",
        &data("flock/okaloosa-fl-org-audit-2025-11.csv"),
        "--out",
        &dir.path().join("no/such/dir/r.html").display().to_string(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot create the output file"), "{stderr}");
    // A pipe (standard input), for searches and emails: refused, saying why and what to do.
    for (command, name) in [("searches", "/dev/stdin"), ("searches", "-"), ("emails", "/dev/stdin")] {
        let mut child = Command::new(BIN)
            .args(["audit", command, name])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The audit may refuse before reading: a closed pipe here is not the test's failure.
        let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"ID,Search_Time,Reason\n1,x,y\n");
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command} {name}: {stderr}");
        assert!(stderr.contains("can be read only once") && stderr.contains("save it to a file first"), "{stderr}");
    }
    // A state that is not a state code.
    let (code, _, stderr) = run(&["audit", "searches", &sharing, "--state", "Florida"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a two-letter state code"), "{stderr}");
}

/// `--out` a device, a named pipe or a folder: a device or a pipe is written in place and never
/// replaced by a file (`/dev/full` fails with the device's error and stays a device), a folder is
/// refused; a reader that stops early ends the audit quietly in every streamed format.
#[test]
fn out_devices_pipes_and_folders() {
    use std::io::{BufRead, Read};
    use std::os::unix::fs::FileTypeExt;
    let file = data("flock/okaloosa-fl-org-audit-2025-11.csv");
    for format in ["jsonl", "csv", "parquet", "html"] {
        let (code, _, stderr) = run(&["audit", "searches", &file, "--format", format, "--out", "/dev/full"]);
        assert_eq!(code, 2, "{format}: {stderr}");
        assert!(stderr.contains("No space left on device"), "{format}: {stderr}");
        assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device(), "{format}");
    }
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("findings.jsonl");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            std::fs::File::open(fifo).unwrap().read_to_string(&mut text).unwrap();
            text
        })
    };
    let (code, _, stderr) = run(&["audit", "searches", &file, "--out", &fifo.display().to_string()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(reader.join().unwrap().lines().count(), 5604);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "nothing written beside the pipe");
    std::fs::remove_file(&fifo).unwrap();
    let (code, _, stderr) = run(&["audit", "searches", &file, "--out", &dir.path().display().to_string()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is a folder"), "{stderr}");
    // `--out` one of the inputs (named directly, through a folder, or through a link): refused,
    // the export untouched.
    let export = dir.path().join("export.csv");
    std::fs::copy(&file, &export).unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&export, &link).unwrap();
    for (input, out) in [(&export, &export), (&dir.path().to_path_buf(), &export), (&export, &link)] {
        let (code, _, stderr) =
            run(&["audit", "searches", &input.display().to_string(), "--out", &out.display().to_string()]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("the findings would replace it"), "{stderr}");
        assert_eq!(std::fs::read(&export).unwrap(), std::fs::read(&file).unwrap());
    }
    // The same for the published policies a sharing audit reads.
    let policies = dir.path().join("policies.csv");
    std::fs::copy(data("sharing/flock-agency-policies-2023-07.csv"), &policies).unwrap();
    let policies = policies.display().to_string();
    let list = data("sharing/flock-agency-access-2024-04-26.csv");
    let (code, _, stderr) = run(&["audit", "sharing", &list, "--policies", &policies, "--out", &policies]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("the findings would replace it"), "{stderr}");
    assert_eq!(
        std::fs::read(&policies).unwrap(),
        std::fs::read(data("sharing/flock-agency-policies-2023-07.csv")).unwrap()
    );
    for format in ["jsonl", "csv", "table"] {
        let mut child = Command::new(BIN)
            .args(["audit", "searches", &file, "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        assert!(!first.is_empty());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn sharing_names_the_agencies() {
    let file = data("sharing/flock-agency-access-2024-04-26.csv");
    let (code, stdout, stderr) = run(&["audit", "sharing", &file, "--format", "jsonl"]);
    assert_eq!(code, 0, "{stderr}");
    let fbi = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["counterparty"] == "FBI" && v["agency"] == "Hillsborough CA PD")
        .expect("Hillsborough CA PD shares with the FBI");
    assert_eq!(fbi["kind"], "forbidden_sharing");
    assert_eq!(fbi["severity"], "high");
    assert_eq!(fbi["rule"], "sharing.ca_sb34.federal");
    assert!(stderr.starts_with("8 names not resolved by the agency directory (never guessed):\n"), "{stderr}");
}

#[test]
fn sharing_against_the_published_policies() {
    let file = data("sharing/flock-agency-access-2024-04-26.csv");
    let policies = data("sharing/flock-agency-policies-2023-07.csv");
    let (code, stdout, stderr) =
        run(&["audit", "sharing", &file, "--policies", &policies, "--format", "jsonl", "--stats"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // The sharing list's own findings and the policy contradictions, together.
    assert!(lines.iter().any(|v| v["rule"] == "sharing.ca_sb34.federal"));
    let contradictions: Vec<_> = lines.iter().filter(|v| v["kind"] == "policy_contradiction").collect();
    assert_eq!(contradictions.len(), 295);
    let kent = contradictions
        .iter()
        .find(|v| v["agency"] == "Kent WA PD" && v["counterparty"] == "FBI")
        .expect("Kent WA PD promises access to Kent Police officers only");
    assert_eq!(kent["rule"], "policy.own_agency_only");
    assert_eq!(kent["severity"], "medium");
    assert_eq!(
        kent["citation"],
        "Kent WA PD's published ALPR policy (updated 2023-08-18): https://transparency.flocksafety.com/kent-wa-pd"
    );
    assert!(
        stderr.contains("224 policies matched to the sharing list's agencies; 295 policy contradictions"),
        "{stderr}"
    );
    assert!(stderr.contains("note: 144 of 368 published policies match no source agency"), "{stderr}");
    // A policies file that is not one: exit 2, naming the file.
    let (code, _, stderr) = run(&["audit", "sharing", &file, "--policies", &file]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("flock-agency-access-2024-04-26.csv") && stderr.contains("not a policies file"),
        "{stderr}"
    );
}

#[test]
fn emails_and_bad_input() {
    let (code, stdout, stderr) = run(&[
        "audit",
        "emails",
        &data("flock/eugene-or-public-records-emails-2025.csv"),
        "--format",
        "jsonl",
        "--stats",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 90);
    let v = lines.iter().find(|v| v["kind"] == "non_email_sender").unwrap();
    assert_eq!(v["message_id"], "row-4");
    // 89 vendor digests to a personal Gmail account beside the detectives' Exchange accounts.
    let personal: Vec<_> = lines.iter().filter(|v| v["kind"] == "personal_account").collect();
    assert_eq!(personal.len(), 89);
    assert_eq!(personal[0]["rule"], "email.personal_account");
    assert_eq!(personal[0]["severity"], "medium");
    let hash = personal[0]["user"].as_str().unwrap();
    assert!(stderr.contains("90 rows read, 90 kept, 0 rejected; 90 findings"), "{stderr}");
    assert!(stderr.contains("90 messages in 1 threads"), "{stderr}");
    // The summary counts the account by the hash of its address, never the address.
    assert!(stderr.contains(&format!("  1 personal mail accounts on official business (by address hash)\n    {hash} (gmail.com): 89 message(s)\n")), "{stderr}");
    assert!(!stderr.contains("kcorney") && !stdout.contains("kcorney"), "the address is never in clear");
    // A sharing list is not a search audit: exit 2, naming the file, the line and what is missing.
    let file = data("sharing/flock-agency-access-2024-04-26.csv");
    let (code, _, stderr) = run(&["audit", "searches", &file]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "flock-agency-access-2024-04-26.csv: line 1: not a search audit: no id, search time, reason column"
        ),
        "{stderr}"
    );
}

#[test]
fn emails_from_a_folder_of_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1.eml"),
        "From: sgt@ocsd.org\nCc: =?UTF-8?Q?Agent?= <a@ice.dhs.gov>\nSubject: =?UTF-8?B?cGxhdGUgcnVu?=\nMessage-ID: <1@x>\n\nhi\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("2.eml"), "To: nobody@x.org\n\nno sender\n").unwrap();
    let folder = dir.path().display().to_string();
    let (code, stdout, stderr) = run(&["audit", "emails", &folder, "--format", "jsonl", "--stats"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!((v["message_id"].as_str(), v["file"].as_str()), (Some("1@x"), Some("1.eml")));
    assert_eq!(v["evidence"], "DHS address in CC: a@ice.dhs.gov");
    assert!(stderr.contains("2 rows read, 1 kept, 1 rejected; 1 findings"), "{stderr}");
    assert!(stderr.contains("rejected 2.eml, line 1: no From header field"), "{stderr}");
    assert!(stderr.contains("1 message(s): \"plate run\""), "{stderr}");
}

#[test]
fn an_empty_mailbox_or_folder_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let empty_file = dir.path().join("empty.mbox");
    std::fs::write(&empty_file, "").unwrap();
    let empty_folder = dir.path().join("nothing");
    std::fs::create_dir(&empty_folder).unwrap();
    // Nothing audited is not nothing found: exit status 2, naming the file and what was expected.
    let (code, _, stderr) = run(&["audit", "emails", empty_file.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("empty.mbox: the file is empty; expected an email production: "), "{stderr}");
    let (code, _, stderr) = run(&["audit", "emails", empty_folder.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("error: no messages were found in"), "{stderr}");
}

#[test]
fn intelligence_retention() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gang.csv");
    std::fs::write(&file, "record_id,entry_date,last_review\nA,2019-01-01,\nB,2019-01-01,2023-06-01\n").unwrap();
    let file = file.display().to_string();
    let (code, stdout, stderr) = run(&["audit", "intelligence", &file, "--as-of", "2025-11-25", "--format", "jsonl"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!((v["record"].as_str(), v["kind"].as_str()), (Some("A"), Some("retention_exceeded")));
    assert!(v["citation"].as_str().unwrap().starts_with("28 CFR 23.20(h)"));
    let (code, _, stderr) = run(&["audit", "intelligence", &file, "--as-of", "soon"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--as-of: unrecognised time \"soon\""), "{stderr}");
}

#[test]
fn ledger_audit_needs_a_verifiable_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-world").display().to_string();
    let (code, stdout, stderr) = run(&["audit", "ledger", "--data", &data, "--config", &config]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains("auditing the ledger of") && stderr.contains("ledger.vkey"), "{stderr}");
}
