// The local workspace page: a small Slack client for duo-desk's local mode. It draws what the server says a person
// sees (GET /workspace/api/stream, server-sent events), and sends what the person does (POST /workspace/api/act); the
// server plays Slack's side of each request (signed, fresh) against the bot's real endpoint. No framework, no build.

const $ = (id) => document.getElementById(id);

const state = {
  people: [],
  wire: { eventsUrl: '', stateFile: '' },
  person: '',
  screen: undefined,
  /** Open conversation per person. */
  open: {},
  /** Messages already seen, per person and conversation (for unread badges). */
  seen: {},
  /** What the person typed or picked in each open modal, by view id, until it is submitted. */
  drafts: new Map(),
  rendered: { sidebar: '', messages: '', modal: '' },
  stream: undefined,
  duoUser: '',
  phoneStream: undefined,
  wireCount: 0,
};

// ---------------------------------------------------------------- mrkdwn

const EMOJI = {
  white_check_mark: '✅',
  warning: '⚠️',
  hourglass_flowing_sand: '⏳',
  hourglass: '⌛',
  x: '❌',
  rotating_light: '🚨',
  no_entry: '⛔',
  lock: '🔒',
  shield: '🛡️',
  arrows_counterclockwise: '🔄',
  scroll: '📜',
  outbox_tray: '📤',
  mag: '🔍',
  leftwards_arrow_with_hook: '↩️',
  iphone: '📱',
  wastebasket: '🗑️',
  speech_balloon: '💬',
  red_circle: '🔴',
  large_green_circle: '🟢',
  no_mobile_phones: '📵',
  key: '🔑',
  information_source: 'ℹ️',
  grey_question: '❔',
  envelope: '✉️',
  tada: '🎉',
  bust_in_silhouette: '👤',
};

const esc = (s) =>
  String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
const unescapeSlack = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const emoji = (html) => html.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] ?? m);

const HOLE_OPEN = '\uE000';
const HOLE_CLOSE = '\uE001';

function slackDate(seconds, format) {
  const d = new Date(Number(seconds) * 1000);
  const day = (opts) => d.toLocaleDateString(undefined, opts);
  const pretty = (fallback) => {
    const days = Math.round((new Date(d).setHours(0, 0, 0, 0) - new Date().setHours(0, 0, 0, 0)) / 86_400_000);
    return days === 0 ? 'Today' : days === -1 ? 'Yesterday' : days === 1 ? 'Tomorrow' : fallback;
  };
  const long = day({ weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });
  const medium = day({ month: 'long', day: 'numeric', year: 'numeric' });
  const short = day({ month: 'short', day: 'numeric', year: 'numeric' });
  const tokens = {
    date_num: d.toISOString().slice(0, 10),
    date: medium,
    date_short: short,
    date_long: long,
    date_pretty: pretty(medium),
    date_short_pretty: pretty(short),
    date_long_pretty: pretty(long),
    time: d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }),
    time_secs: d.toLocaleTimeString(),
  };
  return format.replace(/\{(\w+)\}/g, (m, t) => tokens[t] ?? m);
}

const SAFE_URL = /^(https?:|mailto:)/i;

/** One `<…>` token: a mention, a channel, a date, a special mention or a link. */
function token(inner, names) {
  const [head, label] = inner.split('|');
  if (/^@[UW][A-Z0-9]+$/.test(head)) {
    const id = head.slice(1);
    return `<span class="mention">@${esc(names.users[id] ?? label ?? id)}</span>`;
  }
  if (/^#[CG][A-Z0-9]+$/.test(head)) {
    const name = names.channels[head.slice(1)] ?? label ?? 'private-channel';
    return `<span class="mention">#${esc(name)}</span>`;
  }
  const date = /^!date\^(\d+)\^([^^]*)(?:\^(.*))?$/.exec(head);
  if (date) {
    return `<time datetime="${new Date(Number(date[1]) * 1000).toISOString()}">${esc(slackDate(date[1], date[2]))}</time>`;
  }
  if (/^!(here|channel|everyone)$/.test(head)) return `<span class="mention">@${esc(head.slice(1))}</span>`;
  if (head.startsWith('!subteam^')) return `<span class="mention">${esc(unescapeSlack(label ?? 'a group'))}</span>`;
  const url = unescapeSlack(head);
  const text = unescapeSlack(label ?? head);
  if (SAFE_URL.test(url)) return `<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${esc(text)}</a>`;
  return esc(text);
}

