// The backup window and chat switches, end to end with the three sandbox CRMs connected:
// messages from before the window are never "waiting" (the panel says how many and from
// which days, and backs them up only when the rep chooses it), the window length is a
// setting, and a message typed just before a chat switch still reaches the CRM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, launch, panelFrame, contentEval, until, CREDS } from './harness.mjs';

let sandbox, browser, ext;
const ANA = '5843104000000624001';
const LIAM = '003RO0000035WQgYAM';

before(async () => {
  sandbox = await startSandbox({ seed: 'demo-chat-object' });
  browser = await launch(sandbox);
  ext = await browser.ctx.newPage();
  await ext.goto(`chrome-extension://${browser.extensionId}/options.html`);
  for (const c of CREDS) assert.equal((await send({ kind: 'connect', credentials: c })).ok, true);
});
after(async () => { await browser?.close(); await sandbox?.stop(); });

const send = (msg) => ext.evaluate((m) => chrome.runtime.sendMessage(m), msg);
const exported = async (pred) => (await send({ kind: 'export' })).messages.filter(pred);
// A local date-time `days` days before now, as `new Date(...)` in the page reads it.
const daysAgo = (days, hour = 9) => {
  const d = new Date();
  d.setDate(d.getDate() - days);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00`;
};
const dayKey = (iso) => iso.slice(0, 10);
async function waOpen(chat) {
  const page = await browser.ctx.newPage();
  await page.goto(`https://web.whatsapp.com/?chat=${chat}`);
  await page.evaluate(() => window.fakeWAReady);
  await until(() => contentEval(browser.ctx, page, 'globalThis.__crmsync && globalThis.__crmsync.identity'), { what: `${chat} identity` });
  return page;
}

test('messages older than the window are not waiting; the rep backs them up per chat', async () => {
  const ana = await waOpen('ana');
  const frame = await panelFrame(ana);
  await until(async () => (await frame.getAttribute('#state', 'data-view')) === 'linked', { what: "Ana's card", timeout: 30000 });
  const old = daysAgo(40);
  await ana.evaluate((day) => window.fakeWA.prependOlder(3, { day }), old);
  const olds = await until(async () => { const m = await exported((x) => x.message.text.startsWith('older ')); return m.length === 3 && m; }, { what: 'old rows stored' });
  assert.deepEqual(olds.map((m) => m.state), ['older', 'older', 'older'], 'the export says each one is older than the window');
  await send({ kind: 'sync_now' });
  assert.equal((await send({ kind: 'diagnostics' })).pending, 0, 'the popup counts only what will be sent');
  // The panel: how many, from which day, and the choice; the sync line does not count them.
  // The panel re-renders once the worker says the sync changed something.
  const line = await until(async () => {
    const t = await frame.textContent('#older').catch(() => '');
    const syncLine = await frame.textContent('#sync-state').catch(() => '');
    return t && !/waiting/.test(syncLine) && t;
  }, { what: 'older notice beside a sync line that counts nothing older', timeout: 20000 });
  assert.equal(line, `3 older messages (from ${dayKey(old)}) are from before the backup window and are not sent.`);
  let led = await sandbox.ledger();
  assert.ok(!JSON.stringify(led.zoho.notes).includes('older 1'), 'never sent without the choice');
  await frame.click('#back-up-older');
  await frame.waitForSelector('#confirm-yes');
  assert.match(await frame.textContent('#confirm-text'), /^Back up the 3 older messages of Ana Souza .*to the CRM\?$/);
  await frame.click('#confirm-yes');
  await until(async () => (await send({ kind: 'diagnostics' })).pending === 3, { what: 'older messages queued' });
  await until(async () => !(await frame.$('#older')), { what: 'notice gone' });
  await send({ kind: 'sync_now' });
  led = await until(async () => { const l = await sandbox.ledger(); return l.zoho.notes.some((n) => n.parent_id === ANA && n.content.includes('older 2')) && l; }, { what: 'older messages in Zoho' });
  const note = led.zoho.notes.find((n) => n.parent_id === ANA && n.content.includes('older 0'));
  assert.ok(note.title.includes(dayKey(old)), note.title);
  assert.deepEqual((await exported((x) => x.message.text.startsWith('older '))).map((m) => m.state), ['synced', 'synced', 'synced']);
  assert.equal((await send({ kind: 'diagnostics' })).pending, 0);
  await ana.close();
});

