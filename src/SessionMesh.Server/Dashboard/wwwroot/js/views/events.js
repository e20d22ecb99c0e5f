// The live event feed (newest first), from the dashboard's one event stream, with a type filter and a pause.
import { h, agentLink, time } from '../dom.js';
import { missingScope } from './scope.js';

const SHOWN = 300;

export function render(container, ctx) {
  if (!ctx.has('read')) return missingScope(container, 'Events', 'read', ctx);
  const filter = h('input', { id: 'events-filter', placeholder: 'session., command.acked, …', spellcheck: 'false' });
  const pause = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Pause');
  const list = h('ol', { class: 'events', reversed: true, 'aria-live': 'off' });
  container.append(h('h1', {}, 'Events'),
    h('div', { class: 'toolbar' }, h('label', { for: 'events-filter' }, 'Type starts with '), filter, pause),
    h('p', { class: 'hint' }, `The last ${SHOWN} events since this tab signed in; new ones appear at the top.`),
    list);

  let paused = false;
  const item = (event) => h('li', { dataset: { type: event.type, revision: String(event.revision) } },
    h('span', { class: 'rev' }, `#${event.revision}`), ' ', time(event.at), ' ', h('strong', {}, event.type), ' ',
    event.agent_id ? agentLink(event.agent_id) : '', ' ',
    h('span', { class: 'muted' }, event.data?.status ?? event.data?.kind ?? ''));
  const shown = (event) => !filter.value || event.type.startsWith(filter.value.trim());
  const drawAll = () => list.replaceChildren(...ctx.fleet.recent.filter(shown).slice(-SHOWN).reverse().map(item));
  const onEvent = (event) => {
    if (paused || !shown(event.detail)) return;
    list.prepend(item(event.detail));
    while (list.children.length > SHOWN) list.lastElementChild.remove();
  };
  filter.addEventListener('input', drawAll);
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (!paused) drawAll();
  });
  drawAll();
  ctx.fleet.addEventListener('event', onEvent);
  return () => ctx.fleet.removeEventListener('event', onEvent);
}
