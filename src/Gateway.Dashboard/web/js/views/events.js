// The live event stream, newest first, filtered by type, priority and text. Keeps the newest few hundred.
import { el, byId, clock, setCount } from '../dom.js';

const maxRows = 500;
const priorityNames = ['low', 'normal', 'high'];

export class EventsView {
  constructor() {
    this.list = byId('event-rows');
    this.type = byId('events-type');
    this.priority = byId('events-priority');
    this.text = byId('events-text');
    this.total = 0;
    for (const input of [this.type, this.priority, this.text]) input.addEventListener('input', () => this.refilter());
  }

  add(e, payload) {
    this.total += 1;
    setCount('events-count', this.total);
    const summary = summarize(payload);
    const row = el('li', { dataset: { eventId: e.id, type: e.type, priority: e.priority } },
      el('span', { className: 'eid' }, `#${e.id}`),
      el('span', { className: 'etime' }, clock(e.timestamp)),
      el('span', { className: 'etype', title: priorityNames[e.priority] ?? String(e.priority) }, e.type),
      el('span', { className: 'esummary', title: JSON.stringify(payload) }, summary));
    row.hidden = !this.matches(row);
    this.list.prepend(row);
    while (this.list.children.length > maxRows) this.list.lastElementChild.remove();
  }

  clear() {
    this.list.replaceChildren();
  }

  matches(row) {
    const text = this.text.value.trim().toLowerCase();
    return row.dataset.type.startsWith(this.type.value)
      && Number(row.dataset.priority) >= Number(this.priority.value)
      && (!text || row.textContent.toLowerCase().includes(text));
  }

  refilter() {
    for (const row of this.list.children) row.hidden = !this.matches(row);
  }
}

/** The payload's fields in one line, ids shortened, without the timestamp the row already shows. */
function summarize(payload) {
  return Object.entries(payload ?? {})
    .filter(([key]) => key !== 'timestamp')
    .map(([key, value]) => `${key}=${format(key, value)}`)
    .join(' ');
}

function format(key, value) {
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  // UUIDs are long and alike at the start (v7: the time); their end tells them apart on one screen.
  if (typeof value === 'string' && (key.endsWith('_id') || key === 'current_task') && value.length > 12) return `…${value.slice(-8)}`;
  return value;
}
