// The seam for agent output: GET /agents/{id}/logs?tail=N. A server without that endpoint answers 404
// route_not_found, and the panel says so; one that has it fills the panel. Following the log live can plug in here.
import { h, notice, errorText } from './dom.js';
import { seg } from './api.js';

const TAIL = 200;

function lineText(item) {
  if (typeof item === 'string') return item;
  const text = item.line ?? item.text ?? item.message ?? JSON.stringify(item);
  return item.stream === 'stderr' ? `[stderr] ${text}` : text;
}

export async function logsPanel(container, ctx, agentId) {
  const refresh = h('button', { type: 'button', onclick: () => logsPanel(container, ctx, agentId) }, 'Refresh output');
  container.replaceChildren(notice('Loading output…'));
  try {
    const answer = await ctx.api.get(`/agents/${seg(agentId)}/logs`, { tail: TAIL });
    // The endpoint's shape is its own to define: a JSON list (items or lines), or plain text.
    const lines = typeof answer === 'string' ? answer.split('\n').filter(Boolean)
      : Array.isArray(answer) ? answer : answer?.items ?? answer?.lines ?? [];
    container.replaceChildren(
      lines.length ? h('pre', { class: 'logs', tabindex: '0', 'aria-label': `Last ${TAIL} lines of output` }, lines.map(lineText).join('\n')) : notice('No output yet.'),
      refresh);
    container.dataset.logs = 'available';
  } catch (error) {
    container.dataset.logs = error.code === 'route_not_found' ? 'unavailable' : 'error';
    container.replaceChildren(error.code === 'route_not_found'
      ? notice('This server does not keep agent output.')
      : notice(`Output unavailable: ${errorText(error)}`, 'warn'));
  }
}
