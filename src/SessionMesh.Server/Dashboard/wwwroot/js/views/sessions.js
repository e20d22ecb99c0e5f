// GET /alive with every filter the API has, cursor paging, and rows that change in place as events arrive.
import { h, table, statusBadge, agentLink, time, labelsText, notice, errorText, progressText, ALIVE } from '../dom.js';
import { missingScope } from './scope.js';

const FILTERS = ['alive', 'active', 'idle', 'stalled', 'stale', 'ended', 'orphaned', 'all'];
const ENDED = new Set(['expired', 'left', 'killed', 'superseded']);
const PAGE_SIZES = ['50', '100', '250', '500'];

export function render(container, ctx, { query }) {
  if (!ctx.has('read')) return missingScope(container, 'Sessions', 'read', ctx);
  const state = {
    filter: FILTERS.includes(query.get('filter')) ? query.get('filter') : 'alive',
    specialization: query.get('specialization') ?? '',
    label: query.getAll('label').join(', '),
    parent_id: query.get('parent_id') ?? '',
    agent_id: query.get('agent_id') ?? '',
    cluster: query.get('cluster') ?? '',
    limit: PAGE_SIZES.includes(query.get('limit')) ? query.get('limit') : '100',
  };
  const field = (name, label, input) => h('div', { class: 'field' }, h('label', { for: `sessions-${name}` }, label), input);
  const input = (name, placeholder) => h('input', { id: `sessions-${name}`, name, value: state[name], placeholder, spellcheck: 'false' });
  const select = (name, options) => {
    const element = h('select', { id: `sessions-${name}`, name }, options.map((option) => h('option', { value: option }, option)));
    element.value = state[name];
    return element;
  };
  const specList = h('datalist', { id: 'sessions-specializations' }, ctx.fleet.specializations.map((spec) => h('option', { value: spec.specialization })));
  const specInput = input('specialization', 'any');
  specInput.setAttribute('list', 'sessions-specializations');
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Session filters' },
    field('filter', 'Status', select('filter', FILTERS)),
    field('agent_id', 'Agent id', input('agent_id', 'search an agent id')),
    field('specialization', 'Specialization', specInput), specList,
    field('label', 'Labels (k=v, comma separated)', input('label', 'team=vision, zone=eu')),
    field('parent_id', 'Parent id', input('parent_id', 'any')),
    ctx.has('admin') ? field('cluster', 'Cluster', input('cluster', ctx.self.cluster)) : null,
    field('limit', 'Rows per page', select('limit', PAGE_SIZES)),
    h('button', { type: 'submit' }, 'Apply'));
  const status = h('div', { class: 'page-status', role: 'status', 'aria-live': 'polite' });
  const fresh = h('div');
  const prev = h('button', { type: 'button', disabled: true }, '← Previous');
  const next = h('button', { type: 'button', disabled: true }, 'Next →');
  const { element: tableElement, body } = table('Sessions', ['Agent', 'Status', 'Parent', 'Specializations', 'Labels', 'Load', 'Progress', 'Started', 'Last seen', 'Expires']);
  container.append(h('h1', {}, 'Sessions'), form, fresh, tableElement, h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, status, next));

  const cursors = [null];
  let page = 0;
  let nextCursor = null;
  let rows = new Map();
  let loading = null;
  let unseen = 0;

  const params = (cursor) => ({
    filter: state.filter,
    specialization: state.specialization,
    label: state.label.split(',').map((label) => label.trim()).filter(Boolean),
    parent_id: state.parent_id,
    agent_id: state.agent_id,
    cluster: state.cluster,
    limit: state.limit,
    cursor,
  });

  function row(session) {
    const tr = h('tr', { dataset: { sessionId: session.session_id, agentId: session.agent_id } });
    fill(tr, session);
    return tr;
  }

  /** A graceful kill was queued: the agent's open session is terminating until its grace period ends. */
  function markTerminating(kill) {
    for (const tr of rows.values()) {
      if (tr.dataset.agentId !== kill.agent_id || !ALIVE.has(tr.dataset.status)) continue;
      const badge = tr.querySelector('.badge');
      if (badge && !badge.textContent.includes('terminating')) badge.append(' · terminating');
    }
  }

  function fill(tr, session) {
    const terminating = session.terminating_until ? 'terminating' : null;
    tr.dataset.status = session.status;
    tr.replaceChildren(
      h('th', { scope: 'row' }, agentLink(session.agent_id)),
      h('td', {}, statusBadge(session.status, terminating)),
      h('td', {}, session.parent_id ? agentLink(session.parent_id) : ''),
      h('td', {}, (session.specializations ?? []).join(', ')),
      h('td', {}, labelsText(session.labels)),
      h('td', { class: 'num' }, session.load ?? ''),
      h('td', { class: 'progress' }, progressText(session.progress)),
      h('td', {}, time(session.started_at)),
      h('td', {}, time(session.last_seen)),
      h('td', {}, ENDED.has(session.status) ? '' : time(session.expires_at)));
  }

  async function load() {
    loading?.abort();
    const controller = new AbortController();
    loading = controller;
    status.textContent = 'Loading…';
    try {
      const result = await ctx.api.get('/alive', params(cursors[page]), { signal: controller.signal });
      if (controller.signal.aborted) return;
      nextCursor = result.next_cursor ?? null;
      rows = new Map(result.items.map((session) => [session.session_id, row(session)]));
      body.replaceChildren(...rows.values());
      unseen = 0;
      fresh.replaceChildren();
      const first = page * Number(state.limit) + 1;
      status.textContent = result.items.length
        ? `Page ${page + 1}: sessions ${first}–${first + result.items.length - 1}${nextCursor ? '' : ' (last page)'}`
        : 'No sessions match.';
      container.dataset.page = String(page + 1);
      prev.disabled = page === 0;
      next.disabled = !nextCursor;
    } catch (error) {
      if (controller.signal.aborted) return;
      body.replaceChildren();
      status.textContent = '';
      fresh.replaceChildren(notice(errorText(error), 'error'));
    }
  }

  /** A session event: update its row in place; a new join that fits is appended on the last page, else counted. */
  function onEvent(event) {
    if (event.detail.type === 'command.queued' && event.detail.data?.kind === 'kill') {
      markTerminating(event.detail.data);
      return;
    }
    if (!event.detail.type.startsWith('session.')) return;
    const session = event.detail.data;
    const existing = rows.get(session.session_id);
    if (existing) {
      fill(existing, session);
      return;
    }
    if (event.detail.type !== 'session.joined' || !matches(session)) return;
    if (!nextCursor && rows.size < Number(state.limit)) {
      const tr = row(session);
      rows.set(session.session_id, tr);
      body.append(tr);
      return;
    }
    unseen++;
    fresh.replaceChildren(h('p', { class: 'notice info', role: 'status' }, `${unseen} new session${unseen === 1 ? '' : 's'} since this page loaded. `,
      h('button', { type: 'button', onclick: () => load() }, 'Reload page')));
  }

  function matches(session) {
    if (!['alive', 'active', 'all'].includes(state.filter) || !ALIVE.has(session.status)) return false;
    if (state.agent_id && session.agent_id !== state.agent_id) return false;
    if (state.parent_id && session.parent_id !== state.parent_id) return false;
    if (state.specialization && !(session.specializations ?? []).includes(state.specialization)) return false;
    if (state.cluster && session.cluster !== state.cluster) return false;
    return params(null).label.every((pair) => {
      const at = pair.indexOf('=');
      return at > 0 && session.labels?.[pair.slice(0, at)] === pair.slice(at + 1);
    });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    for (const name of Object.keys(state)) {
      const element = form.elements.namedItem(name);
      if (element) state[name] = element.value.trim();
    }
    const hash = new URLSearchParams();
    for (const [name, value] of Object.entries(params(null))) {
      for (const one of Array.isArray(value) ? value : [value]) if (one && name !== 'cursor') hash.append(name, one);
    }
    // Keeps the filters in the address (bookmarkable) without re-rendering the view.
    history.replaceState(null, '', `#/sessions?${hash}`);
    cursors.length = 1;
    page = 0;
    load();
  });
  form.elements.namedItem('filter').addEventListener('change', () => form.requestSubmit());
  prev.addEventListener('click', () => { if (page > 0) { page--; load(); } });
  next.addEventListener('click', () => {
    if (!nextCursor) return;
    cursors[page + 1] = nextCursor;
    page++;
    load();
  });

  load();
  ctx.fleet.addEventListener('event', onEvent);
  return () => {
    loading?.abort();
    ctx.fleet.removeEventListener('event', onEvent);
  };
}