/** One line of mrkdwn: code, tokens, then bold, italics and strike, then emoji. */
function inline(text, names) {
  const holes = [];
  const hold = (html) => `${HOLE_OPEN}${holes.push(html) - 1}${HOLE_CLOSE}`;
  let s = text.replace(/`([^`]+)`/g, (_, code) => hold(`<code>${esc(unescapeSlack(code))}</code>`));
  s = s.replace(/<([^<>]+)>/g, (_, inner) => hold(token(inner, names)));
  s = esc(unescapeSlack(s));
  s = s.replace(/(^|[^\w*])\*([^*]+?)\*(?!\w)/g, '$1<strong>$2</strong>');
  s = s.replace(/(^|[^\w_])_([^_]+?)_(?!\w)/g, '$1<em>$2</em>');
  s = s.replace(/(^|[^\w~])~([^~]+?)~(?!\w)/g, '$1<del>$2</del>');
  s = emoji(s);
  return s.replace(new RegExp(`${HOLE_OPEN}(\\d+)${HOLE_CLOSE}`, 'g'), (_, i) => holes[Number(i)]);
}

/** Slack's mrkdwn as HTML: code blocks, quotes and lines; everything else escaped. */
function mrkdwn(text, names) {
  return String(text)
    .split('```')
    .map((part, i) => {
      if (i % 2 === 1) return `<pre class="mrkdwn">${esc(unescapeSlack(part.replace(/^\n/, '')))}</pre>`;
      const out = [];
      let quote = [];
      const flush = () => {
        if (quote.length) out.push(`<blockquote>${quote.join('<br>')}</blockquote>`);
        quote = [];
      };
      for (const line of part.split('\n')) {
        if (line.startsWith('>')) quote.push(inline(line.replace(/^>\s?/, ''), names));
        else {
          flush();
          out.push(`${inline(line, names)}<br>`);
        }
      }
      flush();
      return out.join('').replace(/(<br>)+$/, '');
    })
    .join('');
}

const plainText = (t) => (t && typeof t === 'object' ? String(t.text ?? '') : String(t ?? ''));
function textHtml(t, names) {
  if (!t) return '';
  if (t.type === 'mrkdwn') return mrkdwn(t.text ?? '', names);
  return t.emoji === false ? esc(t.text ?? '') : emoji(esc(t.text ?? ''));
}

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'html') el.innerHTML = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c);
  return el;
}

let idSeq = 0;
const nextId = (prefix) => `${prefix}-${++idSeq}`;

function showAlert(text) {
  const a = $('alert');
  a.textContent = text;
  a.hidden = !text;
}

// ---------------------------------------------------------------- talking to the server

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({ error: `duo-desk answered ${res.status}` }));
  if (!res.ok) throw new Error(json.error ?? `duo-desk answered ${res.status}`);
  return json;
}

/** Sends one act as the current person; logs it on the wire panel. */
async function act(a, summary) {
  showAlert('');
  try {
    const result = await post('/workspace/api/act', { as: state.person, act: a });
    if (result.request) logWire(summary, result);
    return result;
  } catch (e) {
    showAlert(e.message);
    return undefined;
  }
}

// ---------------------------------------------------------------- drafts (what is typed into a modal)

const draftKey = (l) => `${l.blockId}\u0001${l.actionId}`;
function drafts(viewId) {
  if (!state.drafts.has(viewId)) state.drafts.set(viewId, new Map());
  return state.drafts.get(viewId);
}
function setDraft(ctx, locator, value) {
  if (ctx.surface.kind === 'view') drafts(ctx.surface.id).set(draftKey(locator), { locator, value });
}
function draftValues(viewId) {
  return [...drafts(viewId).values()].map((d) => [d.locator, d.value]);
}
const valuesFor = (surface) => (surface.kind === 'view' ? draftValues(surface.id) : []);

/** What an element holds now: the person's draft, else the client state Slack keeps (initial values, picks). */
function current(ctx, locator) {
  if (ctx.surface.kind === 'view') {
    const d = drafts(ctx.surface.id).get(draftKey(locator));
    if (d) return { draft: d.value };
  }
  return { entry: ctx.values?.[locator.blockId]?.[locator.actionId] };
}

// ---------------------------------------------------------------- Block Kit

function confirmFirst(confirm) {
  if (!confirm) return Promise.resolve(true);
  const names = state.screen.names;
  $('confirm-title').textContent = plainText(confirm.title) || 'Are you sure?';
  $('confirm-text').innerHTML = textHtml(confirm.text, names);
  $('confirm-ok').textContent = plainText(confirm.confirm) || 'Yes';
  $('confirm-deny').textContent = plainText(confirm.deny) || 'Cancel';
  $('confirm-ok').className = `btn ${confirm.style === 'danger' ? 'danger filled' : 'primary'}`;
  const dialog = $('confirm');
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }),
  );
}

const optionsOf = (el) => [...(el.options ?? []), ...(el.option_groups ?? []).flatMap((g) => g.options ?? [])];
const asOption = (o) => ({ value: o.value, text: plainText(o.text) });

