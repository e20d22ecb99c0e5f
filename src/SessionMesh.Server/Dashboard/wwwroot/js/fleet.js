// The fleet as the dashboard knows it: the topology snapshot, kept current by events. Views read it and
// listen for 'change'; the raw events also go out as 'event' for views that want them (events, agent details).
import { ALIVE } from './dom.js';

const RECENT_EVENTS = 500;

export class Fleet extends EventTarget {
  /** cluster: the key's; an admin key's event stream carries every cluster's events, the topology only this one. */
  constructor(api, cluster) {
    super();
    this.api = api;
    this.cluster = cluster;
    this.nodes = new Map();
    this.specializations = [];
    this.truncated = false;
    this.recent = [];
    this.loaded = false;
    this._pending = false;
    this._specTimer = null;
  }

  async load() {
    const [topology, specializations] = await Promise.all([
      this.api.get('/topology'),
      this.api.get('/registry/specializations'),
    ]);
    this.nodes = new Map(topology.nodes.map((node) => [node.agent_id, node]));
    this.truncated = Boolean(topology.truncated);
    this.specializations = specializations.items;
    this.loaded = true;
    this._markOrphans();
    this._changed();
  }

  apply(event) {
    this.recent.push(event);
    if (this.recent.length > RECENT_EVENTS) this.recent.splice(0, this.recent.length - RECENT_EVENTS);
    this.dispatchEvent(new CustomEvent('event', { detail: event }));
    if (!this.loaded || (event.cluster && event.cluster !== this.cluster)) return;
    const [kind] = event.type.split('.');
    if (kind === 'session') this._applySession(event.data);
    else if (event.type === 'agent.declared') this._applyAgent(event.data);
    else if (event.type === 'agent.registered' || event.type === 'agent.unregistered') this._applyRegistration(event);
    else if (event.type === 'command.queued' && event.data?.kind === 'kill') this._node(event.agent_id).terminating = true;
    else return;
    if (kind === 'session' || kind === 'agent') this._refreshSpecializationsSoon();
    this._markOrphans();
    this._changed();
  }

  counts() {
    const byStatus = new Map();
    let alive = 0, orphaned = 0, terminating = 0;
    for (const node of this.nodes.values()) {
      const status = node.status ?? 'never joined';
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      if (node.alive) alive++;
      if (node.orphaned) orphaned++;
      if (node.alive && (node.terminating_until || node.terminating)) terminating++;
    }
    return { byStatus, alive, orphaned, terminating, total: this.nodes.size };
  }

  _node(agentId) {
    let node = this.nodes.get(agentId);
    if (!node) {
      node = { agent_id: agentId, alive: false, orphaned: false, specializations: [] };
      this.nodes.set(agentId, node);
    }
    return node;
  }

  _applySession(session) {
    const node = this._node(session.agent_id);
    node.status = session.status;
    node.alive = ALIVE.has(session.status);
    if (session.parent_id) node.parent_id = session.parent_id;
    node.terminating_until = session.terminating_until;
    if (!node.alive) node.terminating = false;
    if (session.specializations) node.specializations = session.specializations;
  }

  _applyAgent(agent) {
    const node = this._node(agent.agent_id);
    node.parent_id = agent.parent_id;
  }

  _applyRegistration(event) {
    const node = this._node(event.agent_id);
    const name = event.data?.specialization;
    if (!name) return;
    const names = new Set(node.specializations);
    if (event.type === 'agent.registered') names.add(name); else names.delete(name);
    node.specializations = [...names].sort();
  }

  _markOrphans() {
    for (const node of this.nodes.values()) {
      const parent = node.parent_id ? this.nodes.get(node.parent_id) : null;
      node.orphaned = Boolean(node.alive && parent && !parent.alive);
    }
  }

  _refreshSpecializationsSoon() {
    if (this._specTimer) return;
    this._specTimer = setTimeout(async () => {
      this._specTimer = null;
      try {
        this.specializations = (await this.api.get('/registry/specializations')).items;
        this._changed();
      } catch (error) {
        console.warn('specializations refresh failed', error);
      }
    }, 1000);
  }

  /** Many events in one task make one 'change'. */
  _changed() {
    if (this._pending) return;
    this._pending = true;
    queueMicrotask(() => {
      this._pending = false;
      this.dispatchEvent(new Event('change'));
    });
  }
}
