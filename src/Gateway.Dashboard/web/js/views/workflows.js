// Workflows with a progress bar from their tasks (workflow.progress), and their status.
import { el, byId, setCount } from '../dom.js';
import { barFill } from './board.js';

export class WorkflowsView {
  /**
   * @param {{ reload: (id: string) => void, statuses?: string[] }} options statuses: those this database allows. Where
   * it has no completed or failed (the orchestrator's schema), a finished run stays active and its outcome is shown
   * beside the status.
   */
  constructor({ reload, statuses }) {
    this.workflows = new Map();
    // Events applied per workflow: a reload over REST checks that none arrived while it was asked for.
    this.applied = new Map();
    this.list = byId('workflow-list');
    this.reload = reload;
    this.recordsOutcomes = !statuses || statuses.includes('completed');
  }

  load(items) {
    this.workflows = new Map(items.map((w) => [w.id, this.summary(w)]));
    this.render();
  }

  upsert(workflow) {
    this.workflows.set(workflow.id, this.summary(workflow));
    this.render();
  }

  summary(w) {
    const s = summary(w);
    if (!this.recordsOutcomes && s.status === 'active' && s.total > 0 && s.completed === s.total) s.outcome = 'completed';
    return s;
  }

  /** An outcome as the status where the database records one, else beside it. */
  outcome(workflow, outcome) {
    if (this.recordsOutcomes) workflow.status = outcome;
    else workflow.outcome = outcome;
  }

  eventsOf(id) {
    return this.applied.get(id) ?? 0;
  }

  apply(type, p) {
    const id = p.workflow_id;
    if (!id) return false;
    this.applied.set(id, this.eventsOf(id) + 1);
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
        this.outcome(workflow, 'completed');
        break;
      case 'workflow.failed':
        this.outcome(workflow, 'failed');
        workflow.error = p.error;
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
        w.outcome ? el('span', { className: 'outcome', dataset: { outcome: w.outcome } }, ` run ${w.outcome}`) : null,
        ' ', el('span', { className: 'progress-text' }, `${w.completed}/${w.total} tasks · ${w.percent}%`)),
      el('div', { className: 'bar', title: `${w.percent}%` }, barFill(w.percent)),
      w.error ? el('div', { className: 'error' }, w.error) : null)));
  }
}

function summary(w) {
  return { id: w.id, name: w.name, status: w.status, completed: w.progress.completed, total: w.progress.total, percent: w.progress.percent };
}
