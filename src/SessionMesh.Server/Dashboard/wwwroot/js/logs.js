// The agent's output, followed live: GET /agents/{id}/logs?follow=true read as SSE with fetch (the key goes in a
// header, never the URL), resumed with Last-Event-ID after a drop, stopped when the page leaves. The panel keeps
// the last LINES lines; older ones leave the DOM as new ones arrive.
import { h, notice, errorText } from './dom.js';
import { seg } from './api.js';
import { followStream } from './sse.js';

export const LINES = 500;

const lineText = (line) => (line.stream === 'stderr' ? `[stderr] ${line.text}` : line.text);

/** Fills the container with the agent's output and follows it; returns a function that stops following. */
export function logsPanel(container, ctx, agentId) {
  const stop = new AbortController();
  const state = h('p', { class: 'hint', role: 'status' }, 'Connecting…');
  const empty = notice('No output yet.');
  const pre = h('pre', { class: 'logs', tabindex: '0', 'aria-label': `Output, the last ${LINES} lines`, hidden: true });
  container.replaceChildren(state, empty, pre);
  container.dataset.logs = 'connecting';

  const show = (mode, text) => {
    container.dataset.logs = mode;
    state.textContent = text;
  };
  const append = (line) => {
    // Stick to the bottom only when the reader is already there (scrolling up to read holds the view still).
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 4;
    pre.append(h('span', { class: line.stream === 'stderr' ? 'line stderr' : 'line', dataset: { sequence: String(line.sequence) } }, lineText(line) + '\n'));
    while (pre.childElementCount > LINES) pre.firstElementChild.remove();
    pre.hidden = false;
    empty.hidden = true;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  };

  followStream(ctx.api, `/agents/${seg(agentId)}/logs`, { follow: 'true', tail: LINES }, {
    onOpen: () => show('available', 'Live: new lines appear as the agent writes them.'),
    onFrame: (event, data) => { if (event === 'line') append(data); },
    onDrop: () => show('reconnecting', 'Connection lost: reconnecting…'),
    onFatal: (error) => {
      if (error.code === 'route_not_found') {
        show('unavailable', '');
        container.replaceChildren(notice('This server does not keep agent output.'));
      } else {
        show('error', '');
        state.replaceChildren(notice(`Output unavailable: ${errorText(error)}`, 'warn'));
      }
    },
  }, stop.signal);
  return () => stop.abort();
}
