// Tests of crates/hub/assets/verify.js (the in-browser receipt verifier), on Node's WebCrypto.
// Run: node --test tests/browser/verify.test.mjs
// Shared vectors are read from ../shared/vectors relative to the repository root (as
// crates/ledger/tests/vectors.rs does). The live-hub test runs `$FUSIONGUARD_BIN demo` (default:
// target/debug/fusionguard) and is skipped when no binary is found.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import {
  bundleLocation,
  encodeTileIndex,
  entriesPath,
  entryFromBundle,
  leafHash,
  parseVerifierKey,
  verifyInclusion,
  verifyNote,
  verifyReceipt,
} from "../../crates/hub/assets/verify.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const VECTORS = resolve(ROOT, "../shared/vectors");
const TESSERA = join(VECTORS, "tessera-log");
const TESSERA_VKEY = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const b64d = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const sha256 = async (...parts) => {
  const all = Buffer.concat(parts.map((p) => Buffer.from(p)));
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
};
const node = (l, r) => sha256([1], l, r);

// RFC 9162 §2.1.1 and §2.1.3.1, straight from the definitions (the test's own oracle).
const split = (n) => 2 ** Math.floor(Math.log2(n - 1)); // largest power of two < n
async function mth(leaves) {
  if (leaves.length === 0) return sha256([]);
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return node(await mth(leaves.slice(0, k)), await mth(leaves.slice(k)));
}
async function path(m, leaves) {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...(await path(m, leaves.slice(0, k))), await mth(leaves.slice(k))]
    : [...(await path(m - k, leaves.slice(k))), await mth(leaves.slice(0, k))];
}

// A fetch serving a folder as the hub serves its public log (under /ledger/), plus receipts.
function folderFetch(dir, { receipts = {}, drop = new Set(), patch = {} } = {}) {
  return async (url) => {
    const u = new URL(url, "http://hub.invalid");
    if (u.pathname.startsWith("/v1/ledger/proof/")) {
      const r = receipts[u.pathname.slice("/v1/ledger/proof/".length)];
      return r ? Response.json(r) : new Response("not found", { status: 404 });
    }
    const rel = u.pathname.replace(/^\/ledger\//, "");
    if (patch[rel]) return new Response(patch[rel]);
    const file = join(dir, rel);
    if (drop.has(rel) || !existsSync(file) || !statSync(file).isFile()) return new Response("", { status: 404 });
    return new Response(readFileSync(file));
  };
}

async function newKey(name) {
  const k = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", k.publicKey));
  const id = (await sha256(Buffer.from(name + "\n"), [1], pub)).slice(0, 4);
  const vkey = `${name}+${Buffer.from(id).toString("hex")}+${b64([1, ...pub])}`;
  const sign = async (body) => {
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, k.privateKey, Buffer.from(body)));
    return `${body}\n\u2014 ${name} ${b64([...id, ...sig])}\n`;
  };
  return { vkey, sign };
}

const noteBody = (note) => note.slice(0, note.lastIndexOf("\n\n") + 1);
const readCheckpoint = (n) => readFileSync(join(TESSERA, `checkpoint.${n}`), "utf8");

// The Tessera log's 15 entries and leaf hashes (its largest entry bundle holds them all).
const tesseraEntries = () => {
  const bundle = readFileSync(join(TESSERA, "tile/entries/000.p/15"));
  return Array.from({ length: 15 }, (_, i) => entryFromBundle(bundle, i));
};

async function tesseraReceipt(index, size) {
  const leaves = await Promise.all(tesseraEntries().map(leafHash));
  const proof = await path(index, leaves.slice(0, size));
  return {
    index,
    origin: "example.com/log/testdata",
    checkpoint: readCheckpoint(size),
    tree_size: size,
    inclusion_proof: proof.map(b64),
  };
}

function jsonFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsonFiles(join(dir, e.name)) : e.name.endsWith(".json") ? [join(dir, e.name)] : [],
  );
}

