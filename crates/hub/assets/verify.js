// verify.js: checks a FusionGuard ledger receipt in the reader's browser, so that the reader
// need not trust the hub that serves the page. No dependencies; WebCrypto only (SHA-256, Ed25519).
//
// What it checks, for a receipt {index, origin, checkpoint, tree_size, inclusion_proof}:
//   1. The checkpoint is a C2SP signed note (c2sp.org/signed-note) carrying a valid Ed25519
//      signature by the verifier key the reader supplies (`name+keyid+base64(0x01||key)`, whose
//      key id must be the first 4 bytes of SHA-256(name || "\n" || 0x01 || key)). Signature lines
//      by other keys (witnesses, the log's own timestamped cosignature) are ignored.
//   2. The note body is a C2SP tlog-checkpoint: origin, decimal size (no leading zeros), base64
//      root hash of 32 bytes, then optional non-empty extension lines.
//   3. The entry itself is fetched from the log's public C2SP tlog-tiles entry bundle
//      (`<tiles>/tile/entries/<N>[.p/<W>]`, the partial bundle for the checkpoint's size, or the
//      full bundle if the partial one is gone), and its RFC 9162 leaf hash SHA-256(0x00 || entry)
//      is proven to be at `index` in the checkpoint's tree by the receipt's inclusion proof
//      (RFC 9162 §2.1.3.2). Every hash must be exactly 32 bytes.
//
// What it does NOT check:
//   - that the checkpoint is the log's latest one, or consistent with checkpoints seen before
//     (no consistency proof, no gossip): a log that shows different trees to different readers
//     is only caught by witnesses or auditors (`fusionguard ledger verify`, `audit ledger`);
//   - witness cosignatures or the cosignature's timestamp (they are ignored);
//   - that the verifier key is the right one: it is only as trustworthy as where the reader got it
//     (the server prefills it; paste one obtained elsewhere to remove that trust);
//   - what the entry means (the decision it records is not parsed or shown);
//   - that the receipt's origin matches the key's name (only that it matches the checkpoint's).
// Inclusion in the empty tree (size 0) always fails: no index lies inside it.
// Indices and sizes must be below 2^53 (JavaScript numbers).
//
// Exports: parseVerifierKey, verifyNote, leafHash, verifyInclusion, entryFromBundle,
// encodeTileIndex, entriesPath, bundleLocation, verifyReceipt, VerifyError.
// Loaded in a page with a #verify-form, it checks the form's receipt on submit (see the end).

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();
const TILE_WIDTH = 256;
const MAX_SIGNATURES = 100;

/** An error carrying a reason code: 'signature' | 'other-key' | 'proof' | 'entry' | 'fetch' | 'format'. */
export class VerifyError extends Error {
  constructor(reason, detail) {
    super(detail);
    this.reason = reason;
    this.detail = detail;
  }
}

const fail = (reason, detail) => {
  throw new VerifyError(reason, detail);
};

const sha256 = async (...parts) => {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await subtle.digest("SHA-256", all));
};

const equalBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Strict standard base64 (with padding, canonical): returns bytes, or null. */
export function decodeBase64(s) {
  if (typeof s !== "string" || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    return null;
  }
  const bin = atob(s);
  if (btoa(bin) !== s) return null; // non-zero padding bits
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const validName = (name) => name.length > 0 && !name.includes("+") && !/\s/u.test(name);

/**
 * Parses a C2SP signed-note verifier key `name+hexkeyid+base64(0x01 || 32-byte Ed25519 key)`.
 * Resolves to {name, keyId (8 hex digits), publicKey (Uint8Array), key (CryptoKey)}; throws
 * VerifyError('format') if it is malformed or its key id does not match the key.
 */
export async function parseVerifierKey(vkey) {
  const bad = (why) => fail("format", `verifier key: ${why}`);
  const m = typeof vkey === "string" ? /^([^+]*)\+([^+]*)\+(.*)$/s.exec(vkey.trim()) : null;
  if (!m) bad("expected <name>+<key id>+<key>");
  const [, name, keyId, b64] = m;
  if (!validName(name)) bad("invalid key name");
  if (!/^[0-9a-f]{8}$/i.test(keyId)) bad("the key id must be 8 hex digits");
  const raw = decodeBase64(b64);
  if (!raw) bad("the key is not base64");
  if (raw[0] !== 0x01) bad("not an Ed25519 key (type 0x01)");
  if (raw.length !== 33) bad("an Ed25519 key must be 32 bytes");
  const publicKey = raw.slice(1);
  const id = (await sha256(utf8.encode(name + "\n"), raw)).slice(0, 4);
  if (!equalBytes(id, hexBytes(keyId))) bad("the key id does not match the key");
  let key;
  try {
    key = await subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    bad(`not a usable Ed25519 key (${e.message})`);
  }
  return { name, keyId: keyId.toLowerCase(), publicKey, key };
}

const hexBytes = (hex) => Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));

/**
 * Verifies a signed checkpoint note with a verifier key (string, or parseVerifierKey's result).
 * Resolves to {origin, size, rootHash (Uint8Array), extensions}. Throws VerifyError with reason
 * 'format' (malformed note or checkpoint), 'other-key' (no signature by this key name and id) or
 * 'signature' (this key's signature does not verify).
 */
