// The kill confirmation: says how many live sub-agents go too, with cascade and force choices.
import { h, notice, errorText } from '../dom.js';
import { seg } from '../api.js';

function liveDescendants(tree) {
  let count = 0;
  for (const child of tree.children ?? []) count += (child.alive ? 1 : 0) + liveDescendants(child);
  return count;
}

export async function killDialog(ctx, agentId, message, done) {
  let descendants = null;
  try {
    descendants = liveDescendants(await ctx.api.get(`/agents/${seg(agentId)}/tree`));
  } catch (error) {
    message.replaceChildren(notice(`Could not read the agent's tree: ${errorText(error)}`, 'error'));
  }
  const summary = h('p', { id: 'kill-summary' });
  const cascade = h('input', { type: 'checkbox', id: 'kill-cascade', checked: true });
  const force = h('input', { type: 'checkbox', id: 'kill-force' });
  const grace = h('input', { type: 'number', id: 'kill-grace', min: '0', max: '3600', value: '10' });
  const reason = h('input', { id: 'kill-reason', maxlength: '1000', placeholder: 'killed by operator' });
  const describe = () => {
    const others = cascade.checked && descendants ? ` and its ${descendants} live sub-agent${descendants === 1 ? '' : 's'}` : '';
    const orphans = !cascade.checked && descendants ? ` Its ${descendants} live sub-agent${descendants === 1 ? '' : 's'} will keep running, orphaned.` : '';
    summary.textContent = `Kill ${agentId}${others}${force.checked ? ', at once' : ', gracefully'}?${orphans}`;
    grace.disabled = force.checked;
  };
  cascade.addEventListener('change', describe);
  force.addEventListener('change', describe);
  const dialog = h('dialog', { class: 'kill-dialog', 'aria-labelledby': 'kill-dialog-title', 'aria-describedby': 'kill-summary' },
    h('form', { method: 'dialog' },
      h('h2', { id: 'kill-dialog-title' }, 'Kill agent'),
      summary,
      h('div', { class: 'field check' }, cascade, h('label', { for: 'kill-cascade' }, 'Cascade: kill its sub-agents too')),
      h('div', { class: 'field check' }, force, h('label', { for: 'kill-force' }, 'Force: end the sessions now, without a grace period')),
      h('div', { class: 'field' }, h('label', { for: 'kill-grace' }, 'Grace period (seconds)'), grace),
      h('div', { class: 'field' }, h('label', { for: 'kill-reason' }, 'Reason'), reason),
      h('div', { class: 'buttons' },
        h('button', { type: 'submit', value: 'cancel' }, 'Cancel'),
        h('button', { type: 'submit', value: 'kill', class: 'danger', id: 'kill-confirm' }, 'Kill'))));
  describe();
  document.body.append(dialog);
  dialog.addEventListener('close', async () => {
    dialog.remove();
    if (dialog.returnValue !== 'kill') return;
    try {
      const outcome = await ctx.api.del(`/agents/${seg(agentId)}`, {
        cascade: cascade.checked ? 'true' : 'false',
        force: force.checked ? 'true' : undefined,
        grace_period: force.checked ? undefined : grace.value,
        reason: reason.value.trim() || undefined,
      });
      const killed = outcome.killed.map((k) => `${k.agent_id} (${k.status})`).join(', ');
      message.replaceChildren(notice(outcome.status === 'already_ended'
        ? `${agentId} had already ended: nothing to kill.`
        : `Kill ${outcome.status}: ${killed}.${outcome.orphaned?.length ? ` Orphaned: ${outcome.orphaned.join(', ')}.` : ''}`));
    } catch (error) {
      message.replaceChildren(notice(`Kill refused: ${errorText(error)}`, 'error'));
    }
    done();
  });
  dialog.showModal();
}