// (a) RFC 9162 inclusion vectors (transparency-dev/merkle): happy paths pass, every mutation fails.
test("every transparency-dev inclusion vector passes or fails as it should", async () => {
  const files = jsonFiles(join(VECTORS, "merkle/inclusion")).sort();
  assert.ok(files.length > 90, `only ${files.length} vectors`);
  let happy = 0;
  for (const f of files) {
    const d = JSON.parse(readFileSync(f, "utf8"));
    const got = await verifyInclusion(d.leafIdx, d.treeSize, b64d(d.leafHash), (d.proof ?? []).map(b64d), b64d(d.root));
    assert.equal(got, !d.wantErr, `${f}: ${d.desc}`);
    if (!d.wantErr) happy++;
  }
  assert.equal(happy, 6);
});

test("verifyInclusion: size 0, short hashes and indices outside the tree are rejected", async () => {
  const leaf = await leafHash(new Uint8Array([1]));
  assert.equal(await verifyInclusion(0, 1, leaf, [], leaf), true);
  assert.equal(await verifyInclusion(0, 0, leaf, [], await sha256([])), false);
  assert.equal(await verifyInclusion(1, 1, leaf, [], leaf), false);
  assert.equal(await verifyInclusion(-1, 1, leaf, [], leaf), false);
  assert.equal(await verifyInclusion(0, 1, leaf.slice(0, 31), [], leaf.slice(0, 31)), false);
  const leaves = await Promise.all([0, 1, 2].map((i) => leafHash(new Uint8Array([i]))));
  const proof = await path(2, leaves);
  const root = await mth(leaves);
  assert.equal(await verifyInclusion(2, 3, leaves[2], proof, root), true);
  assert.equal(await verifyInclusion(2, 3, leaves[2], [proof[0].slice(0, 31)], root), false);
  assert.equal(await verifyInclusion(2, 3, leaves[2], [...proof, proof[0]], root), false);
});

test("tile paths follow C2SP tlog-tiles", () => {
  assert.equal(encodeTileIndex(0), "000");
  assert.equal(encodeTileIndex(1234067), "x001/x234/067");
  assert.equal(encodeTileIndex(1000), "x001/000");
  assert.equal(entriesPath(5, 10), "tile/entries/005.p/10");
  assert.equal(entriesPath(5), "tile/entries/005");
  assert.deepEqual(bundleLocation(3, 15), {
    tile: 0, width: 15, offset: 3, path: "tile/entries/000.p/15", fullPath: "tile/entries/000",
  });
  assert.equal(bundleLocation(300, 600).path, "tile/entries/001");
  assert.equal(bundleLocation(300, 400).path, "tile/entries/001.p/144");
  assert.equal(bundleLocation(255, 256).path, "tile/entries/000");
});

test("entryFromBundle reads u16-prefixed entries and rejects truncation", () => {
  const b = new Uint8Array([0, 1, 7, 0, 0, 0, 2, 8, 9]);
  assert.deepEqual(entryFromBundle(b, 0), new Uint8Array([7]));
  assert.deepEqual(entryFromBundle(b, 1), new Uint8Array([]));
  assert.deepEqual(entryFromBundle(b, 2), new Uint8Array([8, 9]));
  assert.throws(() => entryFromBundle(b, 3), { reason: "entry" });
  assert.throws(() => entryFromBundle(b.slice(0, 8), 0), { reason: "entry" });
  assert.throws(() => entryFromBundle(b.slice(0, 6), 0), { reason: "entry" });
});

// (b) Tessera's checkpoints, with its published key; another key and flipped bytes fail.
test("every Tessera checkpoint verifies with its vkey", async () => {
  const key = await parseVerifierKey(TESSERA_VKEY);
  assert.equal(key.name, "example.com/log/testdata");
  assert.equal(key.keyId, "33d7b496");
  for (let n = 0; n <= 15; n++) {
    const cp = await verifyNote(readCheckpoint(n), TESSERA_VKEY);
    assert.equal(cp.origin, "example.com/log/testdata");
    assert.equal(cp.size, n);
    if (n > 0) {
      const leaves = await Promise.all(tesseraEntries().slice(0, n).map(leafHash));
      assert.deepEqual(cp.rootHash, await mth(leaves), `root of checkpoint.${n}`);
    }
  }
  const latest = await verifyNote(readFileSync(join(TESSERA, "checkpoint"), "utf8"), key);
  assert.equal(latest.size, 15);
  // The level-0 hash tile agrees with the entries (the data the receipts below rely on).
  const tile = readFileSync(join(TESSERA, "tile/0/000.p/15"));
  const leaves = await Promise.all(tesseraEntries().map(leafHash));
  assert.deepEqual(new Uint8Array(tile), new Uint8Array(Buffer.concat(leaves)));
});

