// Quiet while WhatsApp is busy: the fake's chat list churns (20 row updates per second for
// 60 s: previews, unread counts, typing…, rows moved to the top) while the open chat is idle.
// Measured in one run, side by side: WhatsApp's main-thread script time (CDP
// Performance.getMetrics ScriptDuration) with crmsync installed and without it, on the same
// churn; crmsync's share of wall time is the difference. Also the chat scans the churn
// caused (the content script's own counter; goal 0).
import { startSandbox, launch, contentEval } from '../e2e/harness.mjs';

const PER_SECOND = 20;
const SECONDS = Number(process.env.BENCH_CHURN_SECONDS || 60);

async function churnRun(browser, withExtension) {
  const wa = await browser.ctx.newPage();
  await wa.goto('https://web.whatsapp.com/?chat=ana');
  await wa.evaluate(() => window.fakeWAReady);
  const scans = () => contentEval(browser.ctx, wa, 'globalThis.__crmsync?.capture?.scans ?? 0');
  if (withExtension) {
    const t0 = Date.now();
    while ((await scans()) === 0 && Date.now() - t0 < 20000) await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 2000)); // the first scan and the panel settle
  const cdp = await browser.ctx.newCDPSession(wa);
  await cdp.send('Performance.enable');
  const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const scansBefore = withExtension ? await scans() : 0;
  const before = await metric();
  const t0 = Date.now();
  const updates = await wa.evaluate(([p, s]) => window.fakeWA.churn(p, s), [PER_SECOND, SECONDS]);
  const wall = (Date.now() - t0) / 1000;
  const after = await metric();
  const scansAfter = withExtension ? await scans() : 0;
  await wa.close();
  return { updates, wall, script_s: after.ScriptDuration - before.ScriptDuration, task_s: after.TaskDuration - before.TaskDuration, scans: scansAfter - scansBefore };
}

export async function run({ ROOT }) {
  process.env.CRMSYNC_SANDBOX_BIN ||= `${ROOT}/target/debug/crm-sandbox`;
  const sandbox = await startSandbox({ seed: 'demo' });
  try {
    const withExt = await launch(sandbox);
    let a;
    try { a = await churnRun(withExt, true); } finally { await withExt.close(); }
    const plain = await launch(sandbox, { extension: false });
    let b;
    try { b = await churnRun(plain, false); } finally { await plain.close(); }
    const share = Math.max(0, a.script_s - b.script_s) / a.wall;
    return {
      churn_main_thread_share: {
        value: +(share * 100).toFixed(3), unit: '% of wall time', goal: '< 1',
        rescans_caused: a.scans, updates: a.updates, seconds: +a.wall.toFixed(1),
        script_ms_with_crmsync: +(a.script_s * 1000).toFixed(1), script_ms_without: +(b.script_s * 1000).toFixed(1),
        task_ms_with_crmsync: +(a.task_s * 1000).toFixed(1), task_ms_without: +(b.task_s * 1000).toFixed(1),
      },
    };
  } finally {
    await sandbox.stop();
  }
}
