// A small element builder and formatting helpers shared by the views.

/** h('a', {href, class, onclick}, children...): attributes by name; on* are listeners; null/false children skipped. */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else if (name === 'text') element.textContent = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Statuses whose session is alive (the API's "alive" filter). */
export const ALIVE = new Set(['active', 'idle', 'stalled']);

export const STATUS_ORDER = ['active', 'idle', 'stalled', 'stale', 'expired', 'left', 'killed', 'superseded'];

export function statusBadge(status, extra) {
  const label = status ?? 'never joined';
  return h('span', { class: `badge status-${status ?? 'none'}`, dataset: { status: label } }, label, extra ? ` · ${extra}` : null);
}

export function agentLink(agentId) {
  return h('a', { href: `#/agents/${encodeURIComponent(agentId)}`, class: 'agent-link' }, agentId);
}

/** A time of day (the full instant on hover); withDate for instants that may be days away (key expiry). */
export function time(value, withDate = false) {
  if (!value) return '';
  const date = new Date(value);
  const text = withDate
    ? `${date.toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' })} ${date.toLocaleTimeString([], { hour12: false })}`
    : date.toLocaleTimeString([], { hour12: false });
  return h('time', { datetime: value, title: value }, text);
}

export function labelsText(labels) {
  return Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
}

/** A message in a live region: role=alert for errors, status otherwise. */
export function notice(text, kind = 'info') {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function errorText(error) {
  return error?.code ? `${error.message} (${error.code})` : String(error?.message ?? error);
}

/** A table with a caption and column headers; rows are appended to the returned tbody. */
export function table(caption, columns) {
  const body = h('tbody');
  const element = h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map((column) => h('th', { scope: 'col' }, column)))),
      body));
  return { element, body };
}

/** Progress or budget counters as text: "1200 tokens, 3 tool calls, $0.05"; absent ones left out. */
export function countersText(c) {
  return [c.tokens != null && `${c.tokens} tokens`, c.tool_calls != null && `${c.tool_calls} tool calls`, c.turns != null && `${c.turns} turns`,
    c.cost_usd != null && `$${c.cost_usd.toFixed(2)}`, c.runtime != null && `${c.runtime} s`].filter(Boolean).join(', ');
}

/** A session's progress line: its activity and counters ("running tests · 5400 tokens, 2 turns"), or ''. */
export function progressText(p) {
  return p ? [p.activity, countersText(p)].filter(Boolean).join(' · ') : '';
}