export async function verifyNote(noteText, vkey) {
  const key = typeof vkey === "string" ? await parseVerifierKey(vkey) : vkey;
  const bad = (why) => fail("format", `checkpoint: ${why}`);
  if (noteText instanceof Uint8Array) {
    try {
      noteText = new TextDecoder("utf-8", { fatal: true }).decode(noteText);
    } catch {
      bad("not UTF-8");
    }
  }
  if (typeof noteText !== "string" || !noteText.endsWith("\n")) bad("does not end in a newline");
  if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ufeff]/u.test(noteText)) bad("control character");
  const split = noteText.lastIndexOf("\n\n");
  if (split < 0) bad("no blank line before the signatures");
  const body = noteText.slice(0, split + 1);
  const lines = noteText.slice(split + 2, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) bad("too many signatures");
  let mine = null;
  for (const line of lines) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m || !validName(m[1])) bad("malformed signature line");
    const sig = decodeBase64(m[2]);
    if (!sig || sig.length < 5) bad("malformed signature");
    const id = Array.from(sig.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    if (m[1] === key.name && id === key.keyId && !mine) mine = sig.slice(4);
  }
  if (!mine) fail("other-key", `the checkpoint carries no signature by ${key.name}+${key.keyId}`);
  const ok = mine.length === 64 && (await subtle.verify({ name: "Ed25519" }, key.key, mine, utf8.encode(body)));
  if (!ok) fail("signature", `the signature by ${key.name}+${key.keyId} does not verify`);
  const [origin, size, root, ...extensions] = body.slice(0, -1).split("\n");
  if (!origin) bad("missing origin");
  if (!/^(0|[1-9][0-9]*)$/.test(size ?? "") || !Number.isSafeInteger(Number(size))) bad("bad tree size");
  const rootHash = decodeBase64(root ?? "");
  if (!rootHash || rootHash.length !== 32) bad("the root hash must be 32 bytes of base64");
  if (extensions.some((e) => e === "")) bad("empty extension line");
  return { origin, size: Number(size), rootHash, extensions };
}

/** RFC 9162 leaf hash: SHA-256(0x00 || entry). */
export function leafHash(entryBytes) {
  return sha256(new Uint8Array([0]), entryBytes);
}

const nodeHash = (left, right) => sha256(new Uint8Array([1]), left, right);

/**
 * RFC 9162 §2.1.3.2: resolves to true iff `proof` (array of 32-byte Uint8Arrays) proves that
 * `leaf` (a 32-byte leaf hash) is entry `index` of the tree of `size` entries whose root is
 * `root`. Any hash that is not 32 bytes, and any index outside the tree (always so for size 0),
 * gives false.
 */
export async function verifyInclusion(index, size, leaf, proof, root) {
  const is32 = (h) => h instanceof Uint8Array && h.length === 32;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (!is32(leaf) || !is32(root) || !Array.isArray(proof) || !proof.every(is32)) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  const half = (x) => Math.floor(x / 2);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(r, root);
}

/** Entry `n` of a C2SP tlog-tiles entry bundle (big-endian uint16 length-prefixed entries). */
export function entryFromBundle(bundleBytes, n) {
  return splitBundle(bundleBytes)[n] ?? fail("entry", `the bundle holds no entry ${n}`);
}