test('the window length is a setting: invalid values are refused, a longer one queues what it now covers', async () => {
  const opts = await browser.ctx.newPage();
  await opts.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await opts.fill('#f-backup_window_days', '0');
  await opts.click('#settings-save');
  await until(async () => (await opts.textContent('#err-backup_window_days')) === 'Enter a number of days from 1 to 365.', { what: 'error shown' });
  const liam = await waOpen('us');
  const ten = daysAgo(10);
  await liam.evaluate((day) => window.fakeWA.prependOlder(2, { day }), ten);
  await until(async () => (await exported((x) => x.message.chat === 'pn:+14155552671' && x.state === 'older')).length === 2, { what: "Liam's 10-day-old rows older" });
  await opts.fill('#f-backup_window_days', '30');
  await opts.click('#settings-save');
  await until(async () => (await opts.textContent('#settings-status')) === 'Saved.', { what: 'saved' });
  await until(async () => (await exported((x) => x.message.chat === 'pn:+14155552671' && x.state === 'older')).length === 0, { what: 'now inside the window' });
  await send({ kind: 'sync_now' });
  await until(async () => (await sandbox.ledger()).salesforce.WhatsApp_Chat__c.some((c) => c.Contact__c === LIAM && c.Transcript__c.includes('older 1')), { what: 'sent to Salesforce' });
  await opts.fill('#f-backup_window_days', '3');
  await opts.click('#settings-save');
  await liam.close();
  await opts.close();
});

test('open and send at once, send and switch within 10 ms: every message reaches its CRM, 20 of 20', async () => {
  const page = await waOpen('ana');
  const texts = await page.evaluate(async () => {
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const out = [];
    for (let i = 0; i < 20; i++) {
      await window.fakeWA.open('ana');
      window.fakeWA.send(`para Ana ${i}`); // at once after opening
      out.push(['ana', `para Ana ${i}`]);
      await sleep(i % 10); // 0–9 ms, then the next chat
      await window.fakeWA.open('us');
      window.fakeWA.send(`for Liam ${i}`);
      out.push(['us', `for Liam ${i}`]);
      await sleep(i % 10);
    }
    return out;
  });
  const chatOf = { ana: 'pn:+5511987654321', us: 'pn:+14155552671' };
  let seen = [];
  const stored = await until(async () => {
    seen = await exported((x) => /^(para Ana|for Liam) \d+$/.test(x.message.text));
    return seen.length === texts.length && seen;
  }, { what: `all ${texts.length} typed messages stored`, timeout: 30000 }).catch(async (e) => {
    const absent = texts.filter(([, t]) => !seen.some((x) => x.message.text === t)).map(([, t]) => t);
    const twice = seen.filter((x, i) => seen.findIndex((y) => y.message.text === x.message.text) !== i).map((x) => x.message.text);
    const exp = await send({ kind: 'export' });
    throw new Error(`${e.message}; ${seen.length} stored; absent: ${JSON.stringify(absent)}; twice: ${JSON.stringify(twice)}; log: ${exp.log.slice(-12).map((l) => l.text).join(' | ')}`);
  });
  for (const [chat, text] of texts) {
    const m = stored.filter((x) => x.message.text === text);
    assert.equal(m.length, 1, `${text} stored once`);
    assert.equal(m[0].message.chat, chatOf[chat], `${text} belongs to ${chat}`);
  }
  let missing = [];
  const led = await until(async () => {
    // A cycle may already be running (the lease makes "Sync now" wait for the next one).
    await send({ kind: 'sync_now' });
    const l = await sandbox.ledger();
    const z = l.zoho.notes.filter((n) => n.parent_id === ANA).map((n) => n.content).join('\n');
    const s = l.salesforce.WhatsApp_Chat__c.filter((c) => c.Contact__c === LIAM).map((c) => c.Transcript__c).join('\n');
    missing = texts.filter(([chat, t]) => !(chat === 'ana' ? z : s).includes(t)).map(([, t]) => t);
    return missing.length === 0 && l;
  }, { what: 'every typed message in its CRM', timeout: 60000, interval: 2000 }).catch(async (e) => {
    const states = (await exported((x) => missing.includes(x.message.text))).map((m) => `${m.message.text}: ${m.state} ${JSON.stringify(m.message.time)}`);
    const exp = await send({ kind: 'export' });
    throw new Error(`${e.message}; missing: ${states.slice(0, 4).join('; ')}; log: ${exp.log.slice(-8).map((l) => l.text).join(' | ')}; parked: ${JSON.stringify(exp.parked)}; state: ${JSON.stringify(exp.state)}`);
  });
  const liamText = led.salesforce.WhatsApp_Chat__c.filter((c) => c.Contact__c === LIAM).map((c) => c.Transcript__c).join('\n');
  assert.ok(!liamText.includes('para Ana'), "no message of Ana's in Liam's record");
  await page.close();
});