function button(el, block, ctx) {
  const locator = { blockId: block.block_id, actionId: el.action_id };
  const cls = `btn${el.style === 'primary' ? ' primary' : el.style === 'danger' ? ' danger' : ''}`;
  return h('button', {
    type: 'button',
    class: cls,
    'data-key': `${ctx.key}|${draftKey(locator)}`,
    onclick: async (e) => {
      const b = e.currentTarget;
      if (!(await confirmFirst(el.confirm))) return;
      b.disabled = true;
      await act(
        { op: 'click', surface: ctx.surface, element: locator, values: valuesFor(ctx.surface) },
        `block_actions: "${plainText(el.text)}"`,
      );
      b.disabled = false;
    },
    html: emoji(esc(plainText(el.text))),
  });
}

/** A pick Slack sends at once (outside inputs, or with dispatch_action), else only kept until the submit. */
function picked(ctx, locator, value, dispatch, option) {
  setDraft(ctx, locator, value);
  if (!dispatch || !option) return;
  act(
    { op: 'select', surface: ctx.surface, element: locator, option, values: valuesFor(ctx.surface) },
    `block_actions: picked "${option.text}"`,
  );
}

function staticSelect(el, locator, ctx, dispatch, id, label) {
  const now = current(ctx, locator);
  const chosen = now.draft?.value ?? now.entry?.selected_option?.value ?? el.initial_option?.value;
  const select = h('select', { id, 'aria-label': label, 'data-key': `${ctx.key}|${draftKey(locator)}` });
  select.append(
    h('option', { value: '', disabled: true, selected: chosen === undefined }, plainText(el.placeholder) || 'Choose…'),
  );
  const add = (parent, o) =>
    parent.append(h('option', { value: o.value, selected: o.value === chosen }, emoji(plainText(o.text))));
  for (const o of el.options ?? []) add(select, o);
  for (const g of el.option_groups ?? []) {
    const group = h('optgroup', { label: plainText(g.label) });
    for (const o of g.options ?? []) add(group, o);
    select.append(group);
  }
  select.addEventListener('change', () => {
    const o = optionsOf(el).find((x) => x.value === select.value);
    if (o) picked(ctx, locator, asOption(o), dispatch, asOption(o));
  });
  return select;
}

function overflow(el, locator, ctx) {
  const select = h('select', { 'aria-label': 'More actions', 'data-key': `${ctx.key}|${draftKey(locator)}` });
  select.append(h('option', { value: '', selected: true }, '…'));
  for (const o of el.options ?? []) select.append(h('option', { value: o.value }, plainText(o.text)));
  select.addEventListener('change', () => {
    const o = (el.options ?? []).find((x) => x.value === select.value);
    if (o) picked(ctx, locator, asOption(o), true, asOption(o));
  });
  return select;
}

function radios(el, locator, ctx, dispatch, id, label, multi) {
  const now = current(ctx, locator);
  const chosen = new Set(
    multi
      ? (now.draft ?? (now.entry?.selected_options ?? el.initial_options ?? []).map((o) => o.value))
      : [now.draft?.value ?? now.entry?.selected_option?.value ?? el.initial_option?.value],
  );
  const group = h('fieldset', { id, 'aria-label': label });
  const name = nextId('choice');
  for (const o of el.options ?? []) {
    const input = h('input', {
      type: multi ? 'checkbox' : 'radio',
      name,
      value: o.value,
      checked: chosen.has(o.value),
      'data-key': `${ctx.key}|${draftKey(locator)}|${o.value}`,
    });
    input.addEventListener('change', () => {
      if (multi) {
        const values = [...group.querySelectorAll('input:checked')].map((i) => i.value);
        picked(ctx, locator, values, dispatch && input.checked, asOption(o));
      } else picked(ctx, locator, asOption(o), dispatch, asOption(o));
    });
    group.append(h('label', {}, input, ' ', h('span', { html: textHtml(o.text, state.screen.names) })));
    if (o.description) group.append(h('div', { class: 'hint', html: textHtml(o.description, state.screen.names) }));
  }
  return group;
}

