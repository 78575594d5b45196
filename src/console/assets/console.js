/* global document, EventSource */
// The console page: one EventSource on /api/events, each event a full snapshot (ConsoleSnapshot of
// src/console/liveConsole.ts) that replaces the panels' contents. Text is set with textContent only,
// never parsed as HTML: record text comes from the stream.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en') : String(Math.round(x * 10) / 10));

  /** Creates an element with a class and text (or children). */
  function el(tag, cls, content) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (Array.isArray(content)) e.append(...content);
    else if (content !== undefined && content !== null) e.textContent = String(content);
    return e;
  }

  /** A sentence's segments: entities as <mark data-entity-type>, changed tokens underlined. */
  function sentence(segments) {
    const out = [];
    segments.forEach((s, i) => {
      if (i > 0) out.push(document.createTextNode(' '));
      if (s.type) {
        const m = el('mark', s.changed ? 'changed' : '', s.text);
        m.dataset.entityType = s.type;
        m.title =
          s.type +
          (s.conceptId
            ? ' ' + s.conceptId + (s.conceptScore !== undefined ? ' (' + s.conceptScore + ')' : '')
            : '');
        m.append(el('span', 'etype', s.type));
        if (s.conceptId) {
          m.dataset.conceptId = s.conceptId;
          m.append(el('span', 'cid', s.conceptId));
        }
        out.push(m);
      } else if (s.changed) {
        out.push(el('span', 'changed', s.text));
      } else {
        out.push(document.createTextNode(s.text));
      }
    });
    return out;
  }

  function renderGraph(s) {
    const nodes = [];
    const arrow = () => el('span', 'arrow', '→');
    const io = (name, kind) => el('div', 'node io', [el('div', 'name', name), el('div', 'kind', kind)]);
    for (const src of s.graph.sources) nodes.push(io(src, 'source'), arrow());
    for (const st of s.graph.steps) {
      const bar = el('div', 'bar', [el('span')]);
      bar.firstChild.style.width = Math.round(st.busy * 100) + '%';
      const lines = [
        el('div', 'name', st.step),
        el('div', 'kind', (st.model ? 'model · ' : '') + st.state + ' ' + Math.round(st.busy * 100) + '%'),
        el('div', 'rate', fmt(st.recordsPerSec) + ' rec/s · ' + st.total.toLocaleString('en')),
      ];
      if (st.inFlight !== null) lines.push(el('div', 'inflight', 'in flight ' + st.inFlight));
      if (st.meanBatch !== null) lines.push(el('div', 'batch', 'batch ' + st.meanBatch));
      if (st.latencyMs !== null)
        lines.push(el('div', 'latency', fmt(st.latencyMs) + ' ms' + (st.model ? '/batch' : '')));
      lines.push(bar);
      const node = el('div', 'node step ' + st.state, lines);
      node.dataset.step = st.step;
      node.dataset.state = st.state;
      nodes.push(node, arrow());
    }
    for (const k of s.graph.sinks) nodes.push(io(k, 'sink'));
    if (s.graph.sinks.length === 0 && nodes.length) nodes.pop();
    $('graph').replaceChildren(...nodes);
  }

  function renderRates(s) {
    const c = $('rates');
    const w = (c.width = c.clientWidth || 640);
    const h = c.height;
    const g = c.getContext('2d');
    g.clearRect(0, 0, w, h);
    const pts = s.rates;
    const max = Math.max(1, ...pts.map((p) => Math.max(p.in, p.out)));
    g.fillStyle = '#5d6875';
    g.font = '11px system-ui';
    g.fillText(fmt(max) + '/s', 4, 12);
    if (pts.length < 2) return;
    const t0 = pts[0].t;
    const span = Math.max(1, pts[pts.length - 1].t - t0);
    for (const [key, color] of [
      ['in', '#2e86ab'],
      ['out', '#3a9d5d'],
    ]) {
      g.strokeStyle = color;
      g.lineWidth = 2;
      g.beginPath();
      pts.forEach((p, i) => {
        const x = ((p.t - t0) / span) * (w - 2) + 1;
        const y = h - 2 - (p[key] / max) * (h - 20);
        if (i === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.stroke();
    }
    $('history').textContent = Math.round(span / 1000) + ' s';
  }

  function renderKafka(s) {
    if (!s.kafka) return;
    const rows = s.kafka.partitions.map((p) =>
      el('tr', '', [
        el('td', '', p.topic),
        el('td', 'num', p.partition),
        el('td', 'num lag', p.lag),
        el('td', 'num', p.committed === null ? '—' : p.committed),
        el('td', 'num', p.high),
        el('td', p.paused ? 'paused' : '', p.paused ? 'paused' : 'running'),
      ]),
    );
    const table = el('table', 'partitions', [
      el('thead', '', [
        el(
          'tr',
          '',
          ['topic', 'partition', 'lag', 'committed', 'high', 'state'].map((x) => el('th', '', x)),
        ),
      ]),
      el('tbody', '', rows),
    ]);
    const when = s.kafka.polledAt
      ? 'polled ' + Math.round((s.at - s.kafka.polledAt) / 1000) + ' s ago'
      : 'not polled yet';
    const note = el(
      'p',
      'note',
      'group ' +
        s.kafka.groupId +
        ' · ' +
        when +
        (s.kafka.error ? ' · last poll failed: ' + s.kafka.error : ''),
    );
    $('kafka').replaceChildren(note, table);
  }

  function renderDead(s) {
    const d = s.deadLetters;
    $('dead-reasons').tBodies[0].replaceChildren(
      ...d.byReason.map((r) =>
        el('tr', '', [
          el('td', '', r.stage),
          el('td', '', r.step),
          el('td', '', r.errorClass),
          el('td', 'num', r.count),
        ]),
      ),
    );
    $('dead-recent').replaceChildren(
      ...d.recent.map((r) =>
        el('li', 'dead-letter', [
          el('div', '', [
            el('strong', '', r.stage + ' / ' + r.step + ' '),
            el('span', 'reason', r.errorClass + ': ' + r.reason),
          ]),
          el(
            'div',
            'origin',
            r.origin + (r.key ? ' key ' + r.key : '') + ' · ' + new Date(r.at).toLocaleTimeString(),
          ),
          r.preview ? el('div', 'preview', r.preview) : '',
        ]),
      ),
    );
  }

  function renderPredictions(s) {
    $('predictions').replaceChildren(
      ...s.predictions.map((p) => {
        const li = el('li', 'prediction', [el('span', 'sid', p.id), ...sentence(p.segments)]);
        li.dataset.id = p.id;
        return li;
      }),
    );
  }

  function renderAugmented(s) {
    const a = s.augmented;
    $('validity').textContent =
      a.total === 0
        ? 'no augmented sentences yet'
        : a.valid + ' of ' + a.total + ' valid (' + Math.round((a.validityRate || 0) * 1000) / 10 + '%)';
    $('reject-reasons').replaceChildren(
      ...a.rejectReasons.map((r) => el('li', '', r.reason + ': ' + r.count)),
    );
    $('augmented').tBodies[0].replaceChildren(
      ...a.recent.map((r) =>
        el('tr', 'augmented', [
          el('td', '', r.source ? sentence(r.source) : [el('span', 'empty', r.sourceId + ' (not seen)')]),
          el('td', r.valid ? '' : 'invalid', [
            el('span', 'sid', r.method + (r.valid ? '' : ' · rejected: ' + r.reason)),
            ...sentence(r.segments),
          ]),
        ]),
      ),
    );
  }

  function renderRelations(s) {
    const arg = (x) => {
      const m = el('mark', '', x.text);
      m.dataset.entityType = x.type;
      if (x.conceptId) {
        m.dataset.conceptId = x.conceptId;
        m.append(el('span', 'cid', x.conceptId));
      }
      return m;
    };
    $('relations').tBodies[0].replaceChildren(
      ...s.relations.map((r) =>
        el('tr', 'relation', [
          el('td', 'sid', r.sourceId),
          el('td', '', [arg(r.head)]),
          el('td', '', r.relation),
          el('td', '', [arg(r.tail)]),
          el('td', 'num', r.probability.toFixed(2)),
        ]),
      ),
    );
  }

  function render(s) {
    $('topology').textContent = s.topology;
    $('total-in').textContent = s.totals.in.toLocaleString('en');
    $('total-out').textContent = s.totals.out.toLocaleString('en');
    $('rate-in').textContent = fmt(s.totals.inPerSec);
    $('rate-out').textContent = fmt(s.totals.outPerSec);
    $('total-dead').textContent = s.totals.deadLetters.toLocaleString('en');
    $('uptime').textContent = s.uptimeSec + ' s';
    renderGraph(s);
    renderRates(s);
    renderKafka(s);
    renderDead(s);
    renderPredictions(s);
    renderAugmented(s);
    renderRelations(s);
    // Panels without data for this topology (e.g. relations for ner-tagging) stay visible but say so.
    $('status').dataset.updates = String(Number($('status').dataset.updates || 0) + 1);
  }

  const events = new EventSource('/api/events');
  events.onopen = () => {
    $('status').textContent = 'live';
    $('status').className = 'status live';
  };
  events.onerror = () => {
    $('status').textContent = 'disconnected (the run may have ended); retrying…';
    $('status').className = 'status down';
  };
  events.onmessage = (e) => render(JSON.parse(e.data));
})();
