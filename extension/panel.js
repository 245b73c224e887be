// Thin loader: the page is rendered by Rust. In the strict-CSP fallback the content script
// relays the chat's HTML here; Rust checks the sender and parses it.
import init, { panel_main, panel_relay, panel_changed } from './pkg/crmsync.js';

const blocked = new URLSearchParams(location.hash.slice(1)).get('blocked');
const ready = init({ module_or_path: 'pkg/crmsync_bg.wasm' });
ready.then(() => panel_main(blocked ?? undefined))
  .catch((e) => { document.getElementById('app').textContent = 'crmsync could not start: ' + e; });
const ownTab = chrome.tabs?.getCurrent ? chrome.tabs.getCurrent().then((t) => t?.id) : Promise.resolve(undefined);
chrome.runtime.onMessage.addListener((message, sender) => {
  if (message?.kind === 'relay') Promise.all([ready, ownTab]).then(([, tab]) => panel_relay(message, sender, tab)).catch(() => {});
  if (message?.kind === 'changed') ready.then(() => panel_changed()).catch(() => {});
  return false;
});
