// The status page: one EventSource, one render per second. No framework.

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
const age = (s) =>
  s === null
    ? '–'
    : s < 90
      ? `${Math.round(s)} s`
      : s < 5400
        ? `${Math.round(s / 60)} min`
        : `${(s / 3600).toFixed(1)} h`;
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};

let chart = null;
let devices = [];
let page = 0;
const PAGE = 50;

function renderChart(history) {
  const data = [history.t, history.in, history.out];
  if (!chart) {
    chart = new uPlot(
      {
        width: Math.min(1060, window.innerWidth - 40),
        height: 220,
        series: [{}, { label: 'in', stroke: '#1565c0' }, { label: 'out', stroke: '#2e7d32' }],
        axes: [{}, { label: 'msg/s' }],
      },
      data,
      $('chart'),
    );
  } else chart.setData(data);
}

function renderSinks(sinks) {
  const box = $('sinks');
  box.replaceChildren();
  for (const s of sinks) {
    const card = el('div', undefined, 'card');
    card.dataset.sink = s.name;
    const h = el('h3', `${s.name} (${s.type})`);
    h.append(el('span', s.state, `state ${s.state}`));
    card.append(h);
    const dl = el('dl');
    const row = (k, v) => dl.append(el('dt', k), el('dd', v));
    row(
      'backlog',
      `${fmt(s.backlogMessages)} msgs, ${bytes(s.backlogBytes)} (${Math.round(s.fillRatio * 100)}% of ${bytes(s.maxBytes)})`,
    );
    row('oldest', age(s.oldestAgeSeconds));
    row('drain rate', `${fmt(s.drainRate)} msg/s, ETA ${s.etaSeconds === null ? '–' : age(s.etaSeconds)}`);
    row('sent', fmt(s.sent));
    const drops = Object.entries(s.dropped)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ');
    row('dropped', drops || 'none');
    card.append(dl);
    if (s.lastError) card.append(el('p', `last error: ${s.lastError}`, 'lasterror'));
    box.append(card);
  }
}

function renderDevices() {
  const q = $('search').value.trim().toLowerCase();
  const list = q ? devices.filter((d) => d.toLowerCase().includes(q)) : devices;
  const pages = Math.max(1, Math.ceil(list.length / PAGE));
  page = Math.min(page, pages - 1);
  const body = $('devices');
  body.replaceChildren(
    ...list.slice(page * PAGE, page * PAGE + PAGE).map((d) => {
      const tr = el('tr');
      tr.append(el('td', d));
      return tr;
    }),
  );
  $('page').textContent = `page ${page + 1} of ${pages} (${list.length} devices)`;
}

function render(m) {
  const s = m.status;
  $('gateway').textContent = s.gatewayId;
  $('meta').textContent = `version ${s.version}, up ${age(s.uptimeSeconds)}`;
  $('clients').textContent = fmt(s.clientsConnected);
  $('rateIn').textContent = fmt(m.rates.in);
  $('rateOut').textContent = fmt(m.rates.out);
  $('disk').textContent = bytes(s.queue.fileBytes);
  $('dead').textContent = fmt(s.queue.deadLetters);
  $('warnings').replaceChildren(...s.warnings.map((w) => el('div', w)));
  renderSinks(s.sinks);
  $('routes').replaceChildren(
    ...s.routes.map((r) => {
      const tr = el('tr');
      tr.append(el('td', r.name), el('td', r.sink), el('td', fmt(r.matched)));
      return tr;
    }),
  );
  devices = m.devices;
  renderDevices();
  renderChart(m.history);
  $('conn').textContent = `live, updated ${new Date(s.now).toLocaleTimeString()}`;
}

$('search').addEventListener('input', () => {
  page = 0;
  renderDevices();
});
$('prev').addEventListener('click', () => {
  page = Math.max(0, page - 1);
  renderDevices();
});
$('next').addEventListener('click', () => {
  page++;
  renderDevices();
});

const events = new EventSource('/api/events');
events.onmessage = (e) => render(JSON.parse(e.data));
events.onerror = () => {
  $('conn').textContent = 'connection lost, retrying…';
};
