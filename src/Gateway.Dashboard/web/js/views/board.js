// Tasks by status, one column each; a card moves to its new column as task.status arrives.
import { el, byId, clock, setCount } from '../dom.js';

// Gateway's own schema; a database whose orchestrator owns its migrations may allow fewer (GET /api/schema).
export const taskStatuses = ['pending', 'queued', 'running', 'paused', 'completed', 'failed', 'cancelled'];

export class BoardView {
  /** @param {{ statuses?: string[] }} options the task statuses this database allows: one column each. */
  constructor({ statuses = taskStatuses } = {}) {
    this.tasks = new Map();
    this.board = byId('board');
    this.board.replaceChildren();
    this.columns = new Map(statuses.map((status) => {
      const list = el('div', { className: 'cards' });
      const count = el('span', { className: 'count' }, '0');
      this.board.append(el('section', { className: 'column', dataset: { status } }, el('h3', {}, `${status} `, count), list));
      return [status, { list, count }];
    }));
  }

  load(items) {
    this.tasks = new Map(items.map((t) => [t.id, { id: t.id, title: t.title, taskType: t.taskType, status: t.status, error: t.error, updatedAt: t.updatedAt }]));
    for (const { list } of this.columns.values()) list.replaceChildren();
    // Newest first within a column, as REST lists them.
    for (const task of this.tasks.values()) this.columns.get(task.status)?.list.append(this.card(task));
    this.counts();
  }

  title(taskId) {
    return this.tasks.get(taskId)?.title ?? taskId;
  }

  /** Applies a task.* event; returns true when it changed the board. */
  apply(type, p, timestamp) {
    const id = p.task_id;
    if (!id) return false;
    const task = this.tasks.get(id) ?? { id, title: p.title ?? id, taskType: p.task_type ?? '', status: 'pending' };
    switch (type) {
      case 'task.created':
        Object.assign(task, { title: p.title, taskType: p.task_type, status: p.status || 'pending' });
        break;
      case 'task.status':
        task.status = p.status;
        if (p.status !== 'failed') task.error = null;
        task.progress = p.status === 'running' ? task.progress : undefined;
        break;
      case 'task.failed':
        task.error = p.error;
        break;
      case 'task.progress':
        task.progress = p.progress;
        task.message = p.message;
        break;
      case 'task.deleted':
        this.tasks.delete(id);
        this.board.querySelector(`.card[data-task-id="${CSS.escape(id)}"]`)?.remove();
        this.counts();
        return true;
      default:
        return false;
    }
    task.updatedAt = timestamp;
    this.tasks.set(id, task);
    this.place(task);
    return true;
  }

  place(task) {
    const old = this.board.querySelector(`.card[data-task-id="${CSS.escape(task.id)}"]`);
    const card = this.card(task);
    const column = this.columns.get(task.status);
    if (old && old.parentElement === column?.list) {
      old.replaceWith(card);
    } else {
      old?.remove();
      card.classList.add('moved');
      column?.list.prepend(card);
    }
    this.counts();
  }

  card(task) {
    const progress = typeof task.progress === 'number'
      ? el('div', { className: 'bar', title: `${task.progress}%` }, barFill(task.progress))
      : null;
    return el('article', { className: 'card', dataset: { taskId: task.id, status: task.status } },
      el('div', { className: 'title' }, task.title),
      el('div', { className: 'meta' }, [task.taskType, clock(task.updatedAt)].filter(Boolean).join(' · ')),
      progress,
      task.message ? el('div', { className: 'meta' }, task.message) : null,
      task.error ? el('div', { className: 'err' }, task.error) : null);
  }

  counts() {
    for (const [status, { list, count }] of this.columns) count.textContent = String(list.children.length);
    setCount('tasks-count', this.tasks.size);
  }
}

/** A progress bar's fill; width set through the CSSOM, which the page's CSP allows (style attributes it does not). */
export function barFill(percent) {
  const fill = el('span');
  fill.style.width = `${Math.max(0, Math.min(100, percent))}%`;
  return fill;
}
