// The page and the content script are untrusted: each attack a review ran against the built
// extension, replayed. WhatsApp Web's own scripts (here: page.evaluate in the page world) can
// post messages to any frame, make frames of the web-accessible panel page, rewrite the DOM
// and choose the bytes of blob: URLs; the content script runs in the page's renderer, so what
// it may ask the worker is kept to what capture needs (here: contentEval in its world).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, contentEval, panelFrame, stopServiceWorkers, until, CREDS } from './harness.mjs';

let sandbox, browser, ext, wa, frame;
const ANA = 'pn:+5511987654321';

before(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  browser = await launch(sandbox);
  ext = await browser.ctx.newPage();
  await ext.goto(`chrome-extension://${browser.extensionId}/popup.html`);
  for (const c of CREDS) assert.equal((await send({ kind: 'connect', credentials: c })).ok, true);
  wa = await browser.ctx.newPage();
  await wa.goto('https://web.whatsapp.com/?chat=ana');
  await wa.evaluate(() => window.fakeWAReady);
  frame = await panelFrame(wa);
  await until(async () => (await frame.textContent('#card-name').catch(() => '')) === 'Ana Souza', { what: "Ana's card", timeout: 30000 });
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const send = (msg) => ext.evaluate((m) => chrome.runtime.sendMessage(m), msg);
const fromContent = (msg) => contentEval(browser.ctx, wa, `chrome.runtime.sendMessage(${JSON.stringify(msg)}).catch((e) => ({ ok: false, error: String(e) }))`);
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
/** The worker's stored files (keys), read from its own database. */
const fileKeys = () => ext.evaluate(async () => {
  const db = await new Promise((ok, fail) => { const r = indexedDB.open('crmsync'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const keys = await new Promise((ok) => { const r = db.transaction('files').objectStore('files').getAllKeys(); r.onsuccess = () => ok(r.result); r.onerror = () => ok([]); });
  db.close();
  return keys;
});
/** A frame of the panel page made by the page itself, nearly transparent, over WhatsApp. */
async function pageMadeFrame(hash) {
  const n = wa.frames().length;
  await wa.evaluate(({ id, hash }) => {
    const f = document.createElement('iframe');
    f.id = 'decoy-' + Math.random();
    f.src = `chrome-extension://${id}/panel.html#${hash}`;
    f.style.cssText = 'position:fixed;left:0;top:0;width:320px;height:600px;opacity:0.01;z-index:99999;border:0';
    document.body.appendChild(f);
  }, { id: browser.extensionId, hash });
  const f = await until(() => wa.frames().length > n && wa.frames()[wa.frames().length - 1], { what: 'page-made frame' });
  await f.waitForSelector('#state[data-view]');
  return f;
}

test('1. the page cannot steer the panel with postMessage', async () => {
  await wa.evaluate(() => {
    const w = document.getElementById('crmsync-panel').contentWindow;
    // The old chat message, and a forged nonce.
    w.postMessage({ crmsync: 'chat', hash: 'chat=pn%3A%2B14155552671&name=Liam' }, '*');
    w.postMessage({ crmsync: 'nonce', nonce: 'f'.repeat(64) }, '*');
  });
  await pause(1500);
  assert.equal(await frame.textContent('#card-name'), 'Ana Souza');
  assert.equal(await frame.getAttribute('#state', 'data-view'), 'linked');
});

test('2. a panel frame the page made gets nothing, and cannot start the backfill', async () => {
  const decoy = await pageMadeFrame('chat=pn%3A%2B5511987654321&theme=light');
  assert.equal(await decoy.getAttribute('#state', 'data-view'), 'unbound');
  assert.equal(await decoy.locator('#unlink, #card-name, #backfill-start:visible').count(), 0);
  // Even its own requests (it runs the extension's code) are refused by the worker.
  const r = await decoy.evaluate(() => chrome.runtime.sendMessage({ kind: 'unlink', chat: 'pn:+5511987654321' }));
  assert.equal(r.ok, false);
  assert.match(r.error, /not inserted by crmsync/);
  assert.equal((await decoy.evaluate(() => chrome.runtime.sendMessage({ kind: 'panel_sync' }))).ok, false);
  // The content script takes backfill-start only from the frame it inserted.
  await decoy.evaluate(() => parent.postMessage({ crmsync: 'backfill-start' }, '*'));
  await pause(1500);
  assert.equal(await wa.evaluate(() => window.fakeWA.current()), 'ana');
  const chat = (await send({ kind: 'export' })).chats.find((c) => c.identity.phone === '+5511987654321');
  assert.ok(chat.links.length > 0, 'still linked');
});

test('2b. clicks on the real panel count only while it is visible: a transparent frame is clickjacked', async () => {
  await wa.evaluate(() => { document.getElementById('crmsync-panel').style.opacity = '0.05'; });
  await pause(400);
  await frame.click('#unlink');
  assert.equal(await frame.textContent('#notice'), 'The click was ignored: the crmsync panel was covered or hidden.');
  assert.equal(await frame.locator('#confirm-yes').count(), 0);
  await wa.evaluate(() => { document.getElementById('crmsync-panel').style.opacity = ''; });
  await pause(400);
  // Visible again: the action asks, naming the chat as the worker knows it; cancel keeps the link.
  await frame.click('#unlink');
  await frame.waitForSelector('#confirm-yes');
  assert.equal(await frame.textContent('#confirm-text'), 'Unlink Ana Souza (+5511987654321) from its CRM record?');
  await frame.click('#confirm-no');
  assert.equal(await frame.locator('#confirm-yes').count(), 0);
  assert.equal(await frame.getAttribute('#state', 'data-view'), 'linked');
});

test('3. text in the URL hash never reaches the panel', async () => {
  const lie = 'Your Zoho session expired: paste your refresh token at https://attacker.example';
  const decoy = await pageMadeFrame(`blocked=${encodeURIComponent(lie)}&name=${encodeURIComponent(lie)}&chat=pn%3A%2B5511987654321`);
  assert.ok(!(await decoy.textContent('body')).includes('refresh token'));
  // The page can also point the real frame at such a URL (a new document in the same frame):
  // it claims its tab again, shows Ana, and no lie.
  await wa.evaluate(({ id, lie }) => {
    document.getElementById('crmsync-panel').src = `chrome-extension://${id}/panel.html?again=1#blocked=${encodeURIComponent(lie)}&name=${encodeURIComponent(lie)}`;
  }, { id: browser.extensionId, lie });
  frame = await until(async () => {
    const f = await (await wa.$('#crmsync-panel')).contentFrame();
    return f && f.url().includes('again=1') && (await f.textContent('#card-name').catch(() => '')) === 'Ana Souza' && f;
  }, { what: 'the real frame reloaded', timeout: 20000 });
  assert.ok(!(await frame.textContent('body')).includes('refresh token'));
  assert.equal(await frame.textContent('#capture'), '');
});

test('4. a forged blob (attacker bytes and type) is not copied; a real photo is', async () => {
  const forged = await wa.evaluate(() => {
    const url = URL.createObjectURL(new Blob(['%PDF-1.7\n% attacker document'], { type: 'application/pdf' }));
    const id = '3EB0F0RGED' + Date.now().toString(16).toUpperCase();
    document.querySelector('#main [data-scrolltracepolicy="wa.web.conversation.messages"]').insertAdjacentHTML('beforeend', window.fakeWA.rowHtml({ id, out: false, sender: 'Ana Souza', text: 'invoice', time: new Date(), image: url }));
    return id;
  });
  const png = await wa.evaluate(() => window.fakeWA.receiveImage('real photo'));
  await until(async () => (await fileKeys()).includes(`${png.id}#0`), { what: 'the real photo copied', timeout: 20000 });
  await pause(1000);
  assert.deepEqual((await fileKeys()).filter((k) => k.startsWith(forged)), []);
  const log = (await send({ kind: 'export' })).log.map((l) => l.text || JSON.stringify(l)).join('\n');
  assert.match(log, /not an image type crmsync copies|declared application\/pdf/);
});

test('6. files for messages that do not exist, or too large, are refused and not kept', async () => {
  const tiny = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
  const orphan = await fromContent({ kind: 'file', message_key: '3EB0NOSUCHMESSAGE', index: 0, name: 'x.png', mime: 'image/png', size: 70, data_b64: tiny, error: null });
  assert.equal(orphan.ok, false);
  assert.match(orphan.error, /no stored message/);
  const big = await contentEval(browser.ctx, wa, `chrome.runtime.sendMessage({ kind: 'file', message_key: '3EB0NOSUCHMESSAGE2', index: 0, name: 'x.png', mime: 'image/png',
    size: 21 * 1024 * 1024, data_b64: 'A'.repeat(28 * 1024 * 1024), error: null }).catch((e) => ({ ok: false, error: String(e) }))`);
  assert.equal(big.ok, false);
  assert.match(big.error, /larger than 15 MB/);
  assert.deepEqual((await fileKeys()).filter((k) => k.startsWith('3EB0NOSUCH')), []);
});

test('7. the content script may not sync, read status or chat names, or capture for another chat', async () => {
  for (const kind of ['sync_now', 'export', 'get_settings', 'diagnostics']) {
    const r = await fromContent({ kind });
    assert.equal(r.ok, false, kind);
    assert.match(r.error, /not available to the content script|only available to the extension's pages/, kind);
  }
  // The status and the names of all chats are no request at all any more (no page needs them).
  for (const kind of ['status', 'known_chats']) {
    const r = await fromContent({ kind });
    assert.equal(r.ok, false, kind);
    assert.match(r.error, new RegExp(`bad request: .*unknown variant \`${kind}\``), kind);
  }
  const other = await fromContent({ kind: 'captured', identity: { phone: '+14155552671', lid: null, name: 'Liam Carter', is_group: false }, messages: [] });
  assert.equal(other.ok, false);
  assert.match(other.error, /chat open in the tab only/);
  const msg = (i) => ({ key: `3EB0CAP${i}`, chat: ANA, direction: 'in', sender: { name: 'Ana', phone: null }, time: null, text: 'x', quoted: null, media: [], kind: { type: 'text' } });
  const many = await fromContent({ kind: 'captured', identity: { phone: '+5511987654321', lid: null, name: 'Ana Souza', is_group: false }, messages: Array.from({ length: 201 }, (_, i) => msg(i)) });
  assert.equal(many.ok, false);
  assert.match(many.error, /more than 200 messages/);
  // What capture needs still works.
  assert.equal((await fromContent({ kind: 'unknown_chats', titles: ['Ana Souza', 'Nobody Yet'] })).join(), 'Nobody Yet');
});

test('no sender gets another chat\'s view or acts on it: the panel gets its own tab\'s chat only', async () => {
  const LIAM = 'pn:+14155552671';
  // The old any-chat view request is gone: refused from every sender, the extension's pages too.
  const asked = { kind: 'panel_view', chat: LIAM, name: 'Liam Carter' };
  const decoy = await pageMadeFrame(`chat=${encodeURIComponent(LIAM)}`);
  const answers = {
    content: await fromContent(asked),
    decoy: await decoy.evaluate((m) => chrome.runtime.sendMessage(m), asked),
    panel: await frame.evaluate((m) => chrome.runtime.sendMessage(m), asked),
    popup: await send(asked),
  };
  for (const [who, r] of Object.entries(answers)) {
    assert.equal(r.ok, false, who);
    assert.match(r.error, /bad request: .*unknown variant `panel_view`/, who);
  }
  // An action naming another chat is refused to the real panel and to the extension's pages.
  const other = { kind: 'exclude_chat', chat: LIAM, excluded: true };
  const p = await frame.evaluate((m) => chrome.runtime.sendMessage(m), other);
  assert.equal(p.ok, false);
  assert.match(p.error, /names another chat/);
  const e = await send(other);
  assert.equal(e.ok, false);
  assert.match(e.error, /for the panel frame only/);
  // What the real panel gets is its own tab's chat, as the worker knows it.
  const synced = await frame.evaluate(() => chrome.runtime.sendMessage({ kind: 'panel_sync' }));
  assert.equal(synced.chat_key, ANA);
  assert.equal(synced.state.card?.name, 'Ana Souza', JSON.stringify(synced.state));
  const liam = (await send({ kind: 'export' })).chats.find((c) => c.identity.phone === '+14155552671');
  assert.ok(!liam || !liam.excluded, 'Liam was not excluded');
  await wa.evaluate(() => document.querySelectorAll('iframe[id^="decoy-"]').forEach((f) => f.remove()));
});

test('8. hosts are checked on parsed URLs: phished login hosts never get the secret', async () => {
  const before = (await sandbox.ledger()).requests.length;
  for (const login_host of ['login.salesforce.com.attacker.example', 'attacker.example/.my.salesforce.com', 'https://user@login.salesforce.com', 'evil.force.com']) {
    const r = await send({ kind: 'connect', credentials: { ...CREDS[1], login_host } });
    assert.equal(r.ok, false, login_host);
    assert.match(r.error, /not a Salesforce login host|user name or password|without a path/, login_host);
  }
  assert.equal((await sandbox.ledger()).requests.length, before, 'no request was sent');
});

test('8. hosts the CRMs\' answers name are checked too: a foreign API host never gets a token or the keys', async () => {
  // The sandbox's sign-in answers name the host the client calls next (config, test only);
  // attacker.example resolves to the sandbox, so any request that went there is in the ledger.
  const config = async (c) => {
    const r = await sandbox.fetch('www.zohoapis.com', '/__sandbox/config', { method: 'POST', body: JSON.stringify(c) });
    assert.equal(r.status, 200, r.body);
  };
  const cases = [
    ['zoho_api_domain', 'https://www.zohoapis.com.attacker.example', CREDS[0], /unexpected API host: www\.zohoapis\.com\.attacker\.example is not a Zoho CRM API host/],
    // Another CRM's host passes the worker's every-request allow-list: only this check stops it.
    ['zoho_api_domain', 'https://api-us11.leadsquared.com', CREDS[0], /unexpected API host: api-us11\.leadsquared\.com is not a Zoho CRM API host/],
    ['salesforce_instance_url', 'https://crmsync-dev.my.salesforce.com.attacker.example', CREDS[1], /unexpected API host: crmsync-dev\.my\.salesforce\.com\.attacker\.example is not a Salesforce instance host/],
    ['salesforce_instance_url', 'https://www.zohoapis.eu', CREDS[1], /unexpected API host: www\.zohoapis\.eu is not a Salesforce instance host/],
    ['lsq_api_host', 'x.leadsquared.com.attacker.example', CREDS[2], /unexpected region host: x\.leadsquared\.com\.attacker\.example is not a LeadSquared host/],
    ['lsq_api_host', 'attacker.example/.leadsquared.com', CREDS[2], /unexpected region host: a host name only, without a path/],
    ['lsq_api_host', 'www.zohoapis.com.cn', CREDS[2], /unexpected region host: www\.zohoapis\.com\.cn is not a LeadSquared host/],
  ];
  try {
    for (const [key, host, credentials, reason] of cases) {
      await config({ [key]: host });
      const before = (await sandbox.ledger()).requests.length;
      const r = await send({ kind: 'connect', credentials });
      assert.equal(r.ok, false, `${key} ${host}`);
      assert.match(r.error, reason, `${key} ${host}`);
      const offered = new URL(host.includes('://') ? host : `https://${host}`).hostname;
      const after = (await sandbox.ledger()).requests.slice(before);
      assert.ok(after.some((q) => q.path.includes('/token') || q.path.includes('UserByAccessKey')), `the sign-in answer was asked for: ${JSON.stringify(after)}`);
      assert.deepEqual(after.filter((q) => q.host === offered || q.host.endsWith('attacker.example')), [], `nothing sent to ${offered}`);
      await config({ [key]: null });
    }
  } finally {
    await config({ zoho_api_domain: null, salesforce_instance_url: null, lsq_api_host: null });
  }
  // The working connections were left alone.
  assert.deepEqual((await send({ kind: 'diagnostics' })).connected.sort(), ['leadsquared', 'salesforce', 'zoho']);
});

test('5. quota drain: 20 rewritten headers cause a bounded number of CRM lookups', async (t) => {
  await wa.evaluate(() => window.fakeWA.open('unknown'));
  await pause(3000);
  const count = async () => (await sandbox.ledger()).requests.length;
  const start = await count();
  await wa.evaluate(async () => {
    for (let i = 0; i < 20; i++) {
      const t = `+1 415 555 ${String(1000 + i)}`;
      document.querySelector('#main header').outerHTML = `<header data-testid="conversation-header"><span data-icon="default-user"></span><div data-testid="conversation-info-header-chat-title"><span dir="auto" title="${t}">${t}</span></div></header>`;
      // Long enough for capture to report each header (a header replaced while capture is
      // still telling the worker about it is skipped: its chat was never really open).
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  // Let every lookup that was admitted finish.
  let last = -1;
  await until(async () => { const n = await count(); const stable = n === last; last = n; return stable; }, { what: 'lookups settled', timeout: 60000, interval: 2500 });
  const calls = (await sandbox.ledger()).requests.slice(start);
  // The chats the worker looked up (a decision stored) among the 20 the page made up.
  const made = (await send({ kind: 'export' })).chats.filter((c) => /^\+14155551\d{3}$/.test(c.identity.phone || ''));
  const searched = made.filter((c) => c.matched);
  t.diagnostic(`${calls.length} CRM calls; ${made.length} chats reported, ${searched.length} looked up`);
  // Before: every header was looked up in every CRM (219 calls here, 394 in the review).
  assert.ok(calls.length <= 120, `${calls.length} CRM calls`);
  assert.ok(made.length >= 10, `${made.length} rewritten headers reached the worker`);
  assert.ok(searched.length <= 5, `${searched.length} numbers looked up`);
});

test('what the worker keeps per tab goes when the tab closes, or at its next start when it closed unseen', async () => {
  const tabKeys = () => ext.evaluate(async () => {
    const db = await new Promise((ok, fail) => { const r = indexedDB.open('crmsync'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const keys = await new Promise((ok, fail) => { const r = db.transaction('meta').objectStore('meta').getAllKeys(); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    db.close();
    return keys.filter((k) => /^(panel|tabchat):/.test(k));
  });
  const first = await tabKeys();
  assert.equal(first.length, 2, `the open WhatsApp tab's panel binding and chat: ${first}`);
  const second = await browser.ctx.newPage();
  await second.goto('https://web.whatsapp.com/?chat=ana');
  await second.evaluate(() => window.fakeWAReady);
  await panelFrame(second);
  const added = await until(async () => { const k = (await tabKeys()).filter((x) => !first.includes(x)); return k.length === 2 && k; }, { what: "the second tab's records" });
  await second.close();
  await until(async () => (await tabKeys()).every((k) => !added.includes(k)), { what: 'records of the closed tab deleted' });
  // A tab that closed while no worker listened (the browser quit): its records are left over,
  // and tab ids start again after a restart. The worker's next start deletes them.
  await ext.evaluate(async () => {
    const db = await new Promise((ok, fail) => { const r = indexedDB.open('crmsync'); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const tx = db.transaction('meta', 'readwrite');
    tx.objectStore('meta').put(JSON.stringify({ nonce: 'left-over', frame: 7 }), 'panel:2147480000');
    tx.objectStore('meta').put(JSON.stringify({ chat: null, previous_chat: null, theme: null }), 'tabchat:2147480000');
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onerror = () => fail(tx.error); });
    db.close();
  });
  assert.equal((await tabKeys()).length, 4);
  await stopServiceWorkers(browser.ctx, ext, browser.extensionId);
  assert.equal((await send({ kind: 'diagnostics' })).ok !== false, true, 'the worker answers after its start');
  assert.deepEqual((await tabKeys()).sort(), [...first].sort(), 'only the open tab keeps records');
  // The open tab's panel is still served: its binding was kept.
  const synced = await frame.evaluate(() => chrome.runtime.sendMessage({ kind: 'panel_sync' }));
  assert.notEqual(synced.ok, false, JSON.stringify(synced));
  assert.ok(synced.state, JSON.stringify(synced));
});