test("verifier keys are parsed strictly", async () => {
  const bad = [
    "",
    "example.com/log/testdata+33d7b497+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx", // key id
    "example.com/log/testdata+33d7b496+AuHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx", // type 0x02
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkk", // length
    "example.com/log/testdata+33d7b4+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx",
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx+x",
  ];
  for (const v of bad) await assert.rejects(parseVerifierKey(v), { reason: "format" }, v);
});

test("Tessera checkpoints fail with another key and with any flipped byte", async () => {
  const sameName = await newKey("example.com/log/testdata");
  const otherName = await newKey("example.com/other");
  for (let n = 0; n <= 15; n++) {
    const note = readCheckpoint(n);
    await assert.rejects(verifyNote(note, sameName.vkey), { reason: "other-key" });
    await assert.rejects(verifyNote(note, otherName.vkey), { reason: "other-key" });
    // Every byte of the body, flipped in its lowest bit: never verifies.
    const body = noteBody(note);
    for (let i = 0; i < body.length; i++) {
      const flipped = body.slice(0, i) + String.fromCharCode(body.charCodeAt(i) ^ 1) + note.slice(i + 1);
      await assert.rejects(verifyNote(flipped, TESSERA_VKEY), (e) => ["signature", "format"].includes(e.reason));
    }
    // Every byte of the signature (after the key id): bad signature.
    const line = note.slice(body.length + 1, -1);
    const prefix = line.slice(0, line.lastIndexOf(" ") + 1);
    const sig = b64d(line.slice(prefix.length));
    for (let i = 0; i < sig.length; i++) {
      const s = sig.slice();
      s[i] ^= 0x80;
      const tampered = `${body}\n${prefix}${b64(s)}\n`;
      await assert.rejects(verifyNote(tampered, TESSERA_VKEY), { reason: i < 4 ? "other-key" : "signature" });
    }
  }
  // A signature line that is not canonical base64 is malformed.
  const note = readCheckpoint(3);
  const unpadded = note.slice(0, note.lastIndexOf("=\n")) + "\n"; // the signature line's padding
  await assert.rejects(verifyNote(unpadded, TESSERA_VKEY), { reason: "format" });
  await assert.rejects(verifyNote(note.slice(0, -1), TESSERA_VKEY), { reason: "format" });
});

// (c) Receipts for every Tessera entry against every checkpoint that covers it, end to end.
test("every Tessera entry verifies against every checkpoint through verifyReceipt", async () => {
  const fetch = folderFetch(TESSERA);
  for (let size = 1; size <= 15; size++) {
    for (let index = 0; index < size; index++) {
      const receipt = await tesseraReceipt(index, size);
      const res = await verifyReceipt({ receipt, vkey: TESSERA_VKEY, fetch });
      assert.deepEqual(res, { ok: true, index, size, origin: "example.com/log/testdata" }, `${index} in ${size}`);
    }
  }
  // As JSON text, and fetched by index from /v1/ledger/proof/N.
  const r = await tesseraReceipt(7, 15);
  assert.equal((await verifyReceipt({ receipt: JSON.stringify(r), vkey: TESSERA_VKEY, fetch })).ok, true);
  const byIndex = folderFetch(TESSERA, { receipts: { 7: r } });
  assert.equal((await verifyReceipt({ index: 7, vkey: TESSERA_VKEY, fetch: byIndex, base: "http://x" })).ok, true);
  const missing = await verifyReceipt({ index: 8, vkey: TESSERA_VKEY, fetch: byIndex });
  assert.equal(missing.reason, "fetch");
});

