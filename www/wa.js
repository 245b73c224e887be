// The fake WhatsApp Web app (page world, not part of the extension). It renders chats with
// the 2026 DOM (see fixtures/*.html) and exposes `window.fakeWA` so tests and the demo can
// drive it like a user and like WhatsApp itself: open chats, send, receive, edit,
// re-render (virtualization), load older messages.
(() => {
  const chats = [
    { id: 'ana', title: 'Ana Souza', fixture: 'fixtures/ana.html', jid: '5511987654321@c.us', preview: 'Av. Paulista, 1000' },
    { id: 'us', title: '+1 (415) 555-2671', fixture: 'fixtures/us.html', preview: 'The pro one' },
    { id: 'group', title: 'Obra Paulista', fixture: 'fixtures/group.html', group: true, jid: '120363025246125486@g.us', preview: 'Glad to have you all here' },
    { id: 'priya', title: 'Priya Sharma', jid: '919876543210@c.us', rows: [], preview: '' },
    { id: 'lid', title: 'Marina (LID)', jid: '196271432331425@lid', rows: [], preview: '' },
    { id: 'unknown', title: '+55 21 99876-5432', rows: [], preview: '' },
    // A chat WhatsApp shows by a username (2026): a name in the header, no number, no @lid.
    { id: 'username', title: 'Marina Lopes', rows: [], preview: '' },
    { id: 'long', title: 'Long chat', long: 2000, jid: '5511912345678@c.us', preview: '…' },
    // Chats with history WhatsApp loads lazily (scrolling up), for the guided backfill.
    // `daysBack`: history spans that many days up to now; `page`: rows loaded per scroll.
    { id: 'carlos', title: 'Carlos Mendes', jid: '5511955554444@c.us', history: { daysBack: 5, perDay: 6, page: 8 }, preview: 'Até amanhã' },
    { id: 'julia', title: 'Julia Costa', jid: '5511944443333@c.us', history: { daysBack: 1, perDay: 3, page: 8 }, preview: 'Obrigada!' },
    { id: 'old', title: 'Old supplier', jid: '5511933332222@c.us', history: { daysBack: 12, perDay: 1, page: 8, idleDays: 10 }, preview: 'ok' },
  ];
  // The chat list's last-activity label, as WhatsApp writes it: a time today, "Yesterday", a date.
  const listLabel = (c) => {
    const idle = c.history ? (c.history.idleDays || 0) : 0;
    const d = new Date(Date.now() - idle * 86400000);
    if (idle === 0) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (idle === 1) return 'Yesterday';
    return `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`;
  };
  // Every row of a lazily loaded chat, oldest first; only the newest `page` are rendered at first.
  const historyRows = {};
  function historyOf(c) {
    if (historyRows[c.id]) return historyRows[c.id];
    const h = c.history;
    const items = [];
    // Each day's rows fall on that calendar day at any time of day the run starts: a past day's
    // from its noon, today's before now (spread over what has passed of today: a run just after
    // midnight would otherwise date "today's" rows yesterday, and the chat would span a day less).
    const idle = h.idleDays || 0;
    const now = Date.now();
    const startOfToday = new Date(new Date(now).toDateString()).getTime();
    const step = Math.min(600000, (now - startOfToday) / (h.perDay + 1));
    for (let day = h.daysBack; day >= 0; day--) {
      const d = day + idle;
      const noon = new Date(startOfToday);
      noon.setDate(noon.getDate() - d);
      noon.setHours(12, 0, 0, 0);
      for (let i = 0; i < h.perDay; i++) {
        const t = new Date(d === 0 ? now - (h.perDay - i) * step : noon.getTime() + i * 600000);
        const n = items.length;
        items.push({ time: t, html: rowHtml({ id: `3EB0H${c.id.toUpperCase()}${String(n).padStart(6, '0')}`, out: i % 2 === 1, sender: c.title, text: `${c.title} history ${n}`, time: t }) });
      }
    }
    const rows = chipped(items);
    historyRows[c.id] = rows;
    return rows;
  }
  const byId = Object.fromEntries(chats.map((c) => [c.id, c]));
  // What WhatsApp keeps of each chat while another is open (sent, received, edited, loaded
  // rows): reopening shows the same messages, as the real app does.
  const kept = {};
  let open = null;
  let seq = 0;
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const pad = (n) => String(n).padStart(2, '0');
  const params = new URLSearchParams(location.search);
  // The locale WhatsApp writes dates in (`?lang=`, else the page's own), and the page's
  // language attribute (`?htmllang=` sets it apart: the real page may say a bare "en").
  const dateLocale = params.get('lang') || document.documentElement.lang || 'en-GB';
  const lang = () => dateLocale;
  // WhatsApp writes the stamp in the user's locale: en-US month-first 12-hour, others day-first 24-hour.
  const stamp = (d, l = lang()) => (l === 'en-US'
    ? `${(d.getHours() % 12) || 12}:${pad(d.getMinutes())} ${d.getHours() < 12 ? 'AM' : 'PM'}, ${d.getMonth() + 1}/${d.getDate()}/${d.getFullYear()}`
    : `${pad(d.getHours())}:${pad(d.getMinutes())}, ${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`);
  const clockText = (d, l = lang()) => (l === 'en-US'
    ? `${(d.getHours() % 12) || 12}:${pad(d.getMinutes())} ${d.getHours() < 12 ? 'AM' : 'PM'}`
    : `${pad(d.getHours())}:${pad(d.getMinutes())}`);
  // Fixtures are dated relative to the run: `{{dmy:-1}}` is yesterday as dd/mm/yyyy,
  // `{{mdy:0}}` today as m/d/yyyy, `{{date:N}}` in the page's own format, `{{chip:N}}` the
  // day-separator chip's label for that day in the page's language.
  // Fixed at load, so a page open across midnight stays consistent with `fakeWA.day(n)`.
  const loadedAt = new Date();
  const today = () => new Date(loadedAt);
  const daysFrom = (n) => { const d = today(); d.setDate(d.getDate() + n); return d; };
  const dateText = (d, f0 = 'date') => {
    const f = f0 === 'date' ? (lang() === 'en-US' ? 'mdy' : 'dmy') : f0;
    return f === 'dmy' ? `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}` : `${d.getMonth() + 1}/${d.getDate()}/${d.getFullYear()}`;
  };
  const CHIP_WORDS = {
    en: ['Today', 'Yesterday', ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']],
    pt: ['Hoje', 'Ontem', ['segunda-feira', 'terça-feira', 'quarta-feira', 'quinta-feira', 'sexta-feira', 'sábado', 'domingo']],
  };
  // The chip over a day's messages: Today, Yesterday, the weekday within a week, else the date.
  const chipLabel = (d) => {
    const w = CHIP_WORDS[(document.documentElement.lang || 'en').slice(0, 2)] || CHIP_WORDS.en;
    const t = today();
    const days = Math.round((new Date(t.getFullYear(), t.getMonth(), t.getDate()) - new Date(d.getFullYear(), d.getMonth(), d.getDate())) / 86400000);
    if (days === 0) return w[0];
    if (days === 1) return w[1];
    if (days > 1 && days < 7) return w[2][(d.getDay() + 6) % 7];
    return dateText(d);
  };
  const renderDates = (html) => html.replace(/\{\{(dmy|mdy|date|chip):(-?\d+)\}\}/g, (_, f, n) => {
    const d = daysFrom(Number(n));
    return f === 'chip' ? esc(chipLabel(d)) : dateText(d, f);
  });
  const newId = () => `3EB0${Date.now().toString(16).toUpperCase()}${(seq++).toString(16).toUpperCase().padStart(4, '0')}`;

  // Rows follow the real page's nesting (2026): role=row > the data-id wrapper > bubble
  // (message-in/out) > hashed-class boxes > author block ([role=""]) > copyable text with
  // data-pre-plain-text > selectable text + the clock. Class names are hashed on the real
  // page and churn; only ids, roles, aria-labels, data-icon and data-pre-plain-text are
  // stable there, and only those the real page has are used here.
  function authorHtml(author, authorPhone) {
    if (!author && !authorPhone) return '';
    // An unsaved sender shows a push name (read out as "Maybe <name>") beside the number.
    const label = authorPhone ? ` aria-label="Maybe ${esc(author)}"` : '';
    const name = author ? `<span dir="auto"${label} class="_ahxy _ao3e">${esc(author)}</span>` : '';
    return `<div class="_ahxj _ahxz x78zum5 xpeijrx" role="">${name}${authorPhone ? `<span class="_ahx_" role="button">${esc(authorPhone)}</span>` : ''}</div>`;
  }
  function chipHtml(label) {
    return `<div role="row"><div tabindex="-1" class="_amjv x1n2onr6"><div class="_amk4 xnpuxes"><span dir="auto" class="_ao3e">${esc(label)}</span></div></div></div>`;
  }
  function rowHtml({ id, out, sender, text, time, author, authorPhone, image, stampLang }) {
    const who = out ? 'You' : sender;
    const l = stampLang || lang();
    const thumb = image ? `<div role="button" aria-label="Open picture" style="width: 240px; height: 240px"><img alt="" src="${esc(image)}"></div>` : '';
    const tick = out ? '<span data-icon="msg-dblcheck" aria-label=" Read "></span>' : '';
    const body = text ? `<span data-testid="selectable-text" dir="ltr" class="_ao3e _aupe copyable-text"><span>${esc(text)}</span></span>` : '';
    return `<div role="row"><div tabindex="-1" class="_amjv xscbp6u" data-id="${esc(id)}"><div class="x78zum5 xdt5ytf" data-virtualized="false"><div><div class="${out ? 'message-out' : 'message-in'} focusable-list-item _amjy _amjw${author ? ' _amkz' : ''}"><span${out ? ' aria-label="You:"' : ''}></span><div class="_amk4 _amkd"><div class="_amk6 _amlo"><div><div class="x9f619 x1hx0egp x1yrsyyn">${authorHtml(author, authorPhone)}<div class="_ahy1 copyable-text" data-pre-plain-text="[${esc(stamp(time, l))}] ${esc(who)}: ">${thumb}<div class="_ahy5"><div class="_ahwq x6s0dn4 xaejkm2">${body}<span class="x1rg5ohu x16dsc37">${clockText(time, l)}</span>${tick}</div></div></div></div></div></div></div></div></div></div></div></div>`;
  }
  // The day of the last chip in the list, to add one when a message starts a new day.
  function withChip(list, time, html) {
    const label = chipLabel(time);
    const chips = [...list.querySelectorAll('[role="row"]')].filter((r) => !r.querySelector('[data-id]'));
    const last = chips.length ? chips[chips.length - 1].textContent.trim() : null;
    return last === label ? html : chipHtml(label) + html;
  }
  // Rows of `times` (oldest first) with a chip wherever the day changes, as WhatsApp lists them.
  function chipped(items) {
    const out = [];
    let day = null;
    for (const { time, html } of items) {
      const k = time.toDateString();
      if (k !== day) { out.push(chipHtml(chipLabel(time))); day = k; }
      out.push(html);
    }
    return out;
  }

  function longRows(n) {
    // From the day before yesterday, 08:00, one a minute (ends yesterday afternoon).
    const b = daysFrom(-2);
    const base = new Date(b.getFullYear(), b.getMonth(), b.getDate(), 8, 0);
    const items = [];
    for (let i = 0; i < n; i++) {
      const t = new Date(base.getTime() + i * 60000);
      items.push({ time: t, html: rowHtml({ id: `3EB0L${String(i).padStart(15, '0')}`, out: i % 3 === 0, sender: 'Long chat', text: `Message number ${i} about the order #${1000 + i}`, time: t }) });
    }
    return chipped(items).join('');
  }

  // `fakeWA.driftHeader`: headers rendered with no readable title (see headerHtml).
  let headerDrift = false;

  function headerHtml(c) {
    if (headerDrift) {
      // A release that draws the title without text or a title attribute (the name only in an
      // aria-label) and drops the subtitle: the header is there, but names no chat.
      return `<header class="x1n2onr6 _amid"><span aria-hidden="true" data-icon="default-user"></span><div class="x78zum5"><span dir="auto" class="x1iyjqo2 _ao3e" aria-label="${esc(c.title)}"></span></div></header>`;
    }
    const icon = c.group ? '<span aria-hidden="true" data-icon="default-group"></span>' : '<span aria-hidden="true" data-icon="default-user"></span>';
    // A group's subtitle is its member list run together, as on the real page.
    const sub = c.group ? '<div class="x1iyjqo2 x6ikm8r"><span class="x1lliihq">Ana Souza, Liam Carter, Rafa, You</span></div>' : '';
    return `<header class="x1n2onr6 _amid" data-testid="conversation-header">${icon}<div class="x78zum5" data-testid="conversation-info-header-chat-title"><span dir="auto" title="${esc(c.title)}" class="x1iyjqo2 _ao3e">${esc(c.title)}</span></div>${sub}</header>`;
  }

  async function openChat(id) {
    const c = byId[id];
    if (!c) throw new Error(`no chat ${id}`);
    if (open && list()) kept[open.id] = { rows: list().innerHTML, loaded: open.loaded };
    let rows = '';
    let loaded = 0;
    if (kept[id]) ({ rows, loaded } = kept[id]);
    else if (c.fixture) rows = renderDates(await (await fetch(c.fixture)).text());
    else if (c.long) rows = longRows(c.long);
    else if (c.history) { const all = historyOf(c); loaded = Math.min(c.history.page, all.length); rows = all.slice(all.length - loaded).join(''); }
    c.loaded = loaded;
    // WhatsApp replaces #main when another chat opens.
    const old = document.getElementById('main');
    const main = document.createElement('div');
    main.id = 'main';
    // Only attributes seen on the real page (www/README.md): the list is found by its scroll
    // policy, the composer by its test id, as the real page offers no ids for them.
    main.innerHTML = `${headerHtml(c)}<div data-scrolltracepolicy="wa.web.conversation.messages">${rows}</div><footer><div contenteditable="true" data-testid="conversation-compose-box-input"></div></footer>`;
    old.replaceWith(main);
    if (c.history) {
      // Scrolled to the top: WhatsApp loads an older page after a moment.
      const list = main.querySelector(LIST);
      let loading = false;
      list.addEventListener('scroll', () => {
        const all = historyOf(c);
        if (list.scrollTop > 0 || loaded >= all.length || loading) return;
        loading = true;
        setTimeout(() => {
          const next = Math.min(loaded + c.history.page, all.length);
          list.insertAdjacentHTML('afterbegin', all.slice(all.length - next, all.length - loaded).join(''));
          loaded = next;
          c.loaded = loaded;
          list.scrollTop = 1;
          loading = false;
        }, 150);
      });
    }
    main.querySelector(COMPOSE).addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); const t = e.target.textContent.trim(); if (t) { api.send(t); e.target.textContent = ''; } }
    });
    open = c;
  }

  const LIST = '#main [data-scrolltracepolicy="wa.web.conversation.messages"]';
  const COMPOSE = '#main footer [data-testid="conversation-compose-box-input"]';
  function list() { return document.querySelector(LIST); }
  // A chat-list row's title, as the rep reads it (the title span's `title`).
  const rowTitle = (row) => row.querySelector('[data-testid="cell-frame-title"] span[title]')?.getAttribute('title');
  // The last-activity label: the second cell of the row's first line (the real page gives
  // it no test id that a public capture shows).
  const rowLabel = (row) => row.querySelector('[data-testid="cell-frame-container"] > div > div:nth-child(2)');

  const api = {
    open: openChat,
    current: () => open && open.id,
    /** An outgoing message typed by the rep. */
    send(text) {
      const id = newId();
      const time = new Date();
      list().insertAdjacentHTML('beforeend', withChip(list(), time, rowHtml({ id, out: true, text, time, stampLang: open.stampLang })));
      storeMessage(open, id, true, time);
      return id;
    },
    /** An incoming message (group: with author block). */
    receive(text, { sender, author, authorPhone, time } = {}) {
      const id = newId();
      const t = time ? new Date(time) : new Date();
      list().insertAdjacentHTML('beforeend', withChip(list(), t, rowHtml({ id, out: false, sender: sender || open.title, author, authorPhone, text, time: t, stampLang: open.stampLang })));
      storeMessage(open, id, false, t, authorPhone);
      return id;
    },
    /** An incoming photo: WhatsApp shows it from a blob: URL of the page. */
    async receiveImage(text) {
      const c = document.createElement('canvas');
      c.width = 16; c.height = 16;
      const g = c.getContext('2d');
      g.fillStyle = '#008069'; g.fillRect(0, 0, 16, 16); g.fillStyle = '#fff'; g.fillRect(4, 4, 8, 8);
      const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
      const id = newId();
      const time = new Date();
      list().insertAdjacentHTML('beforeend', withChip(list(), time, rowHtml({ id, out: false, sender: open.title, text, time, image: URL.createObjectURL(blob), stampLang: open.stampLang })));
      return { id, size: blob.size };
    },
    /** WhatsApp edits the text in place. */
    edit(id, text) {
      const row = list().querySelector(`[data-id="${CSS.escape(id)}"]`);
      row.querySelector('[data-testid="selectable-text"] span').textContent = text;
      row.querySelector('.x16dsc37').insertAdjacentHTML('beforebegin', '<span class="x1rg5ohu">Edited</span>');
    },
    /** WhatsApp ships new markup (`on`) or the markup it had (`!on`): the open chat's rows
     *  are rendered again with the bubbles' direction classes renamed, as a release can do. */
    drift(on) {
      const l = list();
      const [from, to] = on ? [/\bmessage-(in|out)\b/g, 'msg-$1-v2'] : [/\bmsg-(in|out)-v2\b/g, 'message-$1'];
      const html = l.innerHTML.replace(from, to);
      l.innerHTML = '';
      l.innerHTML = html;
    },
    /** WhatsApp ships a header that names no chat (`on`): chats opened from now on show it.
     *  With `!on` the header it had is back, and the open chat's header is drawn again. */
    driftHeader(on) {
      headerDrift = on;
      if (!on && open) document.querySelector('#main header').outerHTML = headerHtml(open);
    },
    /** Virtualization: the same rows are removed and inserted again as new nodes. */
    rerender() {
      const l = list();
      const html = l.innerHTML;
      l.innerHTML = '';
      l.innerHTML = html;
    },
    /** Scrolling up loads older messages above the current ones. */
    prependOlder(n, { day } = {}) {
      // Default: the day before yesterday, 09:00 (inside a 3-day backup window).
      const b = daysFrom(-2);
      const base = day ? new Date(day) : new Date(b.getFullYear(), b.getMonth(), b.getDate(), 9, 0);
      const items = [];
      for (let i = 0; i < n; i++) {
        const time = new Date(base.getTime() + i * 60000);
        items.push({ time, html: rowHtml({ id: `3EB0OLD${newId()}`, out: false, sender: open.title, text: `older ${i}`, time, stampLang: open.stampLang }) });
      }
      list().insertAdjacentHTML('afterbegin', chipped(items).join(''));
    },
    rowHtml,
    /** The chat list as WhatsApp keeps it busy while the open chat is idle: `perSecond` updates
     *  of other chats' rows (a new preview, an unread count, typing…, the row moved to the top)
     *  for `seconds`. Resolves with the number of updates made. */
    churn(perSecond, seconds) {
      const pane = document.getElementById('pane-side');
      const total = Math.round(perSecond * seconds);
      let n = 0;
      return new Promise((resolve) => {
        const t = setInterval(() => {
          // Other chats than the open one.
          const items = [...pane.children].filter((it) => rowTitle(it) !== (open && open.title));
          const item = items[n % Math.max(1, items.length)];
          if (item) {
            const preview = item.querySelector('[data-testid="cell-frame-secondary"] span');
            if (preview) preview.textContent = n % 3 === 0 ? 'typing…' : `update ${n}`;
            const detail = rowLabel(item);
            let badge = detail?.querySelector('[aria-label$="unread messages"]');
            if (!badge && detail) { badge = document.createElement('span'); detail.appendChild(badge); }
            if (badge) badge.setAttribute('aria-label', `${1 + (n % 9)} unread messages`);
            if (badge) badge.textContent = String(1 + (n % 9));
            if (n % 4 === 0) pane.prepend(item);
          }
          if (++n >= total) { clearInterval(t); resolve(n); }
        }, 1000 / perSecond);
      });
    },
    /** The calendar day `n` days from the page's "today", as the fixtures render it. */
    day(n) { const d = daysFrom(n); return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate() }; },
  };
  window.fakeWA = api;

  // WhatsApp's own IndexedDB: contact and chat records (names, JIDs, LIDs).
  function seedModelStorage() {
    return new Promise((resolve) => {
      const req = indexedDB.open('model-storage', 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore('contact', { keyPath: 'id' });
        db.createObjectStore('chat', { keyPath: 'id' });
        // Message rows: the serialized id and `t` (seconds); the text is encrypted at rest.
        db.createObjectStore('message', { keyPath: 'id' });
      };
      req.onsuccess = () => {
        const db = req.result;
        const tx = db.transaction(['contact', 'chat'], 'readwrite');
        for (const c of chats.filter((c) => c.jid)) {
          tx.objectStore('chat').put({ id: c.jid, name: c.title, formattedTitle: c.title, isGroup: !!c.group, t: 1763000000 });
          if (!c.group) tx.objectStore('contact').put({ id: c.jid, name: c.title, pushname: c.title, isMyContact: true });
        }
        // Kept open, as WhatsApp keeps it: a message's row is written as it is shown.
        tx.oncomplete = () => { modelDb = db; resolve(); };
      };
      req.onerror = () => resolve();
    });
  }

  // WhatsApp writes each message it shows to its database too, keyed
  // `<fromMe>_<chat>_<id>` (a group's received ones add `_<participant>`).
  let modelDb = null;
  function storeMessage(c, id, out, time, authorPhone) {
    if (!modelDb || !c.jid || !modelDb.objectStoreNames.contains('message')) return;
    const participant = c.group && !out && authorPhone ? `_${authorPhone.replace(/\D/g, '')}@c.us` : '';
    modelDb.transaction('message', 'readwrite').objectStore('message')
      .put({ id: `${out}_${c.jid}_${id}${participant}`, t: Math.floor(time.getTime() / 1000), type: 'chat', fromMe: out });
  }

  function renderChatList() {
    const pane = document.getElementById('pane-side');
    // A row: the title line (title, last-activity label) over the preview line. No id of the
    // chat is on the page; WhatsApp knows which row is which, the fake looks the title up.
    pane.innerHTML = chats.map((c) => `<div role="listitem"><div role="row" data-testid="cell-frame-container" tabindex="0"><div><div data-testid="cell-frame-title"><span dir="auto" title="${esc(c.title)}">${esc(c.title)}</span></div><div><span>${c.history ? listLabel(c) : ''}</span></div></div><div data-testid="cell-frame-secondary"><span>${esc(c.preview)}</span></div></div></div>`).join('');
    const byTitle = Object.fromEntries(chats.map((c) => [c.title, c.id]));
    pane.addEventListener('click', (e) => {
      const r = e.target.closest('[data-testid="cell-frame-container"]');
      const id = r && byTitle[rowTitle(r)];
      if (id) openChat(id);
    });
  }

  // WhatsApp Web keeps the signed-in account's id in localStorage, `last-wid-md`, JSON-encoded
  // "<number>:<device>@c.us" (src/capture/own_wid.rs); the fake rep has a made-up German
  // mobile number. `?nowid` signs no one in.
  if (params.get('nowid') === null) localStorage.setItem('last-wid-md', JSON.stringify('4915123456789:4@c.us'));
  else localStorage.removeItem('last-wid-md');
  if (params.get('lang')) document.documentElement.lang = params.get('lang');
  if (params.get('htmllang') !== null) document.documentElement.lang = params.get('htmllang');
  if (params.get('theme') === 'dark') document.body.classList.add('dark');
  const ready = (async () => {
    if (params.get('noidb') === null) await seedModelStorage();
    renderChatList();
    await openChat(params.get('chat') || 'ana');
  })();
  window.fakeWAReady = ready;
})();
