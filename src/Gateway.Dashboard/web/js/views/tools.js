// Tool executions: started, then completed / failed / timeout with the gateway's duration.
import { el, byId, duration, shortId, setCount } from '../dom.js';

const maxRows = 200;

export class ToolsView {
  constructor({ taskTitle }) {
    this.executions = new Map();
    this.rows = byId('tool-rows');
    this.taskTitle = taskTitle;
  }

  load(items) {
    this.executions = new Map(items
      .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)))
      .map((x) => [x.id, { id: x.id, taskId: x.taskId, toolName: x.toolName, status: x.status, durationMs: x.durationMs, error: x.error }]));
    this.render();
  }

  apply(type, p) {
    const id = p.execution_id;
    if (!id) return false;
    const execution = this.executions.get(id) ?? { id, taskId: p.task_id, toolName: p.tool_name ?? '', status: 'running' };
    switch (type) {
      case 'tool.started':
        Object.assign(execution, { toolName: p.tool_name, status: 'running' });
        break;
      case 'tool.completed':
        Object.assign(execution, { status: p.status || 'completed', durationMs: p.duration_ms });
        break;
      case 'tool.failed':
        Object.assign(execution, { status: 'failed', durationMs: p.duration_ms, error: p.error });
        break;
      default:
        return false; // tool.output changes nothing shown here
    }
    this.executions.set(id, execution);
    while (this.executions.size > maxRows) this.executions.delete(this.executions.keys().next().value);
    this.render();
    return true;
  }

  render() {
    const items = [...this.executions.values()].reverse();
    setCount('tools-count', items.length);
    this.rows.replaceChildren(...items.map((x) => el('tr', { dataset: { executionId: x.id, status: x.status } },
      el('td', { title: x.error || '' }, x.toolName),
      el('td', { title: x.taskId }, this.taskTitle(x.taskId) || shortId(x.taskId)),
      el('td', {}, el('span', { className: 'status-pill', dataset: { status: x.status } }, x.status)),
      el('td', { className: 'duration' }, x.status === 'running' ? '…' : duration(x.durationMs)))));
  }
}