/** An external select: a combobox whose options come from the app through block_suggestion. */
function externalSelect(el, locator, ctx, dispatch, id, label) {
  const now = current(ctx, locator);
  const chosen = now.draft ?? (now.entry?.selected_option ? asOption(now.entry.selected_option) : undefined);
  const listId = nextId('options');
  const input = h('input', {
    id,
    type: 'text',
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': 'false',
    'aria-controls': listId,
    'aria-label': label,
    placeholder: plainText(el.placeholder) || 'Type to search',
    'data-key': `${ctx.key}|${draftKey(locator)}`,
  });
  const list = h('ul', { id: listId, role: 'listbox', hidden: true });
  const shown = h('div', { class: 'chosen muted' }, chosen ? `Chosen: ${chosen.text ?? chosen.value}` : '');
  let options = [];
  let active = -1;
  let timer;
  const choose = (o) => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.value = '';
    shown.textContent = `Chosen: ${o.text}`;
    picked(ctx, locator, o, dispatch, o);
  };
  const draw = () => {
    list.replaceChildren(
      ...options.map((o, i) =>
        h(
          'li',
          {
            role: 'option',
            id: `${listId}-${i}`,
            'aria-selected': i === active ? 'true' : 'false',
            onmousedown: () => choose(o),
          },
          o.text,
        ),
      ),
    );
    list.hidden = options.length === 0;
    input.setAttribute('aria-expanded', options.length ? 'true' : 'false');
    if (active >= 0) input.setAttribute('aria-activedescendant', `${listId}-${active}`);
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const query = input.value;
    if (query.length < (el.min_query_length ?? 3)) {
      options = [];
      return draw();
    }
    timer = setTimeout(async () => {
      const r = await act(
        { op: 'suggest', surface: ctx.surface, element: locator, query, values: valuesFor(ctx.surface) },
        `block_suggestion: "${query}"`,
      );
      if (!r || input.value !== query) return;
      options = (r.options ?? []).map(asOption);
      active = options.length ? 0 : -1;
      draw();
    }, 250);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!options.length) return;
      active = (active + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
      draw();
    } else if (e.key === 'Enter' && active >= 0 && options[active]) {
      e.preventDefault();
      choose(options[active]);
    } else if (e.key === 'Escape' && !list.hidden) {
      e.preventDefault();
      e.stopPropagation();
      options = [];
      draw();
    }
  });
  input.addEventListener('blur', () => setTimeout(() => (list.hidden = true), 150));
  return h('div', { class: 'combo' }, input, list, shown);
}

function usersSelect(el, locator, ctx, id, label) {
  const now = current(ctx, locator);
  const chosen = now.draft ?? now.entry?.selected_user ?? el.initial_user;
  const select = h('select', { id, 'aria-label': label, 'data-key': `${ctx.key}|${draftKey(locator)}` });
  select.append(
    h('option', { value: '', disabled: true, selected: !chosen }, plainText(el.placeholder) || 'Choose a person'),
  );
  for (const p of state.people)
    select.append(h('option', { value: p.id, selected: p.id === chosen }, `${p.realName} (@${p.name})`));
  select.addEventListener('change', () => setDraft(ctx, locator, select.value));
  return select;
}

function textControl(el, locator, ctx, id, label) {
  const now = current(ctx, locator);
  const value = now.draft ?? now.entry?.value ?? el.initial_value ?? '';
  const types = {
    number_input: 'number',
    email_text_input: 'email',
    url_text_input: 'url',
    datepicker: 'date',
    timepicker: 'time',
  };
  const attrs = {
    id,
    'aria-label': label,
    placeholder: plainText(el.placeholder) || undefined,
    maxlength: el.max_length,
    minlength: el.min_length,
    'data-key': `${ctx.key}|${draftKey(locator)}`,
  };
  const control = el.multiline
    ? h('textarea', attrs)
    : h('input', { ...attrs, type: types[el.type] ?? 'text', step: el.is_decimal_allowed ? 'any' : undefined });
  control.value = el.type === 'datepicker' ? (now.draft ?? now.entry?.selected_date ?? el.initial_date ?? '') : value;
  control.addEventListener('input', () => setDraft(ctx, locator, control.value));
  return control;
}

/** The control for one interactive element; `dispatch`: a pick is sent at once (block_actions). */
function control(el, block, ctx, dispatch, id, label) {
  const locator = { blockId: block.block_id, actionId: el.action_id };
  switch (el.type) {
    case 'button':
      return button(el, block, ctx);
    case 'static_select':
      return staticSelect(el, locator, ctx, dispatch, id, label);
    case 'external_select':
      return externalSelect(el, locator, ctx, dispatch, id, label);
    case 'radio_buttons':
      return radios(el, locator, ctx, dispatch, id, label, false);
    case 'checkboxes':
      return radios(el, locator, ctx, dispatch, id, label, true);
    case 'overflow':
      return overflow(el, locator, ctx);
    case 'users_select':
      return usersSelect(el, locator, ctx, id, label);
    case 'plain_text_input':
    case 'number_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'datepicker':
    case 'timepicker':
      return textControl(el, locator, ctx, id, label);
    case 'image':
      return image(el, ctx);
    default:
      return h('span', { class: 'muted' }, `(${el.type}: not shown here)`);
  }
}

function fileUrl(fileId) {
  return `/workspace/api/files/${encodeURIComponent(fileId)}?as=${encodeURIComponent(state.person)}`;
}

function image(el, _ctx) {
  let src = el.image_url;
  const ref = el.slack_file;
  if (ref) {
    const f = state.screen.files.find((x) => x.id === ref.id || x.urlPrivate === ref.url || x.permalink === ref.url);
    src = f ? fileUrl(f.id) : undefined;
  }
  if (!src || !(src.startsWith('/') || /^(https:|data:image\/)/.test(src)))
    return h('span', { class: 'muted' }, `(image: ${el.alt_text ?? ''})`);
  return h('img', { src, alt: el.alt_text ?? '', referrerpolicy: 'no-referrer' });
}