test('a message typed just before a switch is captured even if the chat is never reopened', async () => {
  const page = await waOpen('ana');
  for (let i = 0; i < 5; i++) {
    await page.evaluate(async (n) => {
      await window.fakeWA.open('ana');
      await new Promise((r) => setTimeout(r, 100)); // Ana's chat scanned
      window.fakeWA.send(`antes de trocar ${n}`);
      await window.fakeWA.open(n % 2 ? 'priya' : 'us'); // at once: the row leaves with Ana's chat
      await new Promise((r) => setTimeout(r, 100));
    }, i);
  }
  const got = await until(async () => {
    const m = await exported((x) => /^antes de trocar \d$/.test(x.message.text));
    return m.length === 5 && m;
  }, { what: 'the 5 messages typed before a switch', timeout: 20000 });
  if (!got.every((m) => m.message.chat === 'pn:+5511987654321')) {
    const exp = await send({ kind: 'export' });
    console.log(JSON.stringify(got.map((m) => [m.message.key, m.message.chat, m.message.sender, m.message.time, m.captured_at_ms])));
    console.log(JSON.stringify(exp.log.slice(-30).map((l) => l.text)));
    console.log(JSON.stringify(await contentEval(browser.ctx, page, 'globalThis.__crmsync')).slice(0, 3000));
  }
  assert.ok(got.every((m) => m.message.chat === 'pn:+5511987654321'), JSON.stringify(got.map((m) => m.message.chat)));
  await page.close();
});

test('a chat left while the worker is slow to answer still has its rows read', async () => {
  // The content script tells the worker which chat opened before it reads the rows; a worker
  // busy for a moment (a sync cycle, a restart) answers after the rep has moved on, and by
  // then WhatsApp has dropped the chat's rows from the page.
  const page = await waOpen('us');
  const worker = await browser.worker();
  for (const [chat, other] of [['ana', 'priya'], ['priya', 'us']]) {
    const text = `enquanto o worker pensa ${chat}`;
    await worker.evaluate(() => { setTimeout(() => { const end = Date.now() + 1500; while (Date.now() < end); }, 0); });
    await page.evaluate(async ([c, o, t]) => {
      await window.fakeWA.open(c);
      window.fakeWA.send(t); // before the scan: among the rows the scan reads
      await new Promise((r) => setTimeout(r, 300)); // the scan is waiting for the worker
      await window.fakeWA.open(o);
    }, [chat, other, text]);
    const got = await until(async () => {
      const m = await exported((x) => x.message.text === text);
      return m.length === 1 && m[0];
    }, { what: `${text} stored`, timeout: 15000 }).catch(async (e) => {
      console.log(JSON.stringify(await contentEval(browser.ctx, page, 'globalThis.__crmsync')).slice(0, 3000));
      console.log(JSON.stringify((await send({ kind: 'export' })).log.slice(-10).map((l) => l.text)));
      throw e;
    });
    assert.equal(got.message.chat, { ana: 'pn:+5511987654321', priya: 'pn:+919876543210' }[chat], `${text} belongs to ${chat}`);
  }
  await page.close();
});

