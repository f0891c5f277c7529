// The public transparency report (/transparency) in a real Chromium: structure, WCAG 2.1 AA with
// axe-core, with and without JavaScript; and an unknown path in the browser. One demo hub for the file.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHub, launch, checkAxe, screenshot } from "./lib.mjs";

let hub;
let browser; // a context with JavaScript enabled

before(async () => {
  hub = await startHub();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

async function open(context, path) {
  const page = await context.newPage();
  const response = await page.goto(`${hub.url}${path}`);
  return { page, response };
}

test("/transparency is an HTML page with a language and one top-level heading", async () => {
  const { page, response } = await open(browser, "/transparency");
  try {
    assert.equal(response.status(), 200);
    assert.match(response.headers()["content-type"], /^text\/html/);
    const lang = await page.locator("html").getAttribute("lang");
    assert.ok(lang && lang.trim().length > 0, `<html> has no lang attribute (got ${JSON.stringify(lang)})`);
    const h1 = page.locator("h1");
    assert.equal(await h1.count(), 1, "expected exactly one <h1>");
    assert.match(await h1.innerText(), /transparency report/i);
    assert.ok((await page.title()).trim().length > 0, "the page has no <title>");
    await screenshot(page, "transparency");
  } finally {
    await page.close();
  }
});

test("/transparency meets WCAG 2.1 A and AA (axe-core)", async () => {
  const { page, response } = await open(browser, "/transparency");
  try {
    assert.equal(response.status(), 200);
    await checkAxe(page, "/transparency");
  } finally {
    await page.close();
  }
});

test("/transparency loads and reads the same with JavaScript disabled", async () => {
  const noJs = await launch({ javaScriptEnabled: false });
  try {
    const { page, response } = await open(noJs, "/transparency");
    assert.equal(response.status(), 200);
    assert.match(await page.locator("h1").innerText(), /transparency report/i);
    // The report's numbers are in the HTML itself, not filled in by a script.
    assert.ok((await page.locator("table").count()) > 0, "no table without JavaScript");
    await screenshot(page, "transparency-no-js");
  } finally {
    await noJs.close();
  }
});

test("an unknown path answers 404 (a problem document or a page) and the hub keeps serving", async () => {
  const { page, response } = await open(browser, "/no-such-page");
  try {
    assert.equal(response.status(), 404);
    const type = response.headers()["content-type"] ?? "";
    if (type.startsWith("application/problem+json")) {
      const problem = await response.json();
      assert.equal(problem.status, 404);
      assert.ok(problem.title, "the problem has no title");
    } else {
      assert.match(type, /^text\/html/, `unexpected content type ${type}`);
      assert.ok((await page.locator("h1").count()) > 0, "the 404 page has no <h1>");
    }
    const health = await fetch(`${hub.url}/healthz`);
    assert.equal(health.status, 200, "the hub stopped answering after a 404");
  } finally {
    await page.close();
  }
});