function inputBlock(block, ctx) {
  const el = block.element ?? {};
  const id = nextId('input');
  const label = plainText(block.label);
  const error = ctx.errors?.[block.block_id];
  const errorId = error ? nextId('error') : undefined;
  const ctl = control(el, block, ctx, block.dispatch_action === true, id, label);
  const target = ctl.matches?.('input,select,textarea,fieldset') ? ctl : ctl.querySelector?.('input');
  if (target && errorId) target.setAttribute('aria-describedby', errorId);
  if (target && !block.optional) target.setAttribute('aria-required', 'true');
  const isGroup = el.type === 'radio_buttons' || el.type === 'checkboxes';
  const labelEl = isGroup
    ? h(
        'div',
        { class: 'label', id: `${id}-label` },
        h('strong', {}, label),
        block.optional ? h('span', { class: 'muted' }, ' (optional)') : '',
      )
    : h('label', { for: id }, label, block.optional ? h('span', { class: 'muted' }, ' (optional)') : '');
  if (isGroup) ctl.setAttribute('aria-labelledby', `${id}-label`);
  if (target) target.removeAttribute(isGroup ? 'aria-label' : 'aria-label');
  return h(
    'div',
    { class: `input${error ? ' invalid' : ''}`, 'data-block': block.block_id },
    labelEl,
    ctl,
    block.hint ? h('div', { class: 'hint', html: textHtml(block.hint, state.screen.names) }) : '',
    error ? h('div', { class: 'error', id: errorId, role: 'alert' }, error) : '',
  );
}

function renderBlocks(blocks, ctx) {
  const names = state.screen.names;
  const out = [];
  for (const b of blocks ?? []) {
    switch (b.type) {
      case 'header':
        out.push(
          h('div', { class: 'block header', role: 'heading', 'aria-level': '3', html: textHtml(b.text, names) }),
        );
        break;
      case 'section': {
        const body = h('div', {});
        if (b.text) body.append(h('div', { html: textHtml(b.text, names) }));
        if (b.fields?.length)
          body.append(
            h(
              'div',
              { class: 'fields' },
              b.fields.map((f) => h('div', { html: textHtml(f, names) })),
            ),
          );
        const acc = b.accessory
          ? control(
              b.accessory,
              b,
              ctx,
              true,
              nextId('accessory'),
              plainText(b.accessory.placeholder) || plainText(b.text).slice(0, 60),
            )
          : '';
        out.push(h('div', { class: 'block section' }, body, acc));
        break;
      }
      case 'context':
        out.push(
          h(
            'div',
            { class: 'block context' },
            (b.elements ?? []).map((e) =>
              e.type === 'image' ? image(e, ctx) : h('span', { html: textHtml(e, names) }),
            ),
          ),
        );
        break;
      case 'divider':
        out.push(h('hr', { class: 'block' }));
        break;
      case 'actions':
        out.push(
          h(
            'div',
            { class: 'block actions' },
            (b.elements ?? []).map((e) =>
              control(e, b, ctx, true, nextId('action'), plainText(e.placeholder) || 'Choose'),
            ),
          ),
        );
        break;
      case 'image':
        out.push(
          h(
            'figure',
            { class: 'block' },
            b.title ? h('figcaption', { html: textHtml(b.title, names) }) : '',
            image(b, ctx),
          ),
        );
        break;
      case 'input':
        out.push(inputBlock(b, ctx));
        break;
      default:
        out.push(h('div', { class: 'block muted' }, `(${b.type} block)`));
    }
  }
  return out;
}

// ---------------------------------------------------------------- the screen

const conversation = () => {
  const s = state.screen;
  return s.conversations.find((c) => c.id === state.open[state.person]) ?? s.conversations[0];
};

function drawSidebar() {
  const s = state.screen;
  const open = conversation();
  state.seen[state.person] ??= {};
  const seen = state.seen[state.person];
  if (open) seen[open.id] = open.messages.length;
  const model = s.conversations.map((c) => [
    c.id,
    c.name,
    c.kind,
    c.messages.length - (seen[c.id] ?? 0),
    c.id === open?.id,
  ]);
  const json = JSON.stringify(model);
  if (json === state.rendered.sidebar) return;
  state.rendered.sidebar = json;
  const item = ([id, name, kind, unread, isOpen]) =>
    h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button',
          'aria-current': isOpen ? 'true' : 'false',
          'data-key': `nav|${id}`,
          onclick: () => {
            state.open[state.person] = id;
            draw();
            $('composer-input').focus();
          },
        },
        h('span', {}, kind === 'dm' ? name : `# ${name}`),
        unread > 0 ? h('span', { class: 'badge', 'aria-label': `${unread} new` }, String(unread)) : '',
      ),
    );
  $('channels').replaceChildren(...model.filter((c) => c[2] === 'channel').map(item));
  $('dms').replaceChildren(...model.filter((c) => c[2] === 'dm').map(item));
}

