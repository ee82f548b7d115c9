// The serial bridge's ports (/api/bridge). Separate from app.js: the bridge is
// optional, changes slowly and is read from another process, so it is polled
// every 5 s instead of riding on the once-a-second event stream. When the
// gateway has no bridgeStatusUrl the section stays hidden and polling stops.
(() => {
  const $ = (id) => document.getElementById(id);
  const section = $('bridge');
  const ports = $('bridgePorts');
  const meta = $('bridgeMeta');
  const error = $('bridgeError');
  error.style.color = '#b3261e';
  error.style.fontWeight = '600';

  function cell(row, text) {
    const td = document.createElement('td');
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function render(view) {
    section.hidden = false;
    section.dataset.reachable = String(view.reachable);
    error.textContent = view.reachable ? '' : `Bridge unreachable: ${view.error ?? 'unknown'}`;
    const s = view.status;
    meta.textContent = s
      ? `${s.bridgeId} · up ${Math.round(s.uptimeSeconds)} s · buffer ${s.buffer.messages} msg` +
        ` · ${s.gateway.devicesConnected} device(s) on MQTT`
      : '';
    const rows = (s?.ports ?? []).map((p) => {
      const tr = document.createElement('tr');
      tr.dataset.port = p.path;
      cell(tr, p.path);
      const state = cell(tr, view.reachable ? p.state : `${p.state} (stale)`);
      state.className = `state-${p.state}`;
      cell(tr, String(p.baudRate));
      cell(tr, p.device ? p.device.id : '–');
      cell(tr, p.device ? p.device.firmware : '–');
      cell(tr, p.device ? (p.device.connected ? 'yes' : 'no') : '–');
      cell(tr, String(p.bytesIn));
      cell(tr, String(p.openFailures));
      cell(tr, p.lastError ?? '');
      return tr;
    });
    ports.replaceChildren(...rows);
  }

  async function poll() {
    try {
      const res = await fetch('/api/bridge', { headers: { accept: 'application/json' } });
      if (!res.ok) return setTimeout(poll, 5000);
      const view = await res.json();
      if (!view.configured) return; // nothing to show, nothing to poll
      render(view);
    } catch {
      // the gateway itself is unreachable: app.js says so in the footer
    }
    setTimeout(poll, 5000);
  }
  poll();
})();
