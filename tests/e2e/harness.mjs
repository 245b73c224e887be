// Shared e2e harness: the sandbox CRM (real HTTPS server) + Debian Chromium with the real
// extension loaded. Real host names resolve to the sandbox; the shipped manifest is untouched.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { undocumented } from './documented-endpoints.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const EXTENSION_DIR = join(ROOT, 'extension');
export const VERSION = /^version = "(.*)"/m.exec(readFileSync(join(ROOT, 'Cargo.toml'), 'utf8'))[1];

/** Start crm-sandbox on a free loopback port. Resolves once it prints its address.
 *  `stop()` fails when any CRM call in the sandbox's request log is not a documented
 *  endpoint (tests/e2e/documented-endpoints.mjs); `probes(r)` marks the calls a test makes
 *  on purpose to see the sandbox refuse them. */
export async function startSandbox({ seed, dataDir, probes = () => false } = {}) {
  const bin = process.env.CRMSYNC_SANDBOX_BIN || join(ROOT, 'target/debug/crm-sandbox');
  const dir = dataDir || mkdtempSync(join(tmpdir(), 'crmsync-sandbox-'));
  const args = ['--listen', '127.0.0.1:0', '--data', dir, '--www', join(ROOT, 'www')];
  if (seed) args.push('--seed', seed);
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`sandbox did not start: ${stderr}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on https:\/\/[\d.]+:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); ok(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`sandbox exited ${code}: ${stderr}`)); });
  });
  const sandbox = {
    port, dir, proc,
    /** GET/POST a sandbox URL from Node (TLS is self-signed). */
    async fetch(host, path, init = {}) {
      const { request } = await import('node:https');
      return new Promise((ok, fail) => {
        const req = request({ host: '127.0.0.1', port, path, method: init.method || 'GET', servername: host,
          headers: { host, ...(init.headers || {}) }, rejectUnauthorized: false }, (res) => {
          let body = '';
          res.on('data', (d) => { body += d; });
          res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body }));
        });
        req.on('error', fail);
        if (init.body) req.write(init.body);
        req.end();
      });
    },
    async ledger() {
      const r = await sandbox.fetch('www.zohoapis.com', '/__sandbox/ledger');
      return JSON.parse(r.body);
    },
    /** Arm sandbox faults (see tests/crm-sandbox/README.md); `clearFaults` removes them. */
    async faults(list) {
      const r = await sandbox.fetch('www.zohoapis.com', '/__sandbox/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ faults: list }) });
      if (r.status >= 300) throw new Error(`faults: ${r.status} ${r.body}`);
    },
    async clearFaults() {
      await sandbox.fetch('www.zohoapis.com', '/__sandbox/faults', { method: 'DELETE' });
    },
    async stop() {
      let unexpected = [];
      if (proc.exitCode === null) {
        try {
          unexpected = undocumented((await sandbox.ledger()).requests).filter((r) => !probes(r));
        } catch (e) {
          unexpected = [{ error: String(e) }];
        }
      }
      proc.kill('SIGTERM');
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
      if (unexpected.length) {
        const list = unexpected.slice(0, 20).map((r) => r.error || `${r.method} https://${r.host}${r.path} -> ${r.status}`).join('\n  ');
        throw new Error(`CRM calls no documented endpoint covers (tests/e2e/documented-endpoints.mjs):\n  ${list}`);
      }
    },
  };
  return sandbox;
}

/** The sandbox's demo credentials (tests/crm-sandbox/README.md), as the options page sends them. */
export const CREDS = [
  { crm: 'zoho', dc: 'Us', client_id: '1000.SANDBOXCLIENT', client_secret: 'sandbox-secret', refresh_token: '1000.sandbox.refresh' },
  { crm: 'salesforce', login_host: 'login.salesforce.com', client_id: 'sandbox-consumer-key', client_secret: 'sandbox-consumer-secret', refresh_token: 'sandbox-sf-refresh' },
  { crm: 'leadsquared', access_key: 'u$sandbox-access', secret_key: 'sandbox-secret-key' },
];