function messageView(m, c) {
  const names = state.screen.names;
  const ctx = { surface: { kind: 'message', channel: m.channel, ts: m.ts }, key: `${m.channel}/${m.ts}`, values: {} };
  const files = m.fileIds
    .map((id) => state.screen.files.find((f) => f.id === id))
    .filter(Boolean)
    .map((f) =>
      f.mimetype.startsWith('image/')
        ? h('figure', { class: 'block' }, h('figcaption', {}, f.title), h('img', { src: fileUrl(f.id), alt: f.title }))
        : h('a', { href: fileUrl(f.id), download: f.name }, f.title),
    );
  const time = new Date(Number(m.ts) * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return h(
    'article',
    {
      class: `msg${m.ephemeral ? ' ephemeral' : ''}`,
      'aria-label': `duo-desk at ${time}${m.ephemeral ? ', only visible to you' : ''}`,
    },
    h(
      'div',
      { class: 'meta' },
      h('strong', {}, 'duo-desk'),
      ' ',
      h('span', { class: 'tag' }, 'APP'),
      ' ',
      h('time', { class: 'muted' }, time),
      m.ephemeral ? h('span', { class: 'muted' }, ' · Only visible to you') : '',
      m.edited ? h('span', { class: 'muted' }, ' (edited)') : '',
      m.threadTs && m.threadTs !== m.ts ? h('span', { class: 'muted' }, ' · reply in thread') : '',
    ),
    m.blocks.length ? renderBlocks(m.blocks, ctx) : h('div', { html: mrkdwn(m.text, names) }),
    files,
    c.kind === 'dm' ? '' : '',
  );
}

/** Redraws a part only when what it shows changed, keeping focus on the same control. */
function redraw(container, fn) {
  const focused = document.activeElement?.dataset?.key;
  fn();
  if (focused) container.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

function drawMessages() {
  const c = conversation();
  if (!c) return;
  const json = JSON.stringify([state.person, c.id, c.messages, state.screen.files, state.screen.names]);
  if (json === state.rendered.messages) return;
  const list = $('messages');
  const atBottom =
    list.scrollHeight - list.scrollTop - list.clientHeight < 80 || !state.rendered.messages.includes(c.id);
  state.rendered.messages = json;
  $('conversation-title').textContent = c.kind === 'dm' ? 'duo-desk (direct messages)' : `# ${c.name}`;
  $('composer-label').textContent = c.kind === 'dm' ? 'Message duo-desk' : `Message #${c.name}`;
  $('composer-input').placeholder =
    c.kind === 'dm' ? '/duo help (in your DM with duo-desk)' : `/duo help (in #${c.name})`;
  redraw(list, () => {
    list.replaceChildren(
      ...(c.messages.length
        ? c.messages.map((m) => messageView(m, c))
        : [h('p', { class: 'muted' }, 'Nothing here yet. Type a /duo command below.')]),
    );
  });
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function drawModal() {
  const s = state.screen;
  const top = s.modals.at(-1);
  for (const id of state.drafts.keys()) if (!s.modals.some((m) => m.id === id)) state.drafts.delete(id);
  const dialog = $('modal');
  if (!top) {
    state.rendered.modal = '';
    showForm(false);
    return;
  }
  const json = JSON.stringify([state.person, top, s.modals.length, s.files]);
  if (json === state.rendered.modal && dialog.open) return;
  const sameView = state.rendered.modal.includes(`"id":"${top.id}"`);
  state.rendered.modal = json;
  const ctx = { surface: { kind: 'view', id: top.id }, key: `view/${top.id}`, values: top.values, errors: top.errors };
  $('modal-title').innerHTML = emoji(esc(plainText(top.title)));
  $('modal-depth').textContent = s.modals.length > 1 ? `${s.modals.length} of ${s.modals.length}` : '';
  $('modal-close').textContent = plainText(top.close) || (s.modals.length > 1 ? 'Back' : 'Cancel');
  $('modal-submit').hidden = !top.submit;
  $('modal-submit').textContent = plainText(top.submit) || 'Submit';
  const body = $('modal-body');
  redraw(body, () => body.replaceChildren(...renderBlocks(top.blocks, ctx)));
  showForm(true);
  if (!sameView || !body.contains(document.activeElement)) {
    const first = body.querySelector('.invalid input, .invalid textarea, input, textarea, select, button');
    (first ?? $('modal-submit')).focus();
  }
}

/**
 * Opens or closes the form over the Slack window only: the rest of the window is veiled and inert (no focus, no
 * clicks), while the phone and wire panels stay usable, as a phone on the desk would.
 */
function showForm(open) {
  const dialog = $('modal');
  $('veil').hidden = !open;
  for (const el of document.querySelectorAll('.sidebar, .conversation')) el.inert = open;
  if (open && !dialog.open) dialog.show();
  if (!open && dialog.open) {
    dialog.close();
    $('composer-input').focus();
  }
}

function draw() {
  if (!state.screen) return;
  drawSidebar();
  drawMessages();
  drawModal();
}

/** The checks Slack's client makes before it sends a form (required, lengths); marks the inputs it refuses. */
function clientProblems(top) {
  const problems = {};
  for (const b of top.blocks) {
    if (b.type !== 'input' || !b.element) continue;
    const locator = { blockId: b.block_id, actionId: b.element.action_id };
    const now = current({ surface: { kind: 'view', id: top.id }, values: top.values }, locator);
    const v =
      now.draft ??
      now.entry?.value ??
      now.entry?.selected_option ??
      now.entry?.selected_user ??
      now.entry?.selected_date ??
      (now.entry?.selected_options?.length ? now.entry.selected_options : undefined);
    const empty = v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
    if (empty) {
      if (!b.optional) problems[b.block_id] = 'Please complete this required field.';
      continue;
    }
    if (typeof v === 'string' && b.element.min_length && v.length < b.element.min_length)
      problems[b.block_id] = `Please use at least ${b.element.min_length} characters.`;
  }
  return problems;
}

async function submitModal() {
  const top = state.screen.modals.at(-1);
  if (!top) return;
  const problems = clientProblems(top);
  if (Object.keys(problems).length) {
    state.screen.modals[state.screen.modals.length - 1] = { ...top, errors: problems };
    state.rendered.modal = '';
    drawModal();
    return;
  }
  $('modal-submit').disabled = true;
  await act({ op: 'submit', view: top.id, values: draftValues(top.id) }, `view_submission: ${plainText(top.title)}`);
  $('modal-submit').disabled = false;
}

async function closeModal() {
  const top = state.screen?.modals.at(-1);
  if (top) await act({ op: 'close', view: top.id }, `view_closed: ${plainText(top.title)}`);
}

// ---------------------------------------------------------------- the wire panel

function decodeBody(body) {
  const form = new URLSearchParams(body);
  const payload = form.get('payload');
  if (payload) return JSON.stringify(JSON.parse(payload), null, 2);
  return JSON.stringify(Object.fromEntries(form), null, 2);
}

/** A curl that sends the same body as Slack would: signed now, with the local signing secret (Slack's side). */
function curlOf(request) {
  const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  return [
    `SECRET=$(node -p ${q(`require(${JSON.stringify(state.wire.stateFile)}).signingSecret`)})`,
    `BODY=${q(request.body)}`,
    'TS=$(date +%s)',
    `SIG="v0=$(printf 'v0:%s:%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)"`,
    `curl -sS ${q(request.url)} -H 'content-type: application/x-www-form-urlencoded' \\`,
    `  -H "x-slack-request-timestamp: $TS" -H "x-slack-signature: $SIG" --data-raw "$BODY"`,
  ].join('\n');
}

function logWire(summary, result) {
  const n = ++state.wireCount;
  const pre = h('pre', { hidden: true });
  pre.textContent = [
    `POST ${result.request.url}`,
    ...Object.entries(result.request.headers).map(([k, v]) => `${k}: ${v}`),
    '',
    decodeBody(result.request.body),
    '',
    `→ HTTP ${result.status}${result.body === undefined ? '' : `\n${JSON.stringify(result.body, null, 2)}`}`,
  ].join('\n');
  const show = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false' }, 'Show payload');
  show.addEventListener('click', () => {
    pre.hidden = !pre.hidden;
    show.setAttribute('aria-expanded', String(!pre.hidden));
    show.textContent = pre.hidden ? 'Show payload' : 'Hide payload';
  });
  const copy = h('button', { type: 'button', class: 'btn' }, 'Copy as curl');
  copy.addEventListener('click', async () => {
    const text = curlOf(result.request);
    try {
      await navigator.clipboard.writeText(text);
      copy.textContent = 'Copied';
    } catch {
      pre.hidden = false;
      pre.textContent = text;
      copy.textContent = 'Shown below';
    }
    setTimeout(() => (copy.textContent = 'Copy as curl'), 2000);
  });
  $('wire').prepend(
    h(
      'li',
      { 'aria-label': `request ${n}` },
      h('div', {}, `${summary} → ${result.status}`),
      h('div', { class: 'actions' }, show, copy),
      pre,
    ),
  );
  while ($('wire').children.length > 40) $('wire').lastChild.remove();
}

// ---------------------------------------------------------------- the phone

function drawPhone(phone) {
  const select = $('duo-user');
  if (!phone.simulator) {
    $('pushes').replaceChildren(h('p', {}, 'Local mode uses your Duo tenant: answer pushes on the real phone.'));
    select.disabled = true;
    return;
  }
  const wanted = state.duoUser || phone.users[0]?.username;
  select.replaceChildren(
    ...phone.users.map((u) =>
      h(
        'option',
        { value: u.username, selected: u.username === wanted },
        `${u.username}${u.pending ? ` (${u.pending} push waiting)` : ''}`,
      ),
    ),
  );
  $('duo-purpose').textContent = phone.users.find((u) => u.username === wanted)?.purpose ?? '';
  const pushes = phone.pushes.map((p) => {
    const answer = (result, label) =>
      h(
        'button',
        {
          type: 'button',
          class: `btn${result === 'approve' ? ' primary' : ' danger'}`,
          onclick: async () => {
            try {
              await post('/workspace/api/phone/answer', { pushId: p.pushId, result });
              showAlert('');
            } catch (e) {
              showAlert(e.message);
            }
          },
        },
        label,
      );
    return h(
      'div',
      { class: 'push', role: 'group', 'aria-label': `Duo Push for ${p.username}` },
      h('div', {}, h('strong', {}, 'Duo Push: '), `verification for ${p.username} on ${p.device}`),
      h('div', { class: 'muted' }, 'Confirmation code'),
      h('div', { class: 'code', 'aria-label': `Confirmation code ${p.confirmationCode}` }, p.confirmationCode),
      h(
        'div',
        { class: 'actions' },
        answer('approve', 'Approve'),
        answer('deny', 'Deny'),
        answer('fraud', 'Report fraud'),
      ),
    );
  });
  $('pushes').replaceChildren(
    ...(pushes.length ? pushes : [h('p', { class: 'muted' }, 'No push waiting on this phone.')]),
  );
  $('outbox').replaceChildren(
    ...(phone.enrollmentEmails.length
      ? phone.enrollmentEmails.map((e) =>
          h(
            'li',
            {},
            `To ${e.username} at ${e.email}, ${new Date(e.sentAt).toLocaleTimeString()}, link valid ${e.validDays} days`,
          ),
        )
      : [h('li', { class: 'muted' }, 'none yet')]),
  );
}

function watchPhone() {
  state.phoneStream?.close();
  state.phoneStream = new EventSource(`/workspace/api/phone/stream?user=${encodeURIComponent(state.duoUser)}`);
  state.phoneStream.addEventListener('phone', (e) => drawPhone(JSON.parse(e.data)));
}

// ---------------------------------------------------------------- the person

function watchScreen() {
  state.stream?.close();
  state.screen = undefined;
  state.rendered = { sidebar: '', messages: '', modal: '' };
  $('connection').textContent = 'connecting…';
  const stream = new EventSource(`/workspace/api/stream?as=${encodeURIComponent(state.person)}`);
  state.stream = stream;
  stream.addEventListener('screen', (e) => {
    state.screen = JSON.parse(e.data);
    $('connection').textContent = 'live';
    draw();
  });
  stream.addEventListener('error', () => {
    $('connection').textContent = 'reconnecting…';
  });
}

function choosePerson(id) {
  state.person = id;
  const p = state.people.find((x) => x.id === id);
  $('person-role').textContent = p
    ? p.role
      ? `${p.role}${p.approver ? ', approver' : ''}`
      : p.otherWorkspace
        ? 'from another workspace'
        : 'no duo-desk role'
    : '';
  const url = new URL(location.href);
  url.searchParams.set('as', id);
  history.replaceState(null, '', url);
  showForm(false);
  watchScreen();
}

async function main() {
  const dir = await fetch('/workspace/api/directory').then((r) => r.json());
  state.people = dir.people;
  state.wire = dir.wire;
  const select = $('person');
  const wanted = new URL(location.href).searchParams.get('as');
  const first = state.people.some((p) => p.id === wanted) ? wanted : 'U234';
  for (const p of state.people) {
    const what = p.role
      ? `${p.role}${p.approver ? ', approver' : ''}`
      : p.otherWorkspace
        ? 'another workspace'
        : 'no role';
    select.append(h('option', { value: p.id, selected: p.id === first }, `${p.realName} (${what})`));
  }
  select.addEventListener('change', () => choosePerson(select.value));
  choosePerson(first);

  $('duo-user').addEventListener('change', () => {
    state.duoUser = $('duo-user').value;
    watchPhone();
  });
  state.duoUser = 'bob';
  watchPhone();

  $('composer').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('composer-input');
    const text = input.value.trim();
    const c = state.screen && conversation();
    if (!text) return;
    if (!c) return showAlert('Still connecting to duo-desk: try again in a moment.');
    const r = await act({ op: 'command', channel: c.id, text }, `slash command: ${text}`);
    if (r) input.value = '';
  });
  $('modal-form').addEventListener('submit', (e) => {
    e.preventDefault();
    submitModal();
  });
  $('modal-close').addEventListener('click', () => closeModal());
  $('modal').addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    e.preventDefault();
    closeModal();
  });
}

main().catch((e) => showAlert(`The local workspace could not start: ${e.message}`));
