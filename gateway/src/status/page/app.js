// The status page: one EventSource (one status document per second), the
// device table fetched a page at a time, admin actions as POSTs with the CSRF
// token. No framework: elements are built once and their text updated.

const $ = (id) => document.getElementById(id);
const fmt = (n) =>
  n === null || n === undefined ? '–' : Number(n).toLocaleString('en', { maximumFractionDigits: 1 });
const bytes = (b) => {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = b;
  while (v >= 1000 && i < u.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${u[i]}`;
};
const age = (s) => {
  if (s === null || s === undefined) return '–';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
};
const ago = (ms, now) => (ms ? `${age(Math.max(0, now - ms) / 1000)} ago` : '–');
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};

const POINTS = 900;
const history = { t: [], in: [], out: [], backlog: {} };
let chart = null;
const cards = new Map();
let now = Date.now();

// --- admin actions (the cookie carries the token; the CSRF token comes from /api/session)
let csrf = null;
async function post(path) {
  if (!csrf) csrf = (await (await fetch('/api/session')).json()).csrfToken;
  const res = await fetch(path, { method: 'POST', headers: { 'x-csrf-token': csrf } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}
function say(text, bad) {
  const n = $('notice');
  n.textContent = text;
  n.className = bad ? 'bad' : '';
}
async function act(path, done) {
  try {
    say(done(await post(path)), false);
  } catch (err) {
    say(`${path}: ${err.message}`, true);
  }
}

// --- charts
function lineChart(target, series, height, width) {
  return new uPlot(
    {
      width,
      height,
      series: [{}, ...series],
      // whole seconds at least: points are one per second, so sub-second ticks say nothing
      axes: [{ incrs: [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600] }, { size: 60 }],
      legend: { show: series.length > 1 },
    },
    [[], ...series.map(() => [])],
    target,
  );
}
function renderCharts() {
  if (!chart) {
    const w = Math.min(1060, $('chart').clientWidth || window.innerWidth - 40);
    chart = lineChart(
      $('chart'),
      [
        { label: 'in', stroke: '#1565c0' },
        { label: 'out', stroke: '#2e7d32' },
      ],
      220,
      w,
    );
  }
  chart.setData([history.t, history.in, history.out]);
  for (const [name, c] of cards) {
    // built here, after every card is laid out, so each chart takes its own card's width
    c.chart ??= lineChart(
      c.chartBox,
      [{ label: 'backlog', stroke: '#6a1b9a' }],
      110,
      c.chartBox.clientWidth || 260,
    );
    c.chart.setData([history.t, history.backlog[name] ?? history.t.map(() => null)]);
  }
}
function addPoint(p) {
  history.t.push(p.t);
  history.in.push(p.in);
  history.out.push(p.out);
  for (const [name, v] of Object.entries(p.backlog)) {
    history.backlog[name] ??= Array(history.t.length - 1).fill(null);
    history.backlog[name].push(v);
  }
  if (history.t.length > POINTS) {
    for (const a of [history.t, history.in, history.out, ...Object.values(history.backlog)]) a.shift();
  }
}

// --- sinks: one card per sink, built once
function card(s) {
  const root = el('div', undefined, 'card');
  root.dataset.sink = s.name;
  const h = el('h3', `${s.name} (${s.type}) `);
  const state = el('span', '', 'state');
  const toggle = el('button', '', 'action');
  toggle.type = 'button';
  toggle.addEventListener('click', () => {
    const verb = toggle.dataset.verb;
    act(`/api/sinks/${encodeURIComponent(s.name)}/${verb}`, () => `sink ${s.name}: ${verb}d`);
  });
  h.append(state, toggle);
  const dl = el('dl');
  const error = el('p', '', 'lasterror');
  const chartBox = el('div', undefined, 'minichart');
  root.append(h, dl, error, chartBox);
  $('sinks').append(root);
  return { root, state, toggle, dl, error, chartBox, chart: null };
}
function renderSinks(sinks) {
  for (const s of sinks) {
    const c = cards.get(s.name) ?? cards.set(s.name, card(s)).get(s.name);
    c.root.classList.toggle('alarm', s.state === 'down' || s.fillRatio > 0.8);
    c.state.textContent = s.state;
    c.state.className = `state ${s.state}`;
    c.toggle.dataset.verb = s.state === 'paused' ? 'resume' : 'pause';
    c.toggle.textContent = c.toggle.dataset.verb;
    const rows = [
      [
        'backlog',
        `${fmt(s.backlogMessages)} msgs, ${bytes(s.backlogBytes)} (${Math.round(s.fillRatio * 100)}% of ${bytes(s.maxBytes)})`,
      ],
      ['oldest', age(s.oldestAgeSeconds)],
      ['drain rate', `${fmt(s.drainRate)} msg/s, ETA ${s.etaSeconds === null ? '–' : age(s.etaSeconds)}`],
      ['sent', fmt(s.sent)],
      [
        'dropped',
        Object.entries(s.dropped)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k.replace('_', ' ')} ${fmt(v)}`)
          .join(', ') || 'none',
      ],
    ];
    c.dl.replaceChildren(
      ...rows.flatMap(([k, v]) => {
        const dd = el('dd', v);
        dd.dataset.k = k.replace(' ', '-');
        return [el('dt', k), dd];
      }),
    );
    // an error from before the sink came back is history: shown, but not in alarm red
    c.error.className = s.state === 'up' ? 'lasterror old' : 'lasterror';
    c.error.textContent = s.lastError ? `last error (${ago(s.lastErrorAt, now)}): ${s.lastError}` : '';
  }
}