function splitBundle(b) {
  const out = [];
  for (let at = 0; at < b.length; ) {
    if (at + 2 > b.length) fail("entry", `truncated length prefix after entry ${out.length}`);
    const len = (b[at] << 8) | b[at + 1];
    if (at + 2 + len > b.length) fail("entry", `entry ${out.length} is truncated`);
    out.push(b.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

/** C2SP tlog-tiles tile index: 1234067 -> "x001/x234/067". */
export function encodeTileIndex(n) {
  const groups = [String(n % 1000).padStart(3, "0")];
  for (let rest = Math.floor(n / 1000); rest > 0; rest = Math.floor(rest / 1000)) {
    groups.unshift("x" + String(rest % 1000).padStart(3, "0"));
  }
  return groups.join("/");
}

/** Path of entry bundle `n` holding `width` entries: "tile/entries/<N>" or ".../<N>.p/<W>". */
export function entriesPath(n, width = TILE_WIDTH) {
  return `tile/entries/${encodeTileIndex(n)}${width === TILE_WIDTH ? "" : `.p/${width}`}`;
}

/**
 * Where entry `index` of a tree of `size` entries lies: {tile, width, offset, path, fullPath}.
 * `path` is the bundle for that tree size (partial if the tile is not full yet); `fullPath` is
 * the full bundle, which may replace a deleted partial one (C2SP tlog-tiles).
 */
export function bundleLocation(index, size) {
  const tile = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, size - tile * TILE_WIDTH);
  return { tile, width, offset: index % TILE_WIDTH, path: entriesPath(tile, width), fullPath: entriesPath(tile) };
}

async function get(fetchFn, url, kind) {
  let res;
  try {
    res = await fetchFn(url);
  } catch (e) {
    fail("fetch", `${url}: ${e.message}`);
  }
  if (res.status === 404 && kind === "optional") return null;
  if (!res.ok) fail("fetch", `${url}: HTTP ${res.status}`);
  try {
    return kind === "json" ? await res.json() : new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    fail(kind === "json" ? "format" : "fetch", `${url}: ${e.message}`);
  }
}

/**
 * Checks a ledger receipt end to end (see the header). Options:
 *   receipt  the receipt (object or JSON text), or
 *   index    a ledger index: the receipt is fetched from `${base}/v1/ledger/proof/${index}`
 *   vkey     the verifier key (string)
 *   fetch    the fetch function (default globalThis.fetch)
 *   base     URL prefix of the hub ("" in the hub's own pages)
 *   tiles    URL prefix of the public log under `base` (default "/ledger")
 * Resolves to {ok: true, index, size, origin} or {ok: false, reason, detail}; never rejects.
 */
export async function verifyReceipt({ receipt, index, vkey, fetch: fetchFn = globalThis.fetch, base = "", tiles = "/ledger" }) {
  try {
    if (receipt === undefined || receipt === null) {
      if (!Number.isSafeInteger(index) || index < 0) fail("format", "no receipt and no ledger index");
      receipt = await get(fetchFn, `${base}/v1/ledger/proof/${index}`, "json");
      if (receipt?.index !== index) fail("format", `the hub answered with a receipt for another index`);
    } else if (typeof receipt === "string") {
      try {
        receipt = JSON.parse(receipt);
      } catch (e) {
        fail("format", `the receipt is not JSON: ${e.message}`);
      }
    }
    const r = receipt ?? {};
    if (!Number.isSafeInteger(r.index) || r.index < 0) fail("format", "the receipt has no valid index");
    if (typeof r.checkpoint !== "string") fail("format", "the receipt has no checkpoint yet (retry in a few seconds)");
    if (!Array.isArray(r.inclusion_proof)) fail("format", "the receipt has no inclusion proof");
    const cp = await verifyNote(r.checkpoint, await parseVerifierKey(vkey));
    if (r.origin !== undefined && r.origin !== cp.origin) fail("format", "the receipt's origin is not the checkpoint's");
    if (r.tree_size !== undefined && r.tree_size !== cp.size) fail("format", "the receipt's tree size is not the checkpoint's");
    if (r.index >= cp.size) fail("proof", `entry ${r.index} is not in the checkpoint's tree of ${cp.size}`);
    const proof = r.inclusion_proof.map((h) => decodeBase64(h) ?? fail("format", "a proof hash is not base64"));

    const at = bundleLocation(r.index, cp.size);
    let [bundle, width] = [await get(fetchFn, `${base}${tiles}/${at.path}`, "optional"), at.width];
    if (bundle === null && at.path !== at.fullPath) {
      [bundle, width] = [await get(fetchFn, `${base}${tiles}/${at.fullPath}`, "optional"), TILE_WIDTH];
    }
    if (bundle === null) fail("fetch", `${base}${tiles}/${at.path}: not found`);
    const entries = splitBundle(bundle);
    if (entries.length !== width) fail("entry", `the bundle holds ${entries.length} entries, not ${width}`);
    const leaf = await leafHash(entries[at.offset]);
    if (!(await verifyInclusion(r.index, cp.size, leaf, proof, cp.rootHash))) {
      fail("proof", `the entry and the inclusion proof do not lead to the checkpoint's root`);
    }
    return { ok: true, index: r.index, size: cp.size, origin: cp.origin };
  } catch (e) {
    if (e instanceof VerifyError) return { ok: false, reason: e.reason, detail: e.detail };
    return { ok: false, reason: "format", detail: String(e?.message ?? e) };
  }
}

// In the hub's /verify page: the messages come from the page (its language), never from here.
function wire(doc) {
  const form = doc.getElementById("verify-form");
  const out = doc.getElementById("verify-result");
  if (!form || !out) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = doc.getElementById("receipt").value.trim();
    const vkey = doc.getElementById("vkey").value.trim();
    out.setAttribute("aria-busy", "true");
    const res = /^[0-9]+$/.test(text)
      ? await verifyReceipt({ index: Number(text), vkey })
      : await verifyReceipt({ receipt: text, vkey });
    const d = out.dataset;
    const verdict = doc.createElement("p");
    verdict.className = res.ok ? "verdict ok" : "verdict bad";
    verdict.textContent = res.ok ? d.verified : d.notVerified;
    const why = doc.createElement("p");
    const reasonKey = res.ok ? null : "reason" + res.reason.replace(/(^|-)([a-z])/g, (_, _d, c) => c.toUpperCase());
    why.textContent = [res.ok ? "" : d[reasonKey], d.inBrowser].filter(Boolean).join(" ");
    out.replaceChildren(verdict, why);
    out.dataset.reason = res.ok ? "" : res.reason; // for tests and curious readers (dev tools)
    out.dataset.detail = res.ok ? "" : res.detail;
    out.removeAttribute("aria-busy");
  });
}

if (typeof document !== "undefined") wire(document);
