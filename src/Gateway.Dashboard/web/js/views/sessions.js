// Admin: the gateway's sessions on every node, live from SessionOpened / SessionClosed, with a filter and a disconnect button.
import { el, byId, clock, setCount } from '../dom.js';
import { nodeOf, parseMetadata } from './nodes.js';

export class SessionsView {
  constructor({ onDisconnect }) {
    this.sessions = new Map();
    this.ownSessionId = null;
    this.onDisconnect = onDisconnect;
    this.rows = byId('sessions-rows');
    this.filter = byId('sessions-filter');
    this.showClosed = byId('sessions-show-closed');
    this.filter.addEventListener('input', () => this.render());
    this.showClosed.addEventListener('change', () => this.render());
  }

  load(items) {
    this.sessions = new Map(items.map((s) => [s.id, s]));
    this.render();
  }

  upsert(session) {
    this.sessions.set(session.id, { ...this.sessions.get(session.id), ...session });
    this.render();
  }

  setOwn(sessionId) {
    this.ownSessionId = sessionId;
    this.render();
  }

  matches(session, text) {
    if (!text) return true;
    const transport = session.connectionType || '';
    return [session.id, session.userId, session.clientId, transport, nodeOf(session)].some((v) => v && v.toLowerCase().includes(text));
  }

  render() {
    const text = this.filter.value.trim().toLowerCase();
    const all = [...this.sessions.values()].sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
    const shown = all.filter((s) => (s.isActive || this.showClosed.checked) && this.matches(s, text));
    setCount('sessions-count', all.filter((s) => s.isActive).length);
    // Keep an open disconnect form (and what was typed in it) across live updates.
    const open = this.rows.querySelector('.disconnect-form');
    const openFor = open ? open.closest('tr').dataset.sessionId : null;
    const openReason = open ? open.querySelector('input').value : '';
    this.rows.replaceChildren(...shown.map((s) => this.row(s, s.id === openFor ? openReason : null)));
    if (openFor) this.rows.querySelector('.disconnect-form input')?.focus();
  }

  row(session, openReason) {
    const own = session.id === this.ownSessionId;
    return el('tr', {
      className: [session.isActive ? 'active' : 'inactive', own ? 'own' : ''].join(' ').trim(),
      dataset: { sessionId: session.id, clientId: session.clientId },
    },
    el('td', { className: 'id', title: session.id }, session.id),
    el('td', {}, session.userId || ''),
    el('td', { className: 'id', title: session.clientId }, session.clientId),
    el('td', {}, session.connectionType),
    el('td', { className: 'node' }, nodeOf(session)),
    el('td', {}, clock(session.createdAt)),
    el('td', { className: 'state' }, session.isActive ? 'active' : `closed${closeReason(session)}`),
    el('td', {}, session.isActive && !own ? this.actions(session, openReason) : ''));
  }

  actions(session, openReason) {
    const cell = el('div', {});
    const showForm = (reason) => {
      const input = el('input', { type: 'text', name: 'reason', placeholder: 'reason', 'aria-label': 'Reason', value: reason });
      const form = el('form', { className: 'disconnect-form' },
        input,
        el('button', { type: 'submit', className: 'danger confirm-disconnect' }, 'Disconnect'),
        el('button', { type: 'button', className: 'cancel', onclick: () => this.render() }, 'Cancel'));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        form.querySelectorAll('button').forEach((b) => { b.disabled = true; });
        this.onDisconnect(session.id, input.value.trim() || 'disconnected from the dashboard');
      });
      cell.replaceChildren(form);
      input.focus();
    };
    if (openReason !== null) showForm(openReason);
    else cell.append(el('button', { type: 'button', className: 'danger disconnect', onclick: () => showForm('') }, 'Disconnect…'));
    return cell;
  }
}

function closeReason(session) {
  const metadata = parseMetadata(session);
  if (!metadata || !metadata.closeReason) return '';
  return metadata.closeMessage ? `: ${metadata.closeReason} (${metadata.closeMessage})` : `: ${metadata.closeReason}`;
}