/** Hosts the browser resolves to the sandbox. Everything else fails to resolve. */
export function hostRules(port) {
  const hosts = ['web.whatsapp.com', '*.zohoapis.com', '*.zohoapis.eu', '*.zohoapis.in', '*.zohoapis.com.au',
    '*.zohoapis.jp', '*.zohoapis.ca', '*.zohoapis.sa', '*.zohoapis.uk', '*.zohoapis.com.cn',
    'accounts.zoho.com', 'accounts.zoho.eu', 'accounts.zoho.in', 'accounts.zoho.com.au', 'accounts.zoho.jp',
    'accounts.zohocloud.ca', 'accounts.zoho.sa', 'accounts.zoho.uk', 'accounts.zoho.com.cn',
    'crm.zoho.com', 'crm.zoho.eu', 'crm.zoho.in', 'crm.zoho.com.au', 'crm.zoho.jp', 'crm.zohocloud.ca',
    'crm.zoho.sa', 'crm.zoho.uk', 'crm.zoho.com.cn',
    '*.salesforce.com', '*.force.com', '*.leadsquared.com',
    // A foreign host (RFC 2606 name) the attack tests offer as a CRM host: resolved to the
    // sandbox, so a request that reached it would show in the ledger instead of failing.
    'attacker.example', '*.attacker.example'];
  return [...hosts.map((h) => `MAP ${h} 127.0.0.1:${port}`), 'MAP * ~NOTFOUND'].join(', ');
}

/** Launch Chromium with the built extension. Returns {ctx, sw, extensionId, firstRun, close}.
 *  A fresh install opens the options page (the first run); it is closed unless `firstRun`
 *  is asked for, then returned as `firstRun`. The UI language (chrome.i18n, Intl) is the test's
 *  choice (`lang`, en-US by default; `locale` is its older name), never the machine's. */
