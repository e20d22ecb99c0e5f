// Every specialization with counts; pick one to list its agents (alive first, least loaded first).
import { h, table, statusBadge, agentLink, time, notice, errorText } from '../dom.js';
import { missingScope } from './scope.js';

export function render(container, ctx, { query }) {
  if (!ctx.has('read')) return missingScope(container, 'Registry', 'read', ctx);
  const summary = h('div');
  const detail = h('section', { 'aria-live': 'polite' });
  container.append(h('h1', {}, 'Registry'), summary, detail);

  async function loadSummary() {
    try {
      const { items } = await ctx.api.get('/registry/specializations');
      const { element, body } = table('Specializations', ['Specialization', 'Agents', 'Alive']);
      for (const spec of items) {
        body.append(h('tr', {},
          h('th', { scope: 'row' }, h('a', { href: `#/registry?specialization=${encodeURIComponent(spec.specialization)}` }, spec.specialization)),
          h('td', { class: 'num' }, String(spec.agents)), h('td', { class: 'num' }, String(spec.alive))));
      }
      summary.replaceChildren(items.length ? element : notice('No specializations registered.'));
    } catch (error) {
      summary.replaceChildren(notice(errorText(error), 'error'));
    }
  }

  async function loadAgents(specialization, aliveOnly, cursor, list) {
    try {
      const page = await ctx.api.get('/registry', { specialization, alive: aliveOnly ? 'true' : undefined, cursor, limit: 100 });
      for (const entry of page.items) {
        list.append(h('tr', {},
          h('th', { scope: 'row' }, agentLink(entry.agent_id)), h('td', {}, statusBadge(entry.status)), h('td', { class: 'num' }, entry.load ?? ''),
          h('td', {}, entry.version ?? ''), h('td', {}, (entry.tags ?? []).join(', ')), h('td', {}, entry.description ?? ''), h('td', {}, time(entry.registered_at))));
      }
      return page.next_cursor ?? null;
    } catch (error) {
      detail.append(notice(errorText(error), 'error'));
      return null;
    }
  }

  async function showSpecialization(specialization) {
    const aliveOnly = h('input', { type: 'checkbox', id: 'registry-alive' });
    const { element, body } = table(`Agents with ${specialization}`, ['Agent', 'Status', 'Load', 'Version', 'Tags', 'Description', 'Registered']);
    const more = h('button', { type: 'button', hidden: true }, 'More');
    let cursor = null;
    const reload = async () => {
      body.replaceChildren();
      cursor = await loadAgents(specialization, aliveOnly.checked, null, body);
      more.hidden = !cursor;
    };
    more.addEventListener('click', async () => { cursor = await loadAgents(specialization, aliveOnly.checked, cursor, body); more.hidden = !cursor; });
    aliveOnly.addEventListener('change', reload);
    detail.replaceChildren(h('h2', {}, specialization), h('label', { for: 'registry-alive' }, aliveOnly, ' Alive only'), element, more);
    await reload();
  }

  loadSummary();
  const picked = query.get('specialization');
  if (picked) showSpecialization(picked);
}
