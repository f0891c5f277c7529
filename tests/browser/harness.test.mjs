// The test harness itself (lib.mjs): axe-core really reports violations, tokens issued on the side work
// in the running hub, and the hub stops when asked.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHub, issueToken, launch, checkAxe, axeViolations } from "./lib.mjs";

let hub;
let browser;

before(async () => {
  hub = await startHub();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

test("checkAxe fails on an inaccessible page and names the rule and the element", async () => {
  const page = await browser.newPage();
  try {
    await page.setContent('<!DOCTYPE html><html><head><title>x</title></head><body><main><img src="data:," id="pic"></main></body></html>');
    const ids = (await axeViolations(page)).map((v) => v.id);
    assert.ok(ids.includes("html-has-lang") && ids.includes("image-alt"), `axe found ${ids}`);
    await assert.rejects(checkAxe(page, "bad page"), (e) => /image-alt \((critical|serious)\)/.test(e.message) && /#pic/.test(e.message));
  } finally {
    await page.close();
  }
});

test("a token from issueToken is accepted by the running hub", async () => {
  const token = await issueToken(hub, "lapd", "sgt-browser", "supervisor");
  const ok = await fetch(`${hub.url}/v1/reviews`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200, await ok.text());
  const anon = await fetch(`${hub.url}/v1/reviews`);
  assert.equal(anon.status, 401);
});

test("stop() ends the hub", async () => {
  const other = await startHub();
  await other.stop();
  await assert.rejects(fetch(`${other.url}/healthz`));
});