// --- devices: the server searches and pages; this asks for one page at a time
const PAGE = 50;
let offset = 0;
let loading = false;
async function loadDevices() {
  if (loading) return;
  loading = true;
  try {
    const q = new URLSearchParams({ q: $('search').value, offset: String(offset), limit: String(PAGE) });
    if ($('onlyConnected').checked) q.set('connected', '1');
    const d = await (await fetch(`/api/devices?${q}`)).json();
    offset = d.offset;
    $('devices').replaceChildren(
      ...d.devices.map((x) => {
        const tr = el('tr');
        tr.append(
          el('td', x.id),
          el('td', x.connected ? 'yes' : 'no', x.connected ? 'yes' : 'no'),
          el('td', ago(x.lastSeen, now)),
          el('td', fmt(x.messages)),
          el('td', x.lastError ? `${x.lastError} (${ago(x.lastErrorAt, now)})` : '', 'lasterror'),
        );
        return tr;
      }),
    );
    const pages = Math.max(1, Math.ceil(d.total / PAGE));
    $('page').textContent =
      `page ${Math.floor(offset / PAGE) + 1} of ${pages} (${d.total} shown of ${d.known} known, ${d.connected} connected` +
      `${d.forgotten ? `, ${d.forgotten} forgotten` : ''})`;
    $('prev').disabled = offset === 0;
    $('next').disabled = offset + PAGE >= d.total;
  } finally {
    loading = false;
  }
}

function render(m) {
  const s = m.status;
  now = s.now;
  $('gateway').textContent = s.gatewayId;
  $('meta').textContent = `version ${s.version}, up ${age(s.uptimeSeconds)}`;
  $('clients').textContent = fmt(s.clientsConnected);
  $('rateIn').textContent = fmt(m.rates.in);
  $('rateOut').textContent = fmt(m.rates.out);
  $('disk').textContent = bytes(s.queue.fileBytes);
  $('dead').textContent = fmt(s.queue.deadLetters);
  $('warnings').replaceChildren(...s.warnings.map((w) => el('div', w)));
  document.body.classList.toggle('warn', s.warnings.length > 0);
  renderSinks(s.sinks);
  $('routes').replaceChildren(
    ...s.routes.map((r) => {
      const tr = el('tr');
      tr.append(
        el('td', r.name),
        el('td', r.sink),
        el('td', fmt(r.matched)),
        el('td', fmt(r.passed)),
        el('td', fmt(r.filtered)),
        el('td', fmt(r.failed)),
      );
      return tr;
    }),
  );
  if (m.point) addPoint(m.point);
  renderCharts();
  loadDevices().catch(() => undefined);
  $('conn').textContent = `live, updated ${new Date(s.now).toLocaleTimeString()}`;
}

let typing = null;
$('search').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    offset = 0;
    loadDevices();
  }, 150);
});
$('onlyConnected').addEventListener('change', () => {
  offset = 0;
  loadDevices();
});
$('prev').addEventListener('click', () => {
  offset = Math.max(0, offset - PAGE);
  loadDevices();
});
$('next').addEventListener('click', () => {
  offset += PAGE;
  loadDevices();
});
$('retry').addEventListener('click', () =>
  act(
    '/api/deadletters/retry',
    (r) =>
      `retried ${r.retried} dead letters: ${r.queued} queued, ${r.filtered} filtered, ${r.failed} failed, ${r.skipped} skipped`,
  ),
);

const events = new EventSource('/api/events');
events.addEventListener('history', (e) => {
  const h = JSON.parse(e.data);
  Object.assign(history, { t: h.t, in: h.in, out: h.out, backlog: h.backlog });
});
events.onmessage = (e) => render(JSON.parse(e.data));
events.onerror = () => {
  $('conn').textContent = 'connection lost, retrying…';
};
