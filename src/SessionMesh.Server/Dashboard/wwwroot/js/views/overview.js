// Counts by status and by specialization, live from the fleet.
import { h, STATUS_ORDER, table, notice } from '../dom.js';
import { missingScope } from './scope.js';

export function render(container, ctx) {
  if (!ctx.has('read')) return missingScope(container, 'Overview', 'read', ctx);
  const cards = h('div', { class: 'cards', role: 'list', 'aria-label': 'Agents by status' });
  const specs = h('div');
  const note = h('div');
  container.append(h('h1', {}, 'Overview'), note, cards, h('h2', {}, 'Specializations'), specs);

  const card = (label, value, status, href) => h('a', { class: `card status-${status}`, role: 'listitem', href, dataset: { count: label } },
    h('span', { class: 'count' }, String(value)), h('span', { class: 'label' }, label));

  function draw() {
    const fleet = ctx.fleet;
    if (!fleet.loaded) {
      note.replaceChildren(notice('Loading…'));
      return;
    }
    const counts = fleet.counts();
    note.replaceChildren(fleet.truncated ? notice('The fleet is larger than the topology limit: counts cover the first agents by id.', 'warn') : '');
    const statuses = [...STATUS_ORDER, 'never joined'].filter((status) => counts.byStatus.has(status) || ['active', 'idle', 'stalled', 'stale'].includes(status));
    cards.replaceChildren(
      card('agents', counts.total, 'total', '#/sessions?filter=all'),
      card('alive', counts.alive, 'active', '#/sessions?filter=alive'),
      ...statuses.map((status) => card(status, counts.byStatus.get(status) ?? 0, status.replace(' ', '-'),
        status === 'never joined' ? '#/topology' : `#/sessions?filter=${['expired', 'left', 'killed', 'superseded'].includes(status) ? 'ended' : status}`)),
      card('orphaned', counts.orphaned, 'orphaned', '#/sessions?filter=orphaned'),
      card('terminating', counts.terminating, 'terminating', '#/topology'));
    const { element, body } = table('Agents per specialization', ['Specialization', 'Agents', 'Alive']);
    for (const spec of fleet.specializations) {
      body.append(h('tr', { dataset: { specialization: spec.specialization } },
        h('td', {}, h('a', { href: `#/sessions?filter=alive&specialization=${encodeURIComponent(spec.specialization)}` }, spec.specialization)),
        h('td', { class: 'num' }, String(spec.agents)),
        h('td', { class: 'num' }, String(spec.alive))));
    }
    specs.replaceChildren(fleet.specializations.length ? element : notice('No specializations registered.'));
  }

  draw();
  ctx.fleet.addEventListener('change', draw);
  return () => ctx.fleet.removeEventListener('change', draw);
}
