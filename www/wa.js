// The fake WhatsApp Web app (page world, not part of the extension). It renders chats with
// the 2026 DOM (see fixtures/*.html) and exposes `window.fakeWA` so tests and the demo can
// drive it like a user and like WhatsApp itself: open chats, send, receive, edit,
// re-render (virtualization), load older messages.
(() => {
  const chats = [
    { id: 'ana', title: 'Ana Souza', fixture: 'fixtures/ana.html', jid: '5511987654321@c.us', preview: 'Av. Paulista, 1000' },
    { id: 'us', title: '+1 (415) 555-2671', fixture: 'fixtures/us.html', preview: 'The pro one' },
    { id: 'group', title: 'Obra Paulista', fixture: 'fixtures/group.html', group: true, jid: '120363025246125486@g.us', preview: 'Welcome!' },
    { id: 'priya', title: 'Priya Sharma', jid: '919876543210@c.us', rows: [], preview: '' },
    { id: 'lid', title: 'Marina (LID)', jid: '196271432331425@lid', rows: [], preview: '' },
    { id: 'unknown', title: '+55 21 99876-5432', rows: [], preview: '' },
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
    const rows = [];
    const now = Date.now() - (h.idleDays || 0) * 86400000;
    for (let day = h.daysBack; day >= 0; day--) {
      for (let i = 0; i < h.perDay; i++) {
        const t = new Date(now - day * 86400000 - (h.perDay - i) * 600000);
        rows.push(rowHtml({ id: `3EB0H${c.id.toUpperCase()}${String(rows.length).padStart(6, '0')}`, out: i % 2 === 1, sender: c.title, text: `${c.title} history ${rows.length}`, time: t }));
      }
    }
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
  const lang = () => document.documentElement.lang || 'en-GB';
  // WhatsApp writes the stamp in the user's locale: en-US month-first 12-hour, others day-first 24-hour.
  const stamp = (d, l = lang()) => (l === 'en-US'
    ? `${(d.getHours() % 12) || 12}:${pad(d.getMinutes())} ${d.getHours() < 12 ? 'AM' : 'PM'}, ${d.getMonth() + 1}/${d.getDate()}/${d.getFullYear()}`
    : `${pad(d.getHours())}:${pad(d.getMinutes())}, ${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`);
  // Fixtures are dated relative to the run: `{{dmy:-1}}` is yesterday as dd/mm/yyyy,
  // `{{mdy:0}}` today as m/d/yyyy, `{{date:N}}` in the page's own format.
  // Fixed at load, so a page open across midnight stays consistent with `fakeWA.day(n)`.
  const loadedAt = new Date();
  const today = () => new Date(loadedAt);
  const daysFrom = (n) => { const d = today(); d.setDate(d.getDate() + n); return d; };
  // `{{date:N}}` follows the page's language, as WhatsApp writes every chat in the user's locale.
  const renderDates = (html) => html.replace(/\{\{(dmy|mdy|date):(-?\d+)\}\}/g, (_, f0, n) => {
    const d = daysFrom(Number(n));
    const f = f0 === 'date' ? (lang() === 'en-US' ? 'mdy' : 'dmy') : f0;
    return f === 'dmy' ? `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}` : `${d.getMonth() + 1}/${d.getDate()}/${d.getFullYear()}`;
  });
  const newId = () => `3EB0${Date.now().toString(16).toUpperCase()}${(seq++).toString(16).toUpperCase().padStart(4, '0')}`;

  function rowHtml({ id, out, sender, text, time, author, authorPhone, image, stampLang }) {
    const who = out ? 'You' : sender;
    const thumb = image ? `<div role="button" aria-label="Abrir imagem" data-testid="image-thumb"><img src="${esc(image)}" alt=""></div>` : '';
    const authorBlock = author ? `<div><span data-testid="author" aria-label="${esc(author)}">${esc(author)}</span>${authorPhone ? `<span class="_ahx_" data-testid="author-phone">${esc(authorPhone)}</span>` : ''}</div>` : '';
    return `<div role="row"><div data-id="${esc(id)}" data-virtualized="false" class="_amjv"><div class="${out ? 'message-out' : 'message-in'} focusable-list-item">${authorBlock}${thumb}<div class="copyable-text" data-pre-plain-text="[${esc(stamp(time, stampLang || lang()))}] ${esc(who)}: "><div><span dir="ltr" class="selectable-text copyable-text" data-testid="selectable-text"><span>${esc(text)}</span></span></div></div><div data-testid="msg-meta"><span>${pad(time.getHours())}:${pad(time.getMinutes())}</span></div></div></div></div>`;
  }

  function longRows(n) {
    // From the day before yesterday, 08:00, one a minute (ends yesterday afternoon).
    const b = daysFrom(-2);
    const base = new Date(b.getFullYear(), b.getMonth(), b.getDate(), 8, 0);
    let html = '';
    for (let i = 0; i < n; i++) {
      const t = new Date(base.getTime() + i * 60000);
      html += rowHtml({ id: `3EB0L${String(i).padStart(15, '0')}`, out: i % 3 === 0, sender: 'Long chat', text: `Message number ${i} about the order #${1000 + i}`, time: t });
    }
    return html;
  }

  function headerHtml(c) {
    const icon = c.group ? '<span data-icon="default-group"></span>' : '<span data-icon="default-user"></span>';
    return `<header data-testid="conversation-header">${icon}<div data-testid="conversation-info-header-chat-title"><span dir="auto" title="${esc(c.title)}">${esc(c.title)}</span></div>${c.group ? '<div data-testid="group-subtitle"><span>Ana Souza, Maybe Nirant, You</span></div>' : ''}</header>`;
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
    main.innerHTML = `${headerHtml(c)}<div data-scrolltracepolicy="wa.web.conversation.messages" role="application" id="messages">${rows}</div><footer><div contenteditable="true" role="textbox" aria-label="Type a message" data-testid="conversation-compose-box-input" id="compose"></div></footer>`;
    old.replaceWith(main);
    if (c.history) {
      // Scrolled to the top: WhatsApp loads an older page after a moment.
      const list = main.querySelector('#messages');
      list.addEventListener('scroll', () => {
        const all = historyOf(c);
        if (list.scrollTop > 0 || loaded >= all.length || list.dataset.loading) return;
        list.dataset.loading = '1';
        setTimeout(() => {
          const next = Math.min(loaded + c.history.page, all.length);
          list.insertAdjacentHTML('afterbegin', all.slice(all.length - next, all.length - loaded).join(''));
          loaded = next;
          c.loaded = loaded;
          list.scrollTop = 1;
          delete list.dataset.loading;
        }, 150);
      });
    }
    main.querySelector('#compose').addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); const t = e.target.textContent.trim(); if (t) { api.send(t); e.target.textContent = ''; } }
    });
    document.querySelectorAll('#pane-side [role="row"]').forEach((r) => r.setAttribute('aria-selected', String(r.dataset.chat === id)));
    open = c;
  }

  function list() { return document.getElementById('messages'); }

  const api = {
    open: openChat,
    current: () => open && open.id,
    /** An outgoing message typed by the rep. */
    send(text) {
      const id = newId();
      list().insertAdjacentHTML('beforeend', rowHtml({ id, out: true, text, time: new Date(), stampLang: open.stampLang }));
      return id;
    },
    /** An incoming message (group: with author block). */
    receive(text, { sender, author, authorPhone, time } = {}) {
      const id = newId();
      list().insertAdjacentHTML('beforeend', rowHtml({ id, out: false, sender: sender || open.title, author, authorPhone, text, time: time ? new Date(time) : new Date(), stampLang: open.stampLang }));
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
      list().insertAdjacentHTML('beforeend', rowHtml({ id, out: false, sender: open.title, text, time: new Date(), image: URL.createObjectURL(blob), stampLang: open.stampLang }));
      return { id, size: blob.size };
    },
    /** WhatsApp edits the text in place. */
    edit(id, text) {
      const row = list().querySelector(`[data-id="${CSS.escape(id)}"]`);
      row.querySelector('[data-testid="selectable-text"] span').textContent = text;
      row.querySelector('[data-testid="msg-meta"]').insertAdjacentHTML('afterbegin', '<span>Edited</span>');
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
      let html = '';
      for (let i = 0; i < n; i++) html += rowHtml({ id: `3EB0OLD${newId()}`, out: false, sender: open.title, text: `older ${i}`, time: new Date(base.getTime() + i * 60000), stampLang: open.stampLang });
      list().insertAdjacentHTML('afterbegin', html);
    },
    rowHtml,
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
      };
      req.onsuccess = () => {
        const db = req.result;
        const tx = db.transaction(['contact', 'chat'], 'readwrite');
        for (const c of chats.filter((c) => c.jid)) {
          tx.objectStore('chat').put({ id: c.jid, name: c.title, formattedTitle: c.title, isGroup: !!c.group, t: 1763000000 });
          if (!c.group) tx.objectStore('contact').put({ id: c.jid, name: c.title, pushname: c.title, isMyContact: true });
        }
        tx.oncomplete = () => { db.close(); resolve(); };
      };
      req.onerror = () => resolve();
    });
  }

  function renderChatList() {
    const pane = document.getElementById('pane-side');
    pane.innerHTML = chats.map((c) => `<div role="listitem"><div role="row" data-chat="${c.id}" aria-selected="false" data-testid="cell-frame-container" tabindex="0"><div data-testid="cell-frame-title"><span dir="auto" title="${esc(c.title)}">${esc(c.title)}</span></div><div data-testid="cell-frame-primary-detail"><span>${c.history ? listLabel(c) : ''}</span></div><div data-testid="cell-frame-secondary"><span title="${esc(c.preview)}">${esc(c.preview)}</span></div></div></div>`).join('');
    pane.addEventListener('click', (e) => { const r = e.target.closest('[data-chat]'); if (r) openChat(r.dataset.chat); });
  }

  const params = new URLSearchParams(location.search);
  if (params.get('lang')) document.documentElement.lang = params.get('lang');
  if (params.get('theme') === 'dark') document.body.classList.add('dark');
  const ready = (async () => {
    if (params.get('noidb') === null) await seedModelStorage();
    renderChatList();
    await openChat(params.get('chat') || 'ana');
  })();
  window.fakeWAReady = ready;
})();
