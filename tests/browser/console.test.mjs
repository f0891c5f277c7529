// The console and the public portal in a real Chromium, as their users work: log in with a token,
// preview and submit requests, approve and deny reviews as a supervisor, verify a receipt (and fail
// a tampered one), switch to Spanish, log out; the same with JavaScript disabled; axe-core on every
// page in English and Spanish, empty and populated; and the bad inputs a browser can send (wrong
// token, expired session, missing CSRF token, unknown form field, the session cookie on the API).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { startHub, issueToken, launch, checkAxe, screenshot, bin } from "./lib.mjs";

let hub;
let tokens;

before(async () => {
  hub = await startHub();
  tokens = {
    ramos: await issueToken(hub, "oc-sheriff", "det-ramos", "detective"),
    lee: await issueToken(hub, "denver-pd", "det-lee", "detective"),
    ortiz: await issueToken(hub, "lapd", "sgt-ortiz", "supervisor"),
    ero: await issueToken(hub, "ice-ero", "ero-officer", "deportation_officer"),
  };
});

after(async () => {
  await hub?.stop();
});

/** Waits (up to 15 s) until the hub's published checkpoint covers ledger entry `index`. */
async function covered(base, index) {
  for (let i = 0; i < 60; i++) {
    const size = Number((await (await fetch(`${base}/ledger/checkpoint`)).text()).split("\n")[1]);
    if (size > index) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the checkpoint never covered entry ${index}`);
}

/** Logs in through the form and lands on the console. */
async function login(page, token, base = hub.url) {
  await page.goto(`${base}/console/login`);
  await page.getByLabel(/Access token|Token de acceso/).fill(token);
  await page.getByRole("button", { name: /^(Log in|Iniciar sesión)$/ }).click();
  await page.waitForURL(`${base}/console`);
}

/** Fills the request form (the fields a lawful or unlawful request needs). */
async function fillRequest(page, r) {
  await page.goto(`${hub.url}/console/requests/new`);
  await page.getByLabel("Source").selectOption(r.source);
  await page.getByLabel("Action").selectOption(r.action ?? "lookup");
  await page.getByLabel("Purpose").selectOption(r.purpose);
  await page.getByLabel("Justification").fill(r.justification ?? "");
  await page.getByLabel("Case number").fill(r.case_number ?? "");
  await page.getByLabel("Kind of legal basis").selectOption(r.basis ?? "none");
  await page.getByLabel("Kind of subject").selectOption(r.subject_kind);
  await page.getByLabel("Value", { exact: true }).fill(r.subject ?? "");
}

const LAWFUL = {
  source: "ociac-alpr",
  purpose: "criminal_investigation",
  justification: "Armed robbery 2024-118: suspect vehicle seen leaving the scene",
  case_number: "OCSD-2024-118",
  subject_kind: "plate",
  subject: "7ABC123",
};
const HELD = {
  source: "calgang",
  purpose: "criminal_investigation",
  justification: "Homicide 24-0311: suspect reportedly moved from Los Angeles",
  case_number: "DPD-24-0311",
  subject_kind: "name",
  subject: "J. Doe",
};

for (const javaScriptEnabled of [true, false]) {
  const mode = javaScriptEnabled ? "with JavaScript" : "without JavaScript";

  test(`a requester previews, submits and verifies; a supervisor approves and denies (${mode})`, async () => {
    const ctx = await launch({ javaScriptEnabled });
    try {
      const page = await ctx.newPage();
      // A wrong token: a clear message tied to the field, 401, no session.
      await page.goto(`${hub.url}/console/login`);
      await page.getByLabel("Access token").fill("fgt_0000000000000000_wrong");
      const [wrong] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith("/console/login") && r.request().method() === "POST"),
        page.getByRole("button", { name: "Log in" }).click(),
      ]);
      assert.equal(wrong.status(), 401);
      assert.equal(await page.getByLabel("Access token").getAttribute("aria-invalid"), "true");
      assert.match(await page.locator("#token-error").innerText(), /not valid/);

      await login(page, tokens.ramos);
      // Preview: the decision and its law, nothing recorded.
      const before = Number((await (await fetch(`${hub.url}/ledger/checkpoint`)).text()).split("\n")[1]);
      await fillRequest(page, { ...LAWFUL, subject: "" });
      await page.getByRole("button", { name: "Preview decision" }).click();
      await page.getByRole("heading", { name: /Preview/ }).waitFor();
      assert.match(await page.locator(".decision").first().innerText(), /Permitted/);
      // Submit: decision, data with obligations applied, receipt.
      await fillRequest(page, LAWFUL);
      await page.getByRole("button", { name: "Submit request" }).click();
      await page.getByRole("heading", { name: "Decision" }).waitFor();
      assert.match(await page.locator(".decision").first().innerText(), /Permitted/);
      assert.ok((await page.locator("table tbody tr").count()) > 0, "released records are shown");
      await screenshot(page, `console-permit${javaScriptEnabled ? "" : "-no-js"}`);
      const receipt = page.getByRole("link", { name: "Verify this receipt" });
      const href = await receipt.getAttribute("href");
      const index = Number(new URL(href, hub.url).searchParams.get("receipt"));
      assert.ok(index >= before, "the submitted request is a new ledger entry; the preview made none");

      // The receipt verifies (in the browser with JavaScript, by the hub without).
      await receipt.click();
      await page.waitForURL(/\/verify/);
      // A fresh entry may be just past the checkpoint; the hub publishes one within a second.
      await covered(hub.url, index);
      if (javaScriptEnabled) {
        await page.getByRole("button", { name: "Verify" }).click();
        await page.getByText("Checked in your browser.").waitFor();
        assert.equal(await page.locator("#verify-result .verdict").innerText(), "Verified");
      } else {
        await page.reload();
        assert.equal(await page.locator("#verify-result .verdict").innerText(), "Verified");
        assert.match(await page.locator("#verify-result").innerText(), /Checked by the hub/);
      }
      // A tampered receipt fails, and says why.
      const real = await (await fetch(`${hub.url}/v1/ledger/proof/${index}`)).json();
      // A changed proof hash (or, for the first entry of a one-entry log, one hash too many).
      const proof = real.inclusion_proof;
      const changed = proof.length > 0
        ? [(proof[0][0] === "A" ? "B" : "A") + proof[0].slice(1), ...proof.slice(1)]
        : ["A".repeat(43) + "="];
      const tampered = JSON.stringify({ ...real, inclusion_proof: changed });
      await page.goto(`${hub.url}/verify`);
      await page.getByLabel("Receipt or ledger index").fill(tampered);
      await page.getByRole("button", { name: "Verify" }).click();
      if (javaScriptEnabled) await page.getByText("Checked in your browser.").waitFor();
      assert.equal(await page.locator("#verify-result .verdict").innerText(), "Not verified");
      assert.match(await page.locator("#verify-result").innerText(), /inclusion proof/);
      await screenshot(page, `verify-tampered${javaScriptEnabled ? "" : "-no-js"}`);

      // Log out: the session is gone.
      await page.goto(`${hub.url}/console`);
      await page.getByRole("button", { name: "Log out" }).click();
      await page.waitForURL(/\/console\/login/);
      await page.goto(`${hub.url}/console/requests/new`);
      assert.match(page.url(), /\/console\/login/);

      // Denver's detective asks CalGang: held for LAPD's supervisor.
      await login(page, tokens.lee);
      await fillRequest(page, HELD);
      await page.getByRole("button", { name: "Submit request" }).click();
      await page.getByRole("heading", { name: "Decision" }).waitFor();
      assert.match(await page.locator(".decision").first().innerText(), /Held for review/);
      await page.getByRole("button", { name: "Log out" }).click();

      // The supervisor sees it, approves it; a second one is denied.
      await login(page, tokens.ortiz);
      await page.getByRole("link", { name: "Reviews" }).first().click();
      const card = page.locator(".review-card").first();
      await card.waitFor();
      await card.getByLabel("Reason").fill("Homicide case confirmed with Denver PD");
      await card.getByRole("button", { name: "Approve" }).click();
      assert.match(await page.locator("p.notice").innerText(), /recorded at ledger entry/);
      await page.getByRole("button", { name: "Log out" }).click();

      // The requester fetches the approved data from My requests.
      await login(page, tokens.lee);
      await page.getByRole("link", { name: "My requests" }).first().click();
      await page.getByRole("button", { name: "Fetch the approved data" }).first().click();
      assert.ok((await page.locator("table tbody tr").count()) > 0, "the approved data is released");
      await fillRequest(page, HELD);
      await page.getByRole("button", { name: "Submit request" }).click();
      await page.getByRole("heading", { name: "Decision" }).waitFor();
      await page.getByRole("button", { name: "Log out" }).click();
      await login(page, tokens.ortiz);
      await page.goto(`${hub.url}/console/reviews`);
      const second = page.locator(".review-card").first();
      await second.getByLabel("Reason").fill("No nexus to a California investigation");
      await second.getByRole("button", { name: "Deny" }).click();
      assert.match(await page.locator("p.notice").innerText(), /recorded at ledger entry/);
      await page.getByRole("button", { name: "Log out" }).click();

      // ICE asks for the plate: refused for the wrong agency, and nothing is released.
      await login(page, tokens.ero);
      await fillRequest(page, {
        source: "ociac-alpr",
        purpose: "civil_immigration_enforcement",
        justification: "please run [CA plate]",
        subject_kind: "plate",
        subject: "7ABC123",
      });
      await page.getByRole("button", { name: "Submit request" }).click();
      await page.getByRole("heading", { name: "Decision" }).waitFor();
      assert.match(await page.locator(".decision").first().innerText(), /Denied/);
      assert.match(await page.locator("main").innerText(), /1798\.90\.55/);
      assert.equal(await page.getByRole("heading", { name: "Data released" }).count(), 0);
      await screenshot(page, `console-deny${javaScriptEnabled ? "" : "-no-js"}`);

      // Spanish, then log out.
      await page.getByRole("link", { name: "Español" }).click();
      assert.equal(await page.locator("html").getAttribute("lang"), "es");
      await page.getByRole("button", { name: "Cerrar sesión" }).click();
      await page.waitForURL(/\/console\/login/);
      assert.ok(await page.getByLabel("Token de acceso").isVisible());
    } finally {
      await ctx.close();
    }
  });
}

test("every page meets WCAG 2.1 AA (axe-core), in English and Spanish, empty and populated", async () => {
  const ctx = await launch();
  try {
    const page = await ctx.newPage();
    const publicPages = ["/", "/transparency", "/agencies", "/agencies/lapd", "/laws", "/laws/ny-vtl-201-12a-immigration-agencies", "/verify", "/verify?receipt=0", "/console/login", "/no-such-agency-page"];
    const consolePages = ["/console", "/console/requests/new", "/console/requests", "/console/reviews", "/console/notifications"];
    for (const lang of ["en", "es"]) {
      for (const path of publicPages) {
        await page.goto(`${hub.url}${path.replace("/no-such-agency-page", "/agencies/nobody")}${path.includes("?") ? "&" : "?"}lang=${lang}`);
        await checkAxe(page, `${path} (${lang})`);
      }
      await login(page, tokens.ortiz);
      for (const path of consolePages) {
        await page.goto(`${hub.url}${path}?lang=${lang}`);
        await checkAxe(page, `${path} (${lang})`);
      }
      // A form with its errors shown.
      await page.goto(`${hub.url}/console/requests/new?lang=${lang}`);
      await page.locator("#subject_kind").selectOption("plate");
      await page.locator("button[value=submit]").click();
      await checkAxe(page, `request form with errors (${lang})`);
      await page.locator("header form button").click();
    }
    // Narrow screens: nothing scrolls sideways at 320 px.
    await page.setViewportSize({ width: 320, height: 800 });
    for (const path of ["/", "/laws", "/verify", "/console/login"]) {
      await page.goto(`${hub.url}${path}`);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= 320, `${path} is ${wide}px wide at 320px`);
    }
  } finally {
    await ctx.close();
  }
});

test("bad input gets a clear page and the right status, never a 5xx; the session cookie does not open the API", async () => {
  const ctx = await launch();
  try {
    const page = await ctx.newPage();
    await login(page, tokens.ramos);
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === "fg_session");
    assert.ok(session && session.httpOnly && session.sameSite === "Strict", JSON.stringify(cookies));
    const cookie = `fg_session=${session.value}`;
    // The API takes bearer tokens only.
    const api = await fetch(`${hub.url}/v1/reviews`, { headers: { cookie } });
    assert.equal(api.status, 401);
    // A form without its CSRF token.
    const noCsrf = await fetch(`${hub.url}/console/requests/new`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "source=ociac-alpr&action=lookup&purpose=criminal_investigation&basis_kind=none&subject_kind=plate&subject_value=7ABC123&do=submit",
      redirect: "manual",
    });
    assert.equal(noCsrf.status, 403);
    assert.match(await noCsrf.text(), /form has expired/);
    // An unknown field, and a missing one.
    const csrf = await page.goto(`${hub.url}/console/requests/new`).then(() => page.locator("input[name=csrf]").first().getAttribute("value"));
    for (const [body, expected] of [
      [`csrf=${csrf}&source=ociac-alpr&action=lookup&purpose=criminal_investigation&basis_kind=none&subject_kind=plate&subject_value=X&shoe_size=9&do=submit`, /unknown field/],
      [`csrf=${csrf}&action=lookup&purpose=criminal_investigation&basis_kind=none&subject_kind=plate&subject_value=X&do=submit`, /no &quot;source&quot;/],
      [`csrf=${csrf}&source=ociac-alpr&action=lookup&purpose=criminal_investigation&basis_kind=none&subject_kind=name&subject_value=X&do=submit`, /looked up by/],
    ]) {
      const r = await fetch(`${hub.url}/console/requests/new`, {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body,
      });
      assert.equal(r.status, 400, body);
      assert.match(await r.text(), expected);
    }
    // After logging out, the old cookie gets the login page.
    await page.getByRole("button", { name: "Log out" }).click();
    const stale = await fetch(`${hub.url}/console/reviews`, { headers: { cookie }, redirect: "manual" });
    assert.equal(stale.status, 303);
    assert.match(stale.headers.get("location"), /\/console\/login/);
    // Pages showing released data are never stored.
    const h = await fetch(`${hub.url}/console/login`);
    assert.equal(h.headers.get("cache-control"), "no-store");
    assert.match(h.headers.get("content-security-policy"), /default-src 'self'/);
  } finally {
    await ctx.close();
  }
});

test("an auditor reads the ledger, audits a real search audit, downloads the findings; and requests nothing", async () => {
  const auditor = await issueToken(hub, "lapd-oig", "inspector-ng", "auditor");
  // An auditor may not request data through the API either.
  const refused = await fetch(`${hub.url}/v1/requests`, {
    method: "POST",
    headers: { authorization: `Bearer ${auditor}` },
    body: JSON.stringify({
      requester: { id: "inspector-ng", agency: "lapd-oig", role: "auditor" },
      source: "ociac-alpr", action: "lookup", purpose: "criminal_investigation", justification: "x",
      legal_basis: { kind: "none" }, subject: { kind: "plate", value: "7ABC123" },
    }),
  });
  assert.equal(refused.status, 403);
  const ctx = await launch();
  try {
    const page = await ctx.newPage();
    await login(page, auditor);
    assert.equal(await page.getByRole("link", { name: "New request" }).count(), 0, "an auditor requests no data");
    await page.getByRole("link", { name: "Ledger" }).first().click();
    await page.getByRole("heading", { name: "Latest checkpoint" }).waitFor();
    await checkAxe(page, "/console/ledger");
    // The entry browser: entry 0 decoded, with its receipt check.
    await page.getByLabel("Ledger index").fill("0");
    await page.getByRole("button", { name: "Show entry" }).click();
    await page.getByRole("heading", { name: "Entry 0" }).waitFor();
    assert.match(await page.locator("main pre").last().innerText(), /"type"/);
    await page.getByLabel("Ledger index").fill("zero");
    await page.getByRole("button", { name: "Show entry" }).click();
    assert.equal(await page.getByLabel("Ledger index").getAttribute("aria-invalid"), "true");
    // A second visit after more entries checks consistency between the two checkpoints.
    const more = await fetch(`${hub.url}/v1/requests`, { method: "POST", headers: { authorization: `Bearer ${tokens.ramos}` }, body: JSON.stringify({
      requester: { id: "det-ramos", agency: "oc-sheriff", role: "detective" }, source: "ociac-alpr", action: "lookup",
      purpose: "criminal_investigation", justification: "Armed robbery 2024-118", case_number: "OCSD-2024-118",
      legal_basis: { kind: "none" }, subject: { kind: "plate", value: "7ABC123" } }) });
    await covered(hub.url, (await more.json()).ledger.index);
    await page.goto(`${hub.url}/console/ledger`);
    assert.match(await page.locator("main").innerText(), /Consistent: the log of \d+ entries is a prefix/);

    // Audit Eugene's real search audit.
    await page.goto(`${hub.url}/console/audit`);
    await page.getByLabel("Kind of file").selectOption("searches");
    await page.getByLabel("File", { exact: true }).setInputFiles(`${process.cwd()}/../shared/data/flock/eugene-or-search-audit-2025-06.csv`);
    await page.getByRole("button", { name: "Audit" }).click();
    await page.getByRole("heading", { name: /Findings in eugene-or-search-audit/ }).waitFor();
    assert.match(await page.locator("main").innerText(), /records read, \d+ findings/);
    assert.ok((await page.locator("svg[role=img] title").count()) >= 4, "charts with titles");
    // The story of the file: who searched (Eugene's export names users, not organisations) and when.
    for (const caption of ["Searches by month", "Top users by searches", "Top users by findings", "Findings by month of the record"]) {
      await page.getByRole("table", { name: caption }).waitFor();
    }
    const months = await page.getByRole("table", { name: "Findings by month of the record" }).locator("tbody th").allInnerTexts();
    assert.ok(months.length > 0 && months.every((m) => /^\d{4}-\d{2}$/.test(m)), `months: ${months}`);
    await checkAxe(page, "/console/audit with findings");
    await screenshot(page, "console-audit");
    await page.getByRole("link", { name: "Next page" }).first().click();
    assert.match(await page.locator("main").innerText(), /Page 2 of/);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: /as CSV/ }).click()]);
    const csv = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
    assert.equal(csv.split("\n")[0], "kind,severity,rule,citation,record,agency,counterparty,user,time,file,line,also_in,evidence");
    assert.ok(csv.split("\n").length > 10);
    // The evidence report, as `fusionguard audit --out report.html` writes it: one self-contained page.
    const [report] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: /evidence report/ }).click()]);
    const html = await (await import("node:fs/promises")).readFile(await report.path(), "utf8");
    assert.match(html, /^<!DOCTYPE html><html lang="en">/);
    assert.ok(html.includes("eugene-or-search-audit-2025-06.csv") && html.includes("<svg") && !html.includes("<script"));
    // A file that is not what it claims: a clear message, 422, nothing kept.
    await page.getByLabel("Kind of file").selectOption("intelligence");
    await page.getByLabel("File", { exact: true }).setInputFiles({ name: "notes.csv", mimeType: "text/csv", buffer: Buffer.from("hello\nworld\n") });
    const [bad] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/console/audit") && r.request().method() === "POST"),
      page.getByRole("button", { name: "Audit" }).click(),
    ]);
    assert.ok([400, 422].includes(bad.status()), `status ${bad.status()}`);
    assert.match(await page.locator(".errors").innerText(), /notes\.csv/);
  } finally {
    await ctx.close();
  }
});

test("a revoked token ends its console session; an upload over the limit is refused; everything works from the keyboard", async () => {
  const small = await startHub({ args: ["--max-upload-mib", "1"] });
  const ctx = await launch();
  try {
    const token = await issueToken(small, "oc-sheriff", "det-keys", "detective");
    const page = await ctx.newPage();
    // Keyboard only: the skip link is the first stop, then log in by typing and Enter.
    await page.goto(`${small.url}/console/login`);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
    await page.keyboard.press("Enter");
    assert.match(page.url(), /#main$/);
    await page.getByLabel("Access token").focus();
    await page.keyboard.type(token);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${small.url}/console`);
    // The form, filled and sent with the keyboard alone.
    await page.goto(`${small.url}/console/requests/new`);
    await page.getByLabel("Source").focus();
    await page.keyboard.press("Tab"); // Action
    await page.keyboard.press("Tab"); // Purpose
    await page.keyboard.press("Tab"); // Justification
    await page.keyboard.type("Armed robbery 2024-118");
    await page.getByLabel("Kind of subject").focus();
    await page.keyboard.press("ArrowDown"); // plate
    await page.getByLabel("Value", { exact: true }).focus();
    await page.keyboard.type("7ABC123");
    await page.getByRole("button", { name: "Submit request" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Decision" }).waitFor();
    assert.match(await page.locator(".decision").first().innerText(), /Permitted/);

    // The token is revoked: the next page asks to log in again.
    const id = token.split("_")[1];
    await new Promise((res, rej) =>
      execFile(bin(), ["token", "revoke", "--data", small.data, "--id", id], (e) => (e ? rej(e) : res())),
    );
    // Tokens are reloaded every second: the next pages end the session.
    for (let i = 0; i < 60 && !/\/console\/login/.test(page.url()); i++) {
      await new Promise((r) => setTimeout(r, 250));
      await page.goto(`${small.url}/console/requests/new`);
    }
    assert.match(page.url(), /\/console\/login\?expired=1/);
    assert.match(await page.locator("p.notice").innerText(), /session has ended/);

    // An auditor's upload over the hub's limit (1 MiB here): 413, a clear message, nothing kept.
    const auditor = await issueToken(small, "lapd-oig", "inspector-ng", "auditor");
    await login(page, auditor, small.url);
    await page.goto(`${small.url}/console/audit`);
    await page.getByLabel("File", { exact: true }).setInputFiles(`${process.cwd()}/../shared/data/flock/okaloosa-fl-org-audit-2025-11.csv`);
    const [big] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/console/audit") && r.request().method() === "POST"),
      page.getByRole("button", { name: "Audit" }).click(),
    ]);
    assert.equal(big.status(), 413);
    assert.match(await page.locator(".errors").innerText(), /over 1 MiB/);
    assert.equal(await page.getByRole("heading", { name: /Findings in/ }).count(), 0);
  } finally {
    await ctx.close();
    await small.stop();
  }
});
