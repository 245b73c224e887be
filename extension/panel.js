// Thin loader: the page is rendered by Rust. Runtime messages go to Rust, which checks the
// sender (this tab's content script only) and asks the worker for everything it shows.
import init, { panel_main, panel_runtime, panel_changed } from './pkg/crmsync.js';

// Until Rust renders the page, in the rep's language (extension pages get no __MSG_ in HTML).
document.getElementById('app').textContent = chrome.i18n.getMessage('loading');

const ready = init({ module_or_path: 'pkg/crmsync_bg.wasm' });
ready.then(() => panel_main())
  .catch((e) => { document.getElementById('app').textContent = chrome.i18n.getMessage('startFailed', [String(e)]) || String(e); });
const ownTab = chrome.tabs?.getCurrent ? chrome.tabs.getCurrent().then((t) => t?.id) : Promise.resolve(undefined);
chrome.runtime.onMessage.addListener((message, sender) => {
  if (message?.kind === 'changed') ready.then(() => panel_changed()).catch(() => {});
  else Promise.all([ready, ownTab]).then(([, tab]) => panel_runtime(message, sender, tab)).catch(() => {});
  return false;
});
