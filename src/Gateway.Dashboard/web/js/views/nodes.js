// Admin: the cluster's nodes from the node registry (GET /api/nodes, polled), with their active sessions. A node that
// leaves the registry stays listed: "lost" when it stopped beating (a peer closed its sessions as node_lost), "stopped"
// when it left gracefully, until it registers again.
import { el, byId, clock, setCount } from '../dom.js';

export class NodesView {
  constructor() {
    this.nodes = new Map();
    // Nodes a peer declared lost, learnt from their sessions closed as node_lost.
    this.declaredLost = new Set();
    this.rows = byId('node-rows');
  }

  /** The registry as the answering node read it. */
  load(items) {
    const listed = new Set(items.map((n) => n.id));
    for (const node of items) {
      this.nodes.set(node.id, { ...node, left: false });
      if (node.live) this.declaredLost.delete(node.id);
    }
    for (const [id, node] of this.nodes) {
      if (!listed.has(id) && !node.left) this.nodes.set(id, { ...node, live: false, answering: false, activeSessions: 0, left: true });
    }
    this.render();
  }

  /** A session closed, as REST shows it: one closed as node_lost means a peer declared its node lost. */
  sessionClosed(session) {
    const metadata = parseMetadata(session);
    if (metadata?.closeReason === 'node_lost' && metadata.nodeId) {
      this.declaredLost.add(metadata.nodeId);
      this.render();
    }
  }

  state(node) {
    if (!node.left) return node.live ? 'live' : 'lost'; // in the registry, unbeaten past Node:LostAfterSeconds
    return this.declaredLost.has(node.id) ? 'lost' : 'stopped';
  }

  render() {
    const all = [...this.nodes.values()].sort((a, b) => a.id.localeCompare(b.id));
    setCount('nodes-count', all.filter((n) => this.state(n) === 'live').length);
    this.rows.replaceChildren(...all.map((n) => this.row(n)));
  }

  row(node) {
    const state = this.state(node);
    return el('tr', { className: state === 'live' ? 'active' : 'inactive', dataset: { nodeId: node.id, state } },
      el('td', { className: node.answering ? 'node answering' : 'node' }, node.id),
      el('td', {}, node.version),
      el('td', { className: 'id' }, node.address || ''),
      el('td', { title: String(node.startedAt) }, clock(node.startedAt)),
      el('td', { className: 'last-seen', title: String(node.lastSeen) }, clock(node.lastSeen)),
      el('td', { className: 'sessions' }, node.left ? '' : String(node.activeSessions)),
      el('td', { className: `state ${state}` }, state));
  }
}

/** The node a session is on, from its metadata (nodeId). */
export function nodeOf(session) {
  return parseMetadata(session)?.nodeId ?? '';
}

export function parseMetadata(session) {
  try {
    return session.metadata ? JSON.parse(session.metadata) : null;
  } catch {
    return null;
  }
}