test("a log grown past the checkpoint: the full bundle replaces a deleted partial one", async () => {
  const log = await newKey("example.net/grown");
  const entries = Array.from({ length: 300 }, (_, i) => Buffer.from(`entry ${i}`));
  const leaves = await Promise.all(entries.map(leafHash));
  const bundle = (es) => Buffer.concat(es.flatMap((e) => [Buffer.from([e.length >> 8, e.length & 255]), e]));
  const files = { "tile/entries/000": bundle(entries.slice(0, 256)), "tile/entries/001.p/44": bundle(entries.slice(256)) };
  const fetch = async (url) => {
    const f = files[url.replace(/^\/ledger\//, "")];
    return f ? new Response(f) : new Response("", { status: 404 });
  };
  for (const [index, size] of [[0, 100], [99, 100], [255, 300], [299, 300], [260, 300]]) {
    const checkpoint = await log.sign(`example.net/grown\n${size}\n${b64(await mth(leaves.slice(0, size)))}\n`);
    const proof = (await path(index, leaves.slice(0, size))).map(b64);
    const res = await verifyReceipt({ receipt: { index, checkpoint, inclusion_proof: proof }, vkey: log.vkey, fetch });
    assert.equal(res.ok, true, `${index} in ${size}: ${res.detail}`);
  }
  // A partial bundle that holds more entries than its width is refused.
  files["tile/entries/000.p/100"] = files["tile/entries/000"];
  const checkpoint = await log.sign(`example.net/grown\n100\n${b64(await mth(leaves.slice(0, 100)))}\n`);
  const proof = (await path(5, leaves.slice(0, 100))).map(b64);
  const res = await verifyReceipt({ receipt: { index: 5, checkpoint, inclusion_proof: proof }, vkey: log.vkey, fetch });
  assert.equal(res.reason, "entry");
});

// (d) Tampering.
// Only the receipt's own entry (and the bundle's framing) matters to a receipt: the other entries
// of its bundle are not covered by its proof, so changing them alone goes unnoticed by design.
test("a tampered entry bundle fails with 'entry' or 'proof'", async () => {
  const receipt = await tesseraReceipt(4, 15);
  const orig = readFileSync(join(TESSERA, "tile/entries/000.p/15"));
  const critical = [];
  for (let at = 0, n = 0; at < orig.length; n++) {
    const end = at + 2 + orig.readUInt16BE(at);
    for (let i = at; i < (n === 4 ? end : at + 2); i++) critical.push(i);
    at = end;
  }
  assert.ok(critical.length > 30);
  for (const i of critical) {
    const b = Buffer.from(orig);
    b[i] ^= 1;
    const fetch = folderFetch(TESSERA, { patch: { "tile/entries/000.p/15": b } });
    const res = await verifyReceipt({ receipt, vkey: TESSERA_VKEY, fetch });
    assert.equal(res.ok, false, `byte ${i}`);
    assert.ok(["entry", "proof"].includes(res.reason), `byte ${i}: ${res.reason}`);
  }
  const gone = await verifyReceipt({ receipt, vkey: TESSERA_VKEY, fetch: folderFetch(TESSERA, { drop: new Set(["tile/entries/000.p/15"]) }) });
  assert.equal(gone.reason, "fetch");
});

test("a tampered proof fails with 'proof'", async () => {
  const fetch = folderFetch(TESSERA);
  const receipt = await tesseraReceipt(4, 15);
  for (let h = 0; h < receipt.inclusion_proof.length; h++) {
    for (const bit of [0, 100, 255]) {
      const p = b64d(receipt.inclusion_proof[h]);
      p[bit >> 3] ^= 1 << (bit & 7);
      const proof = receipt.inclusion_proof.with(h, b64(p));
      const res = await verifyReceipt({ receipt: { ...receipt, inclusion_proof: proof }, vkey: TESSERA_VKEY, fetch });
      assert.equal(res.reason, "proof", `hash ${h} bit ${bit}`);
    }
  }
  const short = await verifyReceipt({ receipt: { ...receipt, inclusion_proof: receipt.inclusion_proof.slice(1) }, vkey: TESSERA_VKEY, fetch });
  assert.equal(short.reason, "proof");
  const wrongIndex = await verifyReceipt({ receipt: { ...receipt, index: 5 }, vkey: TESSERA_VKEY, fetch });
  assert.equal(wrongIndex.reason, "proof");
  const outside = await verifyReceipt({ receipt: { ...receipt, index: 15 }, vkey: TESSERA_VKEY, fetch });
  assert.equal(outside.reason, "proof");
  const garbled = await verifyReceipt({ receipt: { ...receipt, inclusion_proof: ["not base64!"] }, vkey: TESSERA_VKEY, fetch });
  assert.equal(garbled.reason, "format");
});

test("checkpoints by another key, bad signatures and malformed receipts", async () => {
  const fetch = folderFetch(TESSERA);
  const receipt = await tesseraReceipt(2, 15);
  const impostor = await newKey("example.com/log/testdata");
  const forged = { ...receipt, checkpoint: await impostor.sign(noteBody(receipt.checkpoint)) };
  assert.equal((await verifyReceipt({ receipt: forged, vkey: TESSERA_VKEY, fetch })).reason, "other-key");
  assert.equal((await verifyReceipt({ receipt, vkey: impostor.vkey, fetch })).reason, "other-key");
  const resized = { ...receipt, checkpoint: receipt.checkpoint.replace("\n15\n", "\n14\n") };
  assert.equal((await verifyReceipt({ receipt: resized, vkey: TESSERA_VKEY, fetch })).reason, "signature");
  for (const bad of [
    "{",
    { ...receipt, checkpoint: undefined },
    { ...receipt, tree_size: 14 },
    { ...receipt, origin: "example.com/elsewhere" },
    { ...receipt, index: "2" },
  ]) {
    assert.equal((await verifyReceipt({ receipt: bad, vkey: TESSERA_VKEY, fetch })).reason, "format", JSON.stringify(bad));
  }
  assert.equal((await verifyReceipt({ receipt, vkey: "nonsense", fetch })).reason, "format");
  const down = async () => {
    throw new TypeError("network down");
  };
  assert.equal((await verifyReceipt({ receipt, vkey: TESSERA_VKEY, fetch: down })).reason, "fetch");
});

// (e) A live demo hub: real receipts verify with Node's fetch.
const BIN = process.env.FUSIONGUARD_BIN || join(ROOT, "target/debug/fusionguard");
let hub = null;
after(() => hub?.kill());

const freePort = () =>
  new Promise((ok, ko) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", ko);
  });

test("receipts of a live demo hub verify", { skip: !existsSync(BIN) && `no hub binary at ${BIN}`, timeout: 60_000 }, async () => {
  const data = mkdtempSync(join(tmpdir(), "fg-verify-test-"));
  after(() => rmSync(data, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  hub = spawn(BIN, ["demo", "--data", join(data, "d"), "--listen", `127.0.0.1:${port}`], { cwd: ROOT });
  let out = "";
  hub.stderr.on("data", (d) => (out += d));
  await new Promise((ok, ko) => {
    hub.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Press Ctrl-C")) ok();
    });
    hub.on("exit", (code) => ko(new Error(`demo exited with ${code}:\n${out}`)));
  });
  const tokens = Object.fromEntries([...out.matchAll(/export (T_\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
  const example = (name) => readFileSync(out.match(new RegExp(`-d @(\\S+/${name})`))[1]);
  const post = async (token, body) => {
    const r = await fetch(`${base}/v1/requests`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body });
    return (await r.json()).ledger?.index;
  };
  const indices = [];
  for (let i = 0; i < 3; i++) indices.push(await post(tokens.T_DET_RAMOS, example("8-sheriff-alpr.json")));
  indices.push(await post(tokens.T_ERO_OFFICER, example("1-ice-alpr.json")));
  indices.push(await post(tokens.T_ERO_OFFICER, example("8-sheriff-alpr.json"))); // refused, still logged
  assert.ok(indices.every(Number.isInteger), `indices ${indices}`);

  const vkey = (await (await fetch(`${base}/v1/ledger/key`)).text()).trim();
  const last = Math.max(...indices);
  for (let t = 0; ; t++) {
    const r = await (await fetch(`${base}/v1/ledger/proof/${last}`)).json();
    if (r.checkpoint) break;
    assert.ok(t < 100, "no checkpoint covered the requests within 10 s");
    await new Promise((ok) => setTimeout(ok, 100));
  }
  for (const index of indices) {
    const res = await verifyReceipt({ index, vkey, fetch, base });
    assert.equal(res.ok, true, `index ${index}: ${res.reason} ${res.detail}`);
    assert.equal(res.index, index);
    const receipt = await (await fetch(`${base}/v1/ledger/proof/${index}`)).json();
    assert.equal((await verifyReceipt({ receipt, vkey, fetch, base })).ok, true);
  }
  const other = await newKey(vkey.split("+")[0]);
  assert.equal((await verifyReceipt({ index: indices[0], vkey: other.vkey, fetch, base })).reason, "other-key");
  const tampered = await (await fetch(`${base}/v1/ledger/proof/${indices[0]}`)).json();
  tampered.inclusion_proof[0] = b64(b64d(tampered.inclusion_proof[0]).map((b, i) => (i === 0 ? b ^ 1 : b)));
  assert.equal((await verifyReceipt({ receipt: tampered, vkey, fetch, base })).reason, "proof");
  assert.equal((await verifyReceipt({ index: 10_000, vkey, fetch, base })).reason, "fetch");
});

// The /verify page: a minimal stand-in for the DOM (ids and data-* attributes as the hub renders).
test("in a page, the form's receipt is checked on submit and the page's own messages are shown", async () => {
  const el = (props = {}) => ({ ...props, attrs: {}, setAttribute(k, v) { this.attrs[k] = v; }, removeAttribute(k) { delete this.attrs[k]; } });
  const handlers = {};
  const form = el({ addEventListener: (type, f) => (handlers[type] = f) });
  const receipt = el({ value: "" });
  const vkey = el({ value: ` ${TESSERA_VKEY} ` });
  const result = el({
    dataset: {
      verified: "Vérifié", notVerified: "Non vérifié", inBrowser: "Vérifié dans votre navigateur.",
      reasonSignature: "R-signature", reasonOtherKey: "R-other-key", reasonProof: "R-proof",
      reasonEntry: "R-entry", reasonFetch: "R-fetch", reasonFormat: "R-format",
    },
    replaceChildren(...c) { this.children = c; },
  });
  const ids = { "verify-form": form, receipt, vkey, "verify-result": result };
  globalThis.document = { getElementById: (id) => ids[id] ?? null, createElement: (tag) => el({ tag }) };
  const realFetch = globalThis.fetch;
  const receipts = { 7: await tesseraReceipt(7, 15) };
  globalThis.fetch = folderFetch(TESSERA, { receipts });
  try {
    await import("../../crates/hub/assets/verify.js?page");
    assert.equal(typeof handlers.submit, "function");
    const submit = async (text) => {
      receipt.value = text;
      let prevented = false;
      await handlers.submit({ preventDefault: () => (prevented = true) });
      assert.ok(prevented);
      assert.equal(result.attrs["aria-busy"], undefined);
      return result.children.map((c) => [c.tag, c.className ?? "", c.textContent]);
    };
    assert.deepEqual(await submit(JSON.stringify(await tesseraReceipt(3, 9))), [
      ["p", "verdict ok", "Vérifié"],
      ["p", "", "Vérifié dans votre navigateur."],
    ]);
    assert.deepEqual((await submit(" 7\n"))[0], ["p", "verdict ok", "Vérifié"]);
    const cases = [
      ["{not json", "R-format"],
      ["8", "R-fetch"],
      [JSON.stringify({ ...(await tesseraReceipt(3, 9)), index: 4 }), "R-proof"],
    ];
    for (const [text, message] of cases) {
      assert.deepEqual(await submit(text), [
        ["p", "verdict bad", "Non vérifié"],
        ["p", "", `${message} Vérifié dans votre navigateur.`],
      ]);
    }
    vkey.value = (await newKey("example.com/log/testdata")).vkey;
    assert.equal((await submit("7"))[1][2], "R-other-key Vérifié dans votre navigateur.");
    assert.equal(result.dataset.reason, "other-key");
  } finally {
    globalThis.fetch = realFetch;
    delete globalThis.document;
  }
});

test("verify.js uses no innerHTML, eval or dynamically built code", () => {
  const src = readFileSync(join(ROOT, "crates/hub/assets/verify.js"), "utf8");
  for (const bad of ["innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", "document.write", "import("]) {
    assert.ok(!src.includes(bad), bad);
  }
});
