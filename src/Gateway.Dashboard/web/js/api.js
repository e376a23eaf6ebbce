// REST calls to the gateway with the bearer token. A refused token is an AuthError, so the page can sign out.

export class AuthError extends Error {
  constructor(status) {
    super(`token refused (${status})`);
    this.status = status;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
    if (response.status === 401 || (response.status === 403 && path === '/api/me')) {
      throw new AuthError(response.status);
    }
    if (!response.ok) {
      let detail = '';
      try {
        const problem = await response.json();
        detail = problem.detail || problem.title || '';
      } catch {
        // Not problem details: the status says enough.
      }
      throw new Error(`${method} ${path}: ${response.status} ${detail}`.trim());
    }
    return response.status === 204 ? null : response.json();
  }

  get(path) {
    return this.request('GET', path);
  }

  me() {
    return this.get('/api/me');
  }

  /** The values this database allows in each status column (the orchestrator's own schema may allow fewer). */
  schema() {
    return this.get('/api/schema');
  }

  tasks() {
    return this.get('/api/tasks?pageSize=500');
  }

  workflows() {
    return this.get('/api/workflows?pageSize=500');
  }

  workflow(id) {
    return this.get(`/api/workflows/${encodeURIComponent(id)}`);
  }

  toolExecutions(taskId) {
    return this.get(`/api/tasks/${encodeURIComponent(taskId)}/tool-executions`);
  }

  sessions(active) {
    return this.get(`/api/sessions?pageSize=500${active === undefined ? '' : `&active=${active}`}`);
  }

  session(id) {
    return this.get(`/api/sessions/${encodeURIComponent(id)}`);
  }

  /** The node registry: every node on this database, live or not yet removed. */
  nodes() {
    return this.get('/api/nodes');
  }

  stats() {
    return this.get('/api/realtime/stats');
  }
}
