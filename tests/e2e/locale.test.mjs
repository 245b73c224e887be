// The panel in the rep's language: chrome.i18n picks the browser's UI language
// (extension/_locales: en, pt_BR, es, hi), and Intl formats amounts and dates for it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, readFileSync } from 'node:fs';
import { startSandbox, launch, launchConnected, panelFrame, until, ROOT } from './harness.mjs';

let sandbox;
before(async () => { sandbox = await startSandbox({ seed: 'demo' }); mkdirSync(join(ROOT, 'target/screenshots'), { recursive: true }); });
after(async () => { await sandbox?.stop(); });

const sbConfig = async (c) => {
  const r = await sandbox.fetch('www.zohoapis.com', '/__sandbox/config', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c) });
  assert.ok(r.status < 300, r.body);
};

const cases = [
  // lang, "Sync now", the diagnostics' title, how an amount in the org's currency (BRL) reads
  ['pt-BR', 'Sincronizar agora', 'Diagnóstico', /^R\$\s[\d.]+,\d\d$/, /^(fecha|fechou) /],
  ['es', 'Sincronizar ahora', 'Diagnóstico', /^[\d.]+,\d\d\sBRL$/, /^(cierra|cerró) /],
  ['hi', 'अभी सिंक करें', 'डायग्नॉस्टिक्स', /^R\$\s?[\d,]+\.\d\d$/, /बंद (होगी|हुई)$/],
];

for (const [lang, syncNow, diag, amount, close] of cases) {
  test(`${lang}: the card's words, amounts and dates in the browser's language`, async () => {
    const { browser, ext, send } = await launchConnected(sandbox, { lang });
    try {
      assert.equal(await ext.evaluate(() => chrome.i18n.getUILanguage()), lang);
      // A Zoho user who may not create notes: the setup check fails, and the panel says so.
      await sbConfig({ zoho_user: 'read_only' });
      try {
        const report = await send({ kind: 'setup_check', crm: 'zoho' });
        assert.equal(report.lines.find((l) => l.id === 'write-notes')?.state, 'fail', JSON.stringify(report));
      } finally {
        await sbConfig({ zoho_user: 'full' });
      }
      const wa = await browser.ctx.newPage();
      await wa.goto('https://web.whatsapp.com/?chat=ana');
      await wa.evaluate(() => window.fakeWAReady);
      const frame = await panelFrame(wa);
      await until(async () => (await frame.textContent('#card-name').catch(() => '')) === 'Ana Souza', { what: "Ana's card", timeout: 30000 });
      assert.equal(await frame.textContent('#sync-now'), syncNow);
      // The setup notice in the rep's language, its failed line and fix translated too.
      const m = JSON.parse(readFileSync(join(ROOT, `extension/_locales/${lang.replace('-', '_')}/messages.json`), 'utf8'));
      const said = (k) => m[k].message;
      const notice = await until(async () => (await frame.textContent('#setup-notice')) || null, { what: 'setup notice', timeout: 20000 });
      const opening = said('setupNoticeFix').split('$LINE$')[0].replace('$CRM$', 'Zoho CRM');
      assert.ok(notice.startsWith(opening + said('setupCannotWriteNotes')), notice);
      assert.ok(notice.includes(said('setupFixZohoNotes')), notice);
      assert.equal(await frame.textContent('#diagnostics summary'), diag);
      const amounts = await frame.locator('#deals .deal-amount').allTextContents();
      assert.ok(amounts.length > 0 && amounts.every((a) => amount.test(a)), JSON.stringify(amounts));
      const closes = await frame.locator('#deals .deal-close').allTextContents();
      assert.ok(closes.length > 0 && closes.every((c) => close.test(c)), JSON.stringify(closes));
      await (await wa.$('#crmsync-panel')).screenshot({ path: join(ROOT, `target/screenshots/panel-linked-${lang}.png`) });
    } finally {
      await browser.close();
    }
  });
}

// Closing an extension page while its first chrome.i18n.getMessage call is in flight leaves
// Chromium's message map empty for the whole extension process (every page and the worker get
// ""). Closing the options page the install opens, as soon as it appears, hits that window in
// about half the launches; the pages must still read in the rep's language.
test('an options page closed as it opens leaves no page showing message keys', async () => {
  const pt = JSON.parse(readFileSync(join(ROOT, 'extension/_locales/pt_BR/messages.json'), 'utf8'));
  const seen = [];
  for (let i = 0; i < 5; i++) {
    const browser = await launch(sandbox, { lang: 'pt-BR', firstRun: true });
    try {
      await browser.firstRun?.close();
      const options = await browser.ctx.newPage();
      await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
      await options.waitForSelector('#state-zoho');
      await until(async () => (await options.textContent('#state-zoho')) !== '', { what: 'the Zoho state' });
      seen.push(await options.textContent('#state-zoho'));
    } finally {
      await browser.close();
    }
  }
  assert.deepEqual(seen, Array(5).fill(pt.crmNotConnected.message));
});
