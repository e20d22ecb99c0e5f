// One agent: its session, labels, specializations, children, commands seen while open, a steer form and a kill.
import { h, table, statusBadge, agentLink, time, labelsText, notice, errorText, countersText, progressText, ALIVE } from '../dom.js';
import { seg } from '../api.js';
import { missingScope } from './scope.js';
import { logsPanel } from '../logs.js';
import { killDialog } from './kill.js';

/** A command's states in order; a late event never moves a command backwards. */
const RANK = { queued: 0, delivered: 1, acked: 2, rejected: 2, failed: 2, expired: 2 };

export function render(container, ctx, { param: agentId }) {
  if (!ctx.has('read')) return missingScope(container, 'Agent', 'read', ctx);
  const details = h('div', { class: 'details' });
  const message = h('div', { id: 'agent-message' });
  const commands = new Map();
  const { element: commandTable, body: commandBody } = table('Commands seen since this page opened', ['Command', 'Kind', 'What', 'Status', 'Queued', 'Delivered', 'Completed']);
  const steer = steerForm(ctx, agentId, (command) => track(command), message);
  const killButton = h('button', { type: 'button', class: 'danger', onclick: () => killDialog(ctx, agentId, message, reload) }, 'Kill…');
  const logs = h('div');
  container.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/topology' }, 'Topology'), ' / ', agentId),
    h('h1', {}, 'Agent ', h('code', {}, agentId)),
    message, details,
    h('section', { 'aria-labelledby': 'steer-title' }, h('h2', { id: 'steer-title' }, 'Steer'), steer),
    h('section', { 'aria-labelledby': 'commands-title' }, h('h2', { id: 'commands-title' }, 'Commands'), commandTable),
    h('section', { 'aria-labelledby': 'kill-title' }, h('h2', { id: 'kill-title' }, 'Kill'),
      h('p', {}, 'Ends this agent (and, by default, every agent under it). You will be asked to confirm.',
        ctx.has('kill') ? null : h('span', { class: 'hint' }, ` This key lacks the 'kill' scope: the server will refuse.`)),
      killButton),
    h('section', { 'aria-labelledby': 'logs-title' }, h('h2', { id: 'logs-title' }, 'Output'), logs));

  function track(command) {
    const known = commands.get(command.command_id);
    if (known && RANK[known.status] > RANK[command.status]) return;
    commands.set(command.command_id, command);
    const tr = commandBody.querySelector(`tr[data-command-id="${CSS.escape(command.command_id)}"]`) ?? h('tr', { dataset: { commandId: command.command_id } });
    tr.dataset.status = command.status;
    tr.replaceChildren(
      h('th', { scope: 'row' }, h('code', {}, command.command_id)),
      h('td', {}, command.kind + (command.mode ? ` (${command.mode})` : '')),
      h('td', {}, command.direction ?? command.text ?? command.reason ?? ''),
      h('td', {}, h('span', { class: `badge command-${command.status}`, dataset: { status: command.status } }, command.status), steps(command.status)),
      h('td', {}, time(command.created_at)),
      h('td', {}, time(command.delivered_at)),
      h('td', {}, time(command.completed_at)));
    if (!tr.isConnected) commandBody.prepend(tr);
  }

  async function reload() {
    try {
      const agent = await ctx.api.get(`/agents/${seg(agentId)}`);
      details.replaceChildren(describe(agent));
    } catch (error) {
      details.replaceChildren(notice(errorText(error), 'error'));
    }
  }

  function onEvent(event) {
    const e = event.detail;
    if (e.agent_id !== agentId) return;
    if (e.type.startsWith('command.') && e.data) track(e.data);
    if (e.type.startsWith('session.') || e.type.startsWith('agent.') || e.type === 'command.queued') reload();
  }

  reload();
  const stopLogs = logsPanel(logs, ctx, agentId);
  ctx.fleet.addEventListener('event', onEvent);
  return () => {
    stopLogs();
    ctx.fleet.removeEventListener('event', onEvent);
  };
}

/** queued → delivered → acked (or the other end it came to), the steps reached marked. */
function steps(status) {
  const end = RANK[status] === 2 ? status : 'acked';
  return h('ol', { class: 'steps', 'aria-label': 'Progress' }, ['queued', 'delivered', end].map((step, i) =>
    h('li', { class: i <= RANK[status] ? 'done' : '', 'aria-current': step === status ? 'step' : null }, step)));
}

function describe(agent) {
  const session = agent.session;
  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value || '—')];
  return h('dl', { class: 'facts', dataset: { agentStatus: agent.status ?? 'none' } },
    row('Status', statusBadge(agent.status, agent.session?.terminating_until ? `terminating until ${agent.session.terminating_until}` : null)),
    row('Alive', agent.alive ? 'yes' : 'no'),
    row('Cluster', agent.cluster),
    row('Parent', agent.parent_id ? agentLink(agent.parent_id) : ''),
    row('Children', agent.children?.length ? h('span', {}, agent.children.flatMap((child, i) => [i ? ', ' : '', agentLink(child)])) : ''),
    row('Labels', labelsText(agent.labels)),
    row('Specializations', (agent.specializations ?? []).map((spec) => spec.name + (spec.version ? ` ${spec.version}` : '')).join(', ')),
    row('Session', session ? h('code', {}, session.session_id) : ''),
    row('TTL', session ? `${session.ttl} s` : ''),
    row('Load', session?.load ?? ''),
    row('Progress', progressText(session?.progress)),
    row('Budget', session?.budget ? `${countersText(session.budget)} — used ${countersText(session.budget_used ?? {}) || 'nothing'}${session.budget_alert ? ` (${session.budget_alert})` : ''}` : ''),
    row('Started', session ? time(session.started_at) : ''),
    row('Last seen', session ? time(session.last_seen) : ''),
    row('Expires', session && ALIVE.has(session.status) ? time(session.expires_at) : ''),
    row('Ended', session?.ended_at ? [time(session.ended_at), ' ', session.end_reason ?? ''] : ''));
}

function steerForm(ctx, agentId, track, message) {
  const form = h('form', { class: 'steer', 'aria-label': 'Steer this agent' },
    h('div', { class: 'field wide' }, h('label', { for: 'steer-direction' }, 'Direction'),
      h('textarea', { id: 'steer-direction', name: 'direction', required: true, maxlength: '4000', rows: '2', placeholder: 'west, or any instruction' })),
    h('div', { class: 'field' }, h('label', { for: 'steer-mode' }, 'Mode'),
      h('select', { id: 'steer-mode', name: 'mode' }, ['inject', 'interrupt', 'enqueue'].map((mode) => h('option', { value: mode }, mode)))),
    h('div', { class: 'field check' }, h('input', { type: 'checkbox', id: 'steer-offline', name: 'queue_if_offline' }),
      h('label', { for: 'steer-offline' }, 'Queue if the agent is offline')),
    h('button', { type: 'submit' }, 'Send steer'),
    ctx.has('steer') ? null : h('p', { class: 'hint' }, `This key lacks the 'steer' scope: the server will refuse.`));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { agent_id: agentId, direction: form.elements.direction.value, mode: form.elements.mode.value };
    if (form.elements.queue_if_offline.checked) body.queue_if_offline = true;
    try {
      const command = await ctx.api.post('/steer', body);
      track(command);
      message.replaceChildren(notice(`Steer ${command.command_id} ${command.status}.`));
      form.elements.direction.value = '';
    } catch (error) {
      message.replaceChildren(notice(`Steer refused: ${errorText(error)}`, 'error'));
    }
  });
  return form;
}
