// Helpers for the browser tests of the hub's server-rendered pages: a demo hub on a free port, bearer
// tokens, a real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, accessibility checks
// with axe-core, and optional screenshots. See README.md in this folder.

import { spawn, execFile } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);

/** The repository root (two folders up from tests/browser). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The seed world's deployment directory, which `demo` serves by default. */
export const CONFIG = join(REPO, "examples/seed-world");

/** The Chromium the tests drive: Debian's package, never a browser downloaded by Playwright. */
export const CHROMIUM = "/usr/bin/chromium";

/** The WCAG levels every page must meet. */
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** The `fusionguard` binary under test: `$FUSIONGUARD_BIN`, else the repository's debug build. */
export function bin() {
  const b = process.env.FUSIONGUARD_BIN || join(REPO, "target/debug/fusionguard");
  if (!existsSync(b)) {
    throw new Error(`no fusionguard binary at ${b}: build it (cargo build -p fusionguard) or set FUSIONGUARD_BIN`);
  }
  return b;
}

const running = new Set();
// A hub must never outlive the test process, whatever way it ends.
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Starts `fusionguard demo` on a free port of 127.0.0.1 with a fresh data directory, and waits until
 * its /healthz answers (`args`: more flags for `demo`). Returns {url, data, config, lines, stop()}: `url` without a trailing slash,
 * `lines` the demo's banner (tokens included), `stop()` sends Ctrl-C (SIGINT), waits for the hub to
 * exit (SIGKILL after 10 s) and removes the data directory.
 */
export async function startHub({ timeoutMs = 30_000, args = [] } = {}) {
  const root = await mkdtemp(join(tmpdir(), "fg-browser-"));
  const data = join(root, "data");
  const child = spawn(bin(), ["demo", "--config", CONFIG, "--data", data, "--listen", "127.0.0.1:0", ...args], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (s) => {
    stderr += s;
  });
  const exited = new Promise((res) => child.once("exit", (code, signal) => res({ code, signal })));

  // The demo prints its banner (the address it listens on, which may differ from --listen, and the
  // tokens), ending with "Press Ctrl-C to stop."; the rest of stdout is drained so it never blocks.
  const lines = [];
  const banner = new Promise((res, rej) => {
    const rl = createInterface({ input: child.stdout });
    let done = false;
    rl.on("line", (line) => {
      if (done) return;
      lines.push(line);
      if (line.startsWith("Press Ctrl-C")) {
        done = true;
        res();
      }
    });
    rl.on("close", () => {
      if (!done) rej(new Error(`demo exited before its banner:\n${lines.join("\n")}\n${stderr}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
    await rm(root, { recursive: true, force: true });
  };
  try {
    await withTimeout(banner, timeoutMs, () => `demo printed no banner in ${timeoutMs} ms:\n${lines.join("\n")}\n${stderr}`);
    const url = lines
      .map((l) => l.match(/^fusionguard hub listening on (http:\/\/\S+)/))
      .find(Boolean)?.[1]
      ?.replace(/\/$/, "");
    if (!url) throw new Error(`no "listening on" line in the demo's banner:\n${lines.join("\n")}`);
    await waitHealthy(url, timeoutMs);
    return { url, data, config: CONFIG, lines, stop, stderr: () => stderr };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitHealthy(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
      last = `${r.status} ${await r.text()}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}/healthz did not answer 200 in ${timeoutMs} ms: ${last}`);
}

function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(message())), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Issues a bearer token for `user` of `agency` with `role` on `hub` (from startHub) with
 * `fusionguard token issue`; the running hub accepts it at once. Returns the token.
 */
export function issueToken(hub, agency, user, role = "analyst") {
  const args = ["token", "issue", "--config", hub.config, "--data", hub.data, "--agency", agency, "--user", user, "--role", role];
  return new Promise((res, rej) => {
    execFile(bin(), args, { cwd: REPO }, (err, stdout, stderr) => {
      if (err) return rej(new Error(`fusionguard ${args.join(" ")} failed: ${err.message}\n${stdout}${stderr}`));
      // The token is printed on the last line of stdout (the description goes to stderr).
      const token = stdout.trim().split("\n").pop().trim();
      if (!token.startsWith("fgt_")) return rej(new Error(`no token in the output of token issue:\n${stdout}${stderr}`));
      res(token);
    });
  });
}

/**
 * A fresh browser context in a headless Chromium of its own; closing the context closes the browser.
 * `bypassCSP: true` is set because the hub's pages send a Content-Security-Policy (`default-src
 * 'none'`/`'self'`) that would block the inline <script> by which checkAxe injects axe-core; the
 * pages' own scripts are still those the hub serves, so this changes nothing else a test sees.
 */
export async function launch({ javaScriptEnabled = true, locale = "en-US", ...options } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  try {
    const context = await browser.newContext({ javaScriptEnabled, locale, bypassCSP: true, ...options });
    const closeContext = context.close.bind(context);
    context.close = async (opts) => {
      try {
        await closeContext(opts);
      } finally {
        await browser.close();
      }
    };
    return context;
  } catch (e) {
    await browser.close();
    throw e;
  }
}

/**
 * Runs axe-core on `page` for WCAG 2.0/2.1 A and AA (AXE_TAGS) and throws, with a readable list of
 * every violation (rule id, impact, help, target selectors), if there is any. Returns the violations
 * (an empty list) otherwise. Needs a context from launch() with JavaScript enabled (bypassCSP lets
 * the script in).
 */
export async function checkAxe(page, label = page.url()) {
  const violations = await axeViolations(page);
  if (violations.length > 0) {
    throw new Error(`axe: ${violations.length} WCAG violation(s) on ${label}:\n${formatViolations(violations)}`);
  }
  return violations;
}

/** The axe-core violations on `page` (WCAG 2.0/2.1 A and AA), as plain objects; never throws on them. */
export async function axeViolations(page) {
  const hasAxe = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!hasAxe) await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      targets: v.nodes.map((n) => n.target.join(" ")),
    }));
  }, AXE_TAGS);
}

/** One line per violation, then one indented line per offending element. */
export function formatViolations(violations) {
  return violations
    .map((v) => `- ${v.id} (${v.impact}): ${v.help} [${v.helpUrl}]\n${v.targets.map((t) => `    at ${t}`).join("\n")}`)
    .join("\n");
}

/**
 * Saves a full-page PNG of `page` as `<name>.png` in the folder `$FG_SCREENSHOTS` (created if
 * needed); does nothing when FG_SCREENSHOTS is unset. Returns the path written, or null.
 */
export async function screenshot(page, name) {
  const dir = process.env.FG_SCREENSHOTS;
  if (!dir) return null;
  await mkdir(dir, { recursive: true });
  const path = join(resolve(dir), `${name.replace(/[^A-Za-z0-9._-]+/g, "-")}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
