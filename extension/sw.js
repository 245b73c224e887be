// Thin loader for the service worker. Listeners are registered synchronously at the top
// level so Chrome can wake the worker for them; each forwards to Rust once wasm is ready.
import init, * as core from './pkg/crmsync.js';

const ready = init({ module_or_path: chrome.runtime.getURL('pkg/crmsync_bg.wasm') }).then(() => core.worker_start());

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  ready
    .then(() => core.worker_on_message(message, sender))
    .then(reply, (e) => reply({ ok: false, error: String((e && e.message) || e) }));
  return true; // reply asynchronously
});

chrome.alarms.onAlarm.addListener((alarm) => {
  ready.then(() => core.worker_on_alarm(alarm)).catch((e) => console.error('crmsync alarm', e));
});

// A tab closed: the worker forgets what it kept for it (no permission needed for the id).
chrome.tabs.onRemoved.addListener((tabId) => {
  ready.then(() => core.worker_on_tab_removed(tabId)).catch((e) => console.error('crmsync tab closed', e));
});

chrome.runtime.onInstalled.addListener((details) => {
  ready.then(() => core.worker_on_installed(details)).catch((e) => console.error('crmsync install', e));
});