test('a long chat left two switches ago while the worker was busy still has all its rows taken', async () => {
  // The long chat's rows reach the worker in chunks once it answers that the chat opened; by
  // then the rep has opened two more chats. The worker takes a tab's messages for its open chat
  // and the chats it left last, so none of the 2,000 waits for the long chat to be opened again
  // (when it took them only for the open chat and the one left just before, every chunk was
  // refused here).
  const page = await waOpen('us');
  const worker = await browser.worker();
  const ours = (x) => /^Message number \d+ about the order #\d+$/.test(x.message.text);
  assert.equal((await exported(ours)).length, 0, 'the long chat not read before');
  await worker.evaluate(() => { setTimeout(() => { const end = Date.now() + 2500; while (Date.now() < end); }, 0); });
  await page.evaluate(async () => {
    await window.fakeWA.open('long');
    await new Promise((r) => setTimeout(r, 300)); // its scan is waiting for the worker
    await window.fakeWA.open('ana');
    await new Promise((r) => setTimeout(r, 300));
    await window.fakeWA.open('priya');
  });
  const got = await until(async () => {
    const m = await exported(ours);
    return m.length === 2000 && m;
  }, { what: "the long chat's 2,000 rows stored", timeout: 30000 }).catch(async (e) => {
    console.log((await exported(ours)).length, 'stored');
    console.log(JSON.stringify((await send({ kind: 'export' })).log.slice(-10).map((l) => l.text)));
    throw e;
  });
  assert.equal(new Set(got.map((m) => m.message.key)).size, 2000, 'each once');
  assert.equal(new Set(got.map((m) => m.message.chat)).size, 1, 'all filed under the long chat');
  assert.notEqual(got[0].message.chat, 'pn:+919876543210', "not under Priya's chat, open when they arrived");
  await page.close();
});

test('a row edited while the worker is told its chat opened is kept as edited', async () => {
  // The content script copies a chat's rows before it tells the worker the chat opened (the
  // rep may move on meanwhile) and scans that copy if nothing in the chat changed since. Here
  // a row is edited while the worker is busy: the edit is handed on first, and the scan must
  // then read the rows again, not hand on the copy's older text after it.
  const page = await waOpen('ana');
  const worker = await browser.worker();
  const id = await page.evaluate(() => window.fakeWA.send('antes da edição'));
  await until(async () => (await exported((x) => x.message.key === id)).length === 1, { what: 'the row stored' });
  await page.evaluate(async () => { await window.fakeWA.open('us'); await new Promise((r) => setTimeout(r, 300)); });
  await worker.evaluate(() => { setTimeout(() => { const end = Date.now() + 1500; while (Date.now() < end); }, 0); });
  await page.evaluate(async (k) => {
    await window.fakeWA.open('ana');
    await new Promise((r) => setTimeout(r, 300)); // the scan is waiting for the worker
    window.fakeWA.edit(k, 'editada enquanto o worker pensa');
  }, id);
  const text = async () => (await exported((x) => x.message.key === id))[0]?.message.text;
  await until(async () => (await text()) === 'editada enquanto o worker pensa', { what: 'the edit stored', timeout: 15000 });
  // The worker answered the chat's opening before the edit reached it, so the scan has run by
  // now: two seconds more for any of its chunks still on the way.
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(await text(), 'editada enquanto o worker pensa', 'the older text was not handed on after the edit');
  await page.close();
});