export async function launch(sandbox, { headless = true, extraArgs = [], firstRun = false, locale, lang = locale || 'en-US', extension = true } = {}) {
  const userDir = mkdtempSync(join(tmpdir(), 'crmsync-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CRMSYNC_CHROMIUM || '/usr/bin/chromium',
    headless,
    ignoreHTTPSErrors: true,
    ignoreDefaultArgs: ['--disable-extensions'],
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // extension: false is the same browser without crmsync (a benchmark's baseline).
      ...(extension ? [`--load-extension=${EXTENSION_DIR}`, `--disable-extensions-except=${EXTENSION_DIR}`] : []),
      `--host-resolver-rules=${hostRules(sandbox.port)}`, '--ignore-certificate-errors',
      // The UI language (chrome.i18n, Intl) is the test's choice, never the machine's.
      `--lang=${lang}`, ...extraArgs],
    locale: lang,
  });
  if (!extension) {
    return { ctx, async close() { await ctx.close(); rmSync(userDir, { recursive: true, force: true }); } };
  }
  let sw = ctx.serviceWorkers()[0];
  if (!sw) sw = await ctx.waitForEvent('serviceworker', { timeout: 20000 });
  const extensionId = new URL(sw.url()).host;
  const installPage = await until(() => ctx.pages().find((p) => p.url().includes(`${extensionId}/options.html`)), { what: 'the options page opened on install', timeout: 20000 }).catch(() => null);
  // Closed only once it has rendered: closing an extension page while its first
  // chrome.i18n.getMessage call is in flight leaves the renderer's message map empty for every
  // extension page and the worker (seen as raw keys such as `crmNotConnected`).
  if (installPage && !firstRun) {
    await installPage.waitForSelector('#crm-zoho', { timeout: 20000 }).catch(() => {});
    await installPage.close();
  }
  return {
    ctx, sw, extensionId, firstRun: firstRun ? installPage : null,
    /** The current service worker (a new object after the worker restarted). */
    async worker() {
      const live = ctx.serviceWorkers().find((w) => w.url().includes(extensionId));
      return live || ctx.waitForEvent('serviceworker', { timeout: 20000 });
    },
    async close() {
      await ctx.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** A browser with the extension and the three sandbox CRMs connected through the worker, as
 *  the options page connects them: {browser, ext (an extension page), send (a runtime message)}. */
export async function launchConnected(sandbox, opts) {
  const browser = await launch(sandbox, opts);
  const ext = await browser.ctx.newPage();
  await ext.goto(`chrome-extension://${browser.extensionId}/popup.html`);
  const send = (m) => ext.evaluate((x) => chrome.runtime.sendMessage(x), m);
  for (const credentials of CREDS) {
    const r = await send({ kind: 'connect', credentials });
    if (!r.ok) throw new Error(`connecting ${credentials.crm}: ${r.error}`);
  }
  return { browser, ext, send };
}

/** Evaluate an expression inside the extension's content-script world of `page`'s main frame. */
export async function contentEval(ctx, page, expression) {
  const cdp = await ctx.newCDPSession(page);
  const contexts = new Map();
  cdp.on('Runtime.executionContextCreated', (e) => contexts.set(e.context.id, e.context));
  cdp.on('Runtime.executionContextDestroyed', (e) => contexts.delete(e.executionContextId));
  await cdp.send('Runtime.enable');
  const mainFrame = page.mainFrame();
  // The current main frame's world only: Runtime.enable may also report a world of the
  // document the page just left (another frame id), destroyed a moment later.
  const { frameTree } = await cdp.send('Page.getFrameTree');
  const world = [...contexts.values()].find((c) => c.auxData && c.auxData.type === 'isolated'
    && c.auxData.frameId === frameTree.frame.id && /crmsync/.test(c.name));
  if (!world) {
    await cdp.detach();
    throw new Error(`no content-script world in ${mainFrame.url()} (${[...contexts.values()].map((c) => c.name).join(', ')})`);
  }
  const r = await cdp.send('Runtime.evaluate', { expression, contextId: world.id, returnByValue: true, awaitPromise: true });
  await cdp.detach();
  if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description || r.exceptionDetails.text);
  return r.result.value;
}

/** Stop every service worker (as Chrome does when idle), through CDP; resolves once
 *  Chrome reports the extension's worker as stopped. */
export async function stopServiceWorkers(ctx, page, extensionId) {
  const cdp = await ctx.newCDPSession(page);
  const status = new Map();
  const regs = new Map();
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => e.registrations.forEach((r) => regs.set(r.registrationId, r.scopeURL)));
  cdp.on('ServiceWorker.workerVersionUpdated', (e) => e.versions.forEach((v) => status.set(v.registrationId, v.runningStatus)));
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  const ours = () => [...regs].filter(([, scope]) => scope.includes(extensionId)).map(([id]) => status.get(id));
  // A stop asked for while the worker was starting an event can leave it "stopping" with
  // Chrome waiting on that event (seen once in a full run, never alone): ask again every 10 s.
  let asked = Date.now();
  await until(async () => {
    if (ours().length > 0 && ours().every((s) => s === 'stopped')) return true;
    if (Date.now() - asked > 10000) {
      asked = Date.now();
      await cdp.send('ServiceWorker.stopAllWorkers');
    }
    return false;
  }, { what: `worker stopped (${JSON.stringify([...status])})`, timeout: 45000 });
  await cdp.detach();
}

/** Poll `fn` until it returns a truthy value or the timeout passes. */
export async function until(fn, { timeout = 15000, interval = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

/** The CRM's consent page that sign-in (chrome.identity.launchWebAuthFlow) opens in its own
 *  window, as Zoho's "Accept" and Salesforce's "Allow Access?" pages do (the sandbox serves
 *  them, tests/crm-sandbox/src/pages.rs): waits for it and clicks Accept/Allow (or Reject/Deny
 *  with `decision: 'deny'`), the click the rep makes in the CRM's window. Returns that page. */
export async function answerConsent(ctx, { decision = 'accept', timeout = 20000 } = {}) {
  const page = await until(async () => {
    for (const p of ctx.pages()) {
      if (!p.isClosed() && await p.$('#crm-consent').catch(() => null)) return p;
    }
    return null;
  }, { what: 'the CRM\'s consent page', timeout });
  // The answer redirects to https://<id>.chromiumapp.org/, where Chrome closes the window.
  await page.click(`#crm-consent [data-decision="${decision}"]`).catch((e) => {
    if (!page.isClosed() && !/closed/i.test(e.message)) throw e;
  });
  return page;
}

/** The panel frame inside a WhatsApp page. */
export async function panelFrame(page) {
  await page.waitForSelector('iframe#crmsync-panel', { timeout: 15000 });
  return until(() => page.frames().find((f) => f.url().includes('/panel.html')), { what: 'panel frame' });
}
