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

  const SVG = 'http://www.w3.org/2000/svg';

  /**
   * The graph's nodes grouped into chains (runs of nodes each with one input from the previous one,
   * which has no other output), in data-flow order, each chain with its column: one more than the
   * furthest chain it reads from. Branches start new chains, so a topology fits a screen.
   */
  function layout(nodes, edges) {
    const out = new Map();
    const inc = new Map();
    for (const n of nodes) {
      out.set(n.id, []);
      inc.set(n.id, []);
    }
    for (const e of edges) {
      if (!out.has(e.from) || !inc.has(e.to)) continue;
      out.get(e.from).push(e.to);
      inc.get(e.to).push(e.from);
    }
    // Kahn's order; nodes left over (a cycle, which build() cannot make) follow in their own order.
    const pending = new Map(nodes.map((n) => [n.id, inc.get(n.id).length]));
    const queue = nodes.filter((n) => pending.get(n.id) === 0).map((n) => n.id);
    const order = [];
    while (queue.length) {
      const id = queue.shift();
      order.push(id);
      for (const t of out.get(id)) {
        pending.set(t, pending.get(t) - 1);
        if (pending.get(t) === 0) queue.push(t);
      }
    }
    for (const n of nodes) if (!order.includes(n.id)) order.push(n.id);
    const chainOf = new Map();
    const chains = [];
    for (const id of order) {
      const ins = inc.get(id);
      const prev = ins.length === 1 && out.get(ins[0]).length === 1 ? chainOf.get(ins[0]) : undefined;
      if (prev) {
        prev.ids.push(id);
        chainOf.set(id, prev);
      } else {
        const c = { ids: [id], column: 0 };
        for (const f of ins) if (chainOf.has(f)) c.column = Math.max(c.column, chainOf.get(f).column + 1);
        chains.push(c);
        chainOf.set(id, c);
      }
    }
    return chains;
  }

  function stepNode(n, st) {
    const state = st ? st.state : 'idle';
    const busy = st ? Math.round(st.busy * 100) : 0;
    const head = el('div', 'head', [
      el('span', 'name', n.name),
      el(
        'span',
        'kind',
        (st && st.model ? 'model · ' : '') + (st ? state + ' ' + busy + '%' : 'no figures yet'),
      ),
    ]);
    const stats = [];
    if (st) {
      stats.push(el('span', 'rate', fmt(st.recordsPerSec) + ' rec/s · ' + st.total.toLocaleString('en')));
      if (st.inFlight !== null) stats.push(el('span', 'inflight', 'in flight ' + st.inFlight));
      if (st.meanBatch !== null) stats.push(el('span', 'batch', 'batch ' + st.meanBatch));
      if (st.latencyMs !== null)
        stats.push(el('span', 'latency', fmt(st.latencyMs) + ' ms' + (st.model ? '/batch' : '')));
    }
    const bar = el('div', 'bar', [el('span')]);
    bar.firstChild.style.width = busy + '%';
    const node = el('div', 'node step ' + state, [head, el('div', 'stats', stats), bar]);
    node.dataset.step = n.name;
    node.dataset.state = state;
    return node;
  }

  function renderGraph(s) {
    const g = s.graph;
    // Earlier servers sent sources, steps and sinks only: show them unconnected.
    const nodes = g.nodes || [
      ...g.sources.map((name) => ({ id: 'source:' + name, kind: 'source', name })),
      ...g.steps.map((st) => ({ id: 'step:' + st.step, kind: 'step', name: st.step })),
      ...g.sinks.map((name) => ({ id: 'sink:' + name, kind: 'sink', name })),
    ];
    const edges = g.edges || [];
    const figures = new Map(g.steps.map((st) => [st.step, st]));
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const els = new Map();
    const columns = [];
    for (const chain of layout(nodes, edges)) {
      const box = el(
        'div',
        'chain',
        chain.ids.map((id) => {
          const n = byId.get(id);
          const e =
            n.kind === 'step'
              ? stepNode(n, figures.get(n.name))
              : el('div', 'node io ' + n.kind, [
                  el('div', 'head', [el('span', 'name', n.name), el('span', 'kind', n.kind)]),
                ]);
          e.dataset.node = id;
          els.set(id, e);
          return e;
        }),
      );
      (columns[chain.column] ??= el('div', 'column')).append(box);
    }
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'edges');
    const svgEl = (tag, attrs, children) => {
      const e = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (children) e.append(...children);
      return e;
    };
    svg.append(
      svgEl('defs', {}, [
        svgEl(
          'marker',
          {
            id: 'arrowhead',
            viewBox: '0 0 8 8',
            refX: '7',
            refY: '4',
            markerWidth: '7',
            markerHeight: '7',
            orient: 'auto',
          },
          [svgEl('path', { d: 'M0,0 L8,4 L0,8 z' })],
        ),
      ]),
    );
    const box = $('graph');
    box.replaceChildren(svg, el('div', 'columns', columns.filter(Boolean)));
    // Edges are drawn once the nodes are laid out, between their boxes (within a chain: down its left side).
    const at = box.getBoundingClientRect();
    const x = (v) => v - at.left + box.scrollLeft;
    const y = (v) => v - at.top + box.scrollTop;
    svg.setAttribute('width', String(box.scrollWidth));
    svg.setAttribute('height', String(box.scrollHeight));
    for (const e of edges) {
      const a = els.get(e.from);
      const b = els.get(e.to);
      if (!a || !b) continue;
      const ra = a.getBoundingClientRect();
      const rb = b.getBoundingClientRect();
      let d;
      if (a.parentNode === b.parentNode && a.nextSibling === b) {
        const x0 = x(ra.left) + 10;
        d = 'M' + x0 + ',' + y(ra.bottom) + ' L' + x0 + ',' + y(rb.top);
      } else {
        const x0 = x(ra.right);
        const y0 = y(ra.top + ra.height / 2);
        const x1 = x(rb.left);
        const y1 = y(rb.top + rb.height / 2);
        const dx = Math.max(20, (x1 - x0) / 2);
        d =
          'M' +
          x0 +
          ',' +
          y0 +
          ' C' +
          (x0 + dx) +
          ',' +
          y0 +
          ' ' +
          (x1 - dx) +
          ',' +
          y1 +
          ' ' +
          x1 +
          ',' +
          y1;
      }
      const p = document.createElementNS(SVG, 'path');
      p.setAttribute('class', 'edge');
      p.setAttribute('d', d);
      p.setAttribute('marker-end', 'url(#arrowhead)');
      p.dataset.from = e.from;
      p.dataset.to = e.to;
      svg.append(p);
    }
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
