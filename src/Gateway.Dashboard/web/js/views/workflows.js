// Workflows with a progress bar from their tasks (workflow.progress), and their status.
import { el, byId, setCount } from '../dom.js';
import { barFill } from './board.js';

export class WorkflowsView {
  constructor({ reload }) {
    this.workflows = new Map();
    this.list = byId('workflow-list');
    this.reload = reload;
  }

  load(items) {
    this.workflows = new Map(items.map((w) => [w.id, summary(w)]));
    this.render();
  }

  upsert(workflow) {
    this.workflows.set(workflow.id, summary(workflow));
    this.render();
  }

  apply(type, p) {
    const id = p.workflow_id;
    if (!id) return false;
    const workflow = this.workflows.get(id) ?? { id, name: p.name ?? id, status: 'draft', completed: 0, total: 0, percent: 0 };
    switch (type) {
      case 'workflow.created':
        Object.assign(workflow, { name: p.name, status: p.status || 'draft' });
        break;
      case 'workflow.status':
        workflow.status = p.status;
        break;
      case 'workflow.progress':
        Object.assign(workflow, { completed: p.completed, total: p.total, percent: p.progress, current: p.current_task });
        break;
      case 'workflow.tasks_changed':
        // The event names the tasks, not the progress: ask for the workflow again.
        this.reload(id);
        break;
      case 'workflow.completed':
        workflow.status = 'completed';
        break;
      case 'workflow.failed':
        Object.assign(workflow, { status: 'failed', error: p.error });
        break;
      default:
        return false;
    }
    this.workflows.set(id, workflow);
    this.render();
    return true;
  }

  render() {
    const items = [...this.workflows.values()].reverse();
    setCount('workflows-count', items.length);
    this.list.replaceChildren(...items.map((w) => el('li', { dataset: { workflowId: w.id, status: w.status } },
      el('div', {}, el('strong', {}, w.name), ' ', el('span', { className: 'status', dataset: { status: w.status } }, w.status),
        ' ', el('span', { className: 'progress-text' }, `${w.completed}/${w.total} tasks · ${w.percent}%`)),
      el('div', { className: 'bar', title: `${w.percent}%` }, barFill(w.percent)),
      w.error ? el('div', { className: 'error' }, w.error) : null)));
  }
}

function summary(w) {
  return { id: w.id, name: w.name, status: w.status, completed: w.progress.completed, total: w.progress.total, percent: w.progress.percent };
}
