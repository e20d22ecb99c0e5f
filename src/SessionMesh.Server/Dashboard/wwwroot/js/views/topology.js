// The parent→child tree drawn with cytoscape (breadth-first layout), nodes coloured by status, orphans and
// terminating agents marked; a click (or the list below it, for the keyboard) opens an agent.
import cytoscape from '../../vendor/cytoscape.esm.min.mjs';
import { h, agentLink, statusBadge, notice } from '../dom.js';
import { missingScope } from './scope.js';

/** Past this many agents the graph shows the alive ones only, unless asked. */
const LARGE = 1500;
/** A drawing of more nodes than this is slow and unreadable; the sessions view pages through any number. */
const MAX_DRAWN = 2000;

function colours() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    text: v('--text'), edge: v('--muted'), ended: v('--ended'), none: v('--surface'),
    active: v('--active'), idle: v('--idle'), stale: v('--stale'), stalled: v('--stale'), orphan: v('--danger'), terminating: v('--warn'),
  };
}

function style(c) {
  return [
    { selector: 'node', style: {
      label: 'data(label)', 'font-size': 11, color: c.text, 'text-valign': 'bottom', 'text-margin-y': 4,
      'background-color': c.ended, 'border-width': 1, 'border-color': c.edge, width: 22, height: 22 } },
    { selector: 'node.s-active', style: { 'background-color': c.active } },
    { selector: 'node.s-idle', style: { 'background-color': c.idle } },
    { selector: 'node.s-stalled, node.s-stale', style: { 'background-color': c.stale } },
    { selector: 'node.s-none', style: { 'background-color': c.none, 'border-style': 'dotted' } },
    { selector: 'node.orphaned', style: { 'border-width': 3, 'border-style': 'dashed', 'border-color': c.orphan } },
    { selector: 'node.terminating', style: { 'border-width': 4, 'border-style': 'double', 'border-color': c.terminating } },
    { selector: 'node:selected', style: { 'overlay-opacity': 0.2 } },
    { selector: 'edge', style: { width: 1.5, 'line-color': c.edge, 'target-arrow-color': c.edge, 'target-arrow-shape': 'triangle', 'curve-style': 'bezier' } },
  ];
}

function nodeClasses(node) {
  return [`s-${node.status ?? 'none'}`, node.orphaned ? 'orphaned' : '', node.alive && (node.terminating_until || node.terminating) ? 'terminating' : '']
    .filter(Boolean).join(' ');
}

export function render(container, ctx) {
  if (!ctx.has('read')) return missingScope(container, 'Topology', 'read', ctx);
  const showEnded = h('input', { type: 'checkbox', id: 'topology-ended' });
  const legend = h('ul', { class: 'legend', 'aria-label': 'Legend' },
    ['active', 'idle', 'stalled', 'stale', 'ended', 'none'].map((s) => h('li', {}, h('span', { class: `swatch status-${s}` }), s === 'none' ? 'never joined' : s)),
    h('li', {}, h('span', { class: 'swatch orphaned' }), 'orphaned'),
    h('li', {}, h('span', { class: 'swatch terminating' }), 'terminating'));
  const graph = h('div', { class: 'graph', role: 'img', 'aria-label': 'Agent topology graph; the same agents are listed below it' });
  const note = h('div');
  const list = h('ul', { class: 'tree' });
  container.append(
    h('h1', {}, 'Topology'),
    h('div', { class: 'toolbar' }, h('label', { for: 'topology-ended' }, showEnded, ' Show ended and never-joined agents'), legend),
    note, graph,
    h('details', { class: 'tree-list' }, h('summary', {}, 'Agents as a list'), list));

  const cy = cytoscape({ container: graph, style: style(colours()), wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 3 });
  cy.on('tap', 'node', (event) => { window.location.hash = `#/agents/${encodeURIComponent(event.target.id())}`; });
  const scheme = window.matchMedia('(prefers-color-scheme: dark)');
  const restyle = () => cy.style(style(colours()));
  scheme.addEventListener('change', restyle);

  let shape = '';
  function draw() {
    const fleet = ctx.fleet;
    if (!fleet.loaded) {
      note.replaceChildren(notice('Loading…'));
      return;
    }
    const large = fleet.nodes.size > LARGE;
    const aliveParents = new Set([...fleet.nodes.values()].filter((node) => node.alive && node.parent_id).map((node) => node.parent_id));
    const wanted = [...fleet.nodes.values()].filter((node) => showEnded.checked || node.alive || (!large && (node.status === undefined || aliveParents.has(node.agent_id))));
    const visible = wanted.slice(0, MAX_DRAWN);
    const ids = new Set(visible.map((node) => node.agent_id));
    note.replaceChildren(
      fleet.truncated ? notice('Only the first agents by id are drawn: the fleet is larger than the topology limit.', 'warn') : '',
      wanted.length > visible.length ? notice(`Drawing the first ${visible.length} of ${wanted.length} agents; the sessions view lists them all.`, 'warn') : '',
      visible.length === 0 ? notice('No agents to draw.') : '');
    const nextShape = visible.map((node) => `${node.agent_id}<${ids.has(node.parent_id) ? node.parent_id : ''}`).join('|');
    if (nextShape !== shape) {
      shape = nextShape;
      cy.batch(() => {
        cy.elements().remove();
        cy.add(visible.map((node) => ({ group: 'nodes', data: { id: node.agent_id, label: node.agent_id }, classes: nodeClasses(node) })));
        cy.add(visible.filter((node) => ids.has(node.parent_id))
          .map((node) => ({ group: 'edges', data: { id: `${node.parent_id}->${node.agent_id}`, source: node.parent_id, target: node.agent_id } })));
      });
      cy.layout({ name: 'breadthfirst', directed: true, spacingFactor: 1.1, padding: 20, animate: false }).run();
    } else {
      cy.batch(() => visible.forEach((node) => cy.getElementById(node.agent_id).classes(nodeClasses(node))));
    }
    graph.dataset.nodes = String(visible.length);
    list.replaceChildren(...treeItems(visible, ids));
  }

  const redraw = () => draw();
  showEnded.addEventListener('change', redraw);
  draw();
  ctx.fleet.addEventListener('change', redraw);
  return () => {
    ctx.fleet.removeEventListener('change', redraw);
    scheme.removeEventListener('change', restyle);
    cy.destroy();
  };
}

function treeItems(nodes, ids) {
  const children = new Map();
  for (const node of nodes) {
    const parent = ids.has(node.parent_id) ? node.parent_id : '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(node);
  }
  const item = (node) => h('li', { dataset: { agentId: node.agent_id } },
    agentLink(node.agent_id), ' ', statusBadge(node.status, node.orphaned ? 'orphaned' : node.alive && (node.terminating_until || node.terminating) ? 'terminating' : null),
    children.has(node.agent_id) ? h('ul', {}, children.get(node.agent_id).map(item)) : null);
  return (children.get('') ?? []).map(item);
}
