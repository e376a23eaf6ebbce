// The dashboard: sign in with a token, load the state over REST, then follow every event over the hub.
import { Api, AuthError } from './api.js';
import { savedToken, saveToken, forgetToken, refusalMessage } from './auth.js';
import { byId } from './dom.js';
import { LiveConnection } from './live.js';
import { SessionsView } from './views/sessions.js';
import { NodesView } from './views/nodes.js';
import { BoardView } from './views/board.js';
import { WorkflowsView } from './views/workflows.js';
import { ToolsView } from './views/tools.js';
import { EventsView } from './views/events.js';
import { Sparkline, RateCounter } from './views/charts.js';

const statsIntervalMs = 2000;
const toolHistoryTasks = 20; // tasks whose tool executions are loaded at start; later ones arrive as events
const clientIdKey = 'gateway.clientId';

let page = null;

document.addEventListener('DOMContentLoaded', () => {
  byId('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    signIn(byId('token').value.trim());
  });
  byId('sign-out').addEventListener('click', () => signOut(''));
  const token = savedToken();
  if (token) signIn(token);
});

async function signIn(token) {
  showSignInError('');
  if (!token) return;
  byId('sign-in-button').disabled = true;
  const api = new Api(token);
  let me;
  try {
    me = await api.me();
  } catch (error) {
    byId('sign-in-button').disabled = false;
    forgetToken();
    showSignInError(error instanceof AuthError ? refusalMessage(token, error.status) : `The gateway did not answer: ${error.message}`);
    return;
  }
  let schema;
  try {
    schema = await api.schema();
  } catch (error) {
    byId('sign-in-button').disabled = false;
    showSignInError(`The gateway did not answer: ${error.message}`);
    return;
  }
  byId('sign-in-button').disabled = false;
  saveToken(token);
  page = new DashboardPage(api, me, schema);
  page.start();
}

async function signOut(message) {
  const current = page;
  page = null;
  forgetToken();
  if (current) await current.stop();
  byId('token').value = '';
  showSignInError(message);
  setConnection('signed-out', 'signed out');
}

function showSignInError(message) {
  const error = byId('sign-in-error');
  error.textContent = message;
  error.hidden = !message;
  byId('sign-in').hidden = false;
  byId('dashboard').hidden = true;
  byId('whoami').hidden = true;
  showNotice('');
}

function showNotice(message) {
  const notice = byId('notice');
  notice.textContent = message;
  notice.hidden = !message;
}

function setConnection(state, text) {
  byId('connection').dataset.state = state;
  byId('connection-text').textContent = text;
}

/** A stable client id per browser tab, so the gateway sees one client across reconnects. */
function clientId() {
  let id = sessionStorage.getItem(clientIdKey);
  if (!id) {
    id = `dashboard-${crypto.randomUUID()}`;
    sessionStorage.setItem(clientIdKey, id);
  }
  return id;
}

class DashboardPage {
  constructor(api, me, schema) {
    this.api = api;
    this.me = me;
    this.admin = me.roles.includes('admin');
    this.stopped = false;
    // Events wait here while the state loads over REST, then apply on top of it in id order.
    this.pending = [];
    this.loading = true;
    this.board = new BoardView({ statuses: schema.taskStatuses });
    this.workflows = new WorkflowsView({ reload: (id) => this.reloadWorkflow(id), statuses: schema.workflowStatuses });
    this.tools = new ToolsView({ taskTitle: (id) => this.board.title(id) });
    this.events = new EventsView();
    this.sessions = this.admin ? new SessionsView({ onDisconnect: (id, reason) => this.disconnect(id, reason) }) : null;
    this.nodes = this.admin ? new NodesView() : null;
    this.connections = new Sparkline('chart-connections');
    this.rate = new RateCounter(new Sparkline('chart-events'));
    this.live = new LiveConnection(api.token, {
      admin: this.admin,
      clientId: clientId(),
      callbacks: {
        state: (state, detail) => this.onState(state, detail),
        established: (info) => this.sessions?.setOwn(info.sessionId),
        event: (e) => this.onEvent(e),
        subscribed: (ack, resumed, previous) => this.onSubscribed(ack, resumed, previous),
        sessionOpened: (s) => this.sessions?.upsert(s),
        sessionClosed: (s) => this.onSessionClosed(s),
        final: (notice) => this.onFinal(notice),
        unauthorized: () => signOut(refusalMessage(api.token, 401)),
        refused: (message) => showNotice(`The gateway refused to send events to this token: ${message}. The dashboard needs the admin or dashboard role.`),
        log: (level, message) => console.warn(`[signalr] ${message}`),
      },
    });
  }

  start() {
    byId('sign-in').hidden = true;
    byId('dashboard').hidden = false;
    byId('whoami').hidden = false;
    byId('user-name').textContent = this.me.userId;
    byId('user-roles').textContent = this.me.roles.join(', ');
    for (const node of document.querySelectorAll('[data-admin-only]')) node.hidden = !this.admin;
    this.rate.start();
    if (this.me.expiresAt) {
      const expires = new Date(this.me.expiresAt);
      // setTimeout holds at most ~24.8 days; a longer-lived token is checked again by the gateway anyway.
      const wait = Math.min(expires - new Date(), 2 ** 31 - 1);
      this.expiryTimer = setTimeout(() => signOut(`Your token expired at ${expires.toISOString()}. Sign in with a new one.`), wait);
    }
    if (this.admin) this.statsTimer = setInterval(() => this.pollStats(), statsIntervalMs);
    this.live.start();
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.expiryTimer);
    clearInterval(this.statsTimer);
    this.rate.stop();
    await this.live.stop();
  }

  onState(state, detail) {
    if (this.stopped) return;
    this.state = state;
    const text = { connecting: 'connecting…', connected: 'live', reconnecting: 'reconnecting…', disconnected: 'disconnected' }[state] ?? state;
    setConnection(state, detail && state !== 'connected' ? `${text} (${detail})` : text);
  }

  async onSubscribed(ack, resumed, previous) {
    if (this.live.lastEventId !== null && byId('last-event-id').textContent === '–') byId('last-event-id').textContent = String(this.live.lastEventId);
    if (!resumed || ack.reset) {
      if (ack.reset) showNotice(`The gateway no longer holds the events after #${previous}: state reloaded.`);
      await this.loadState(ack.reset);
    } else if (this.admin) {
      // Session events are not in the event log: what happened while disconnected comes from REST.
      await this.guard(async () => this.sessions.load((await this.api.sessions(true)).items));
    }
  }

  async loadState(reset) {
    this.loading = true;
    if (reset) this.events.clear();
    await this.guard(async () => {
      const [tasks, workflows, sessions, nodes] = await Promise.all([
        this.api.tasks(),
        this.api.workflows(),
        this.admin ? this.api.sessions(true) : null,
        this.admin ? this.api.nodes() : null,
      ]);
      this.board.load(tasks.items);
      this.workflows.load(workflows.items);
      if (sessions) this.sessions.load(sessions.items);
      if (nodes) this.nodes.load(nodes);
      const recent = tasks.items.filter((t) => t.status !== 'pending').slice(0, toolHistoryTasks);
      const executions = await Promise.all(recent.map((t) => this.api.toolExecutions(t.id)));
      this.tools.load(executions.flat());
    });
    this.loading = false;
    const pending = this.pending;
    this.pending = [];
    for (const e of pending) this.apply(e);
  }

  onEvent(e) {
    if (this.loading) this.pending.push(e);
    else this.apply(e);
  }

  apply(e) {
    byId('last-event-id').textContent = String(e.id);
    this.rate.hit();
    let payload = {};
    try {
      payload = JSON.parse(e.payload);
    } catch {
      // The gateway always sends a JSON object; a broken one still shows in the stream, without fields.
    }
    this.events.add(e, payload);
    const area = e.type.slice(0, e.type.indexOf('.'));
    if (area === 'task') this.board.apply(e.type, payload, e.timestamp);
    else if (area === 'workflow') this.workflows.apply(e.type, payload);
    else if (area === 'tool') this.tools.apply(e.type, payload);
  }

  /** SessionClosed carries the session as it was; why it closed is in the row, committed before the event was sent. */
  async onSessionClosed(session) {
    this.sessions?.upsert(session);
    await this.guard(async () => {
      const row = await this.api.session(session.id);
      this.sessions?.upsert(row);
      this.nodes?.sessionClosed(row);
    });
  }

  async reloadWorkflow(id) {
    await this.guard(async () => {
      // An answer read before a later event of the workflow was applied would undo that event: ask again until no
      // event came meanwhile (each answer reflects at least the events applied before it was asked for).
      for (let attempt = 1; ; attempt++) {
        const seen = this.workflows.eventsOf(id);
        const workflow = await this.api.workflow(id);
        if (this.workflows.eventsOf(id) === seen || attempt === 5) {
          this.workflows.upsert(workflow);
          return;
        }
      }
    });
  }

  async pollStats() {
    if (this.state !== 'connected') return;
    try {
      const [stats, nodes] = await Promise.all([this.api.stats(), this.api.nodes()]);
      this.connections.push(stats.connections.total);
      this.nodes.load(nodes);
    } catch (error) {
      if (error instanceof AuthError) await signOut(refusalMessage(this.api.token, error.status));
      // Otherwise a missed sample: the connection state shows why.
    }
  }

  async disconnect(sessionId, reason) {
    try {
      if (await this.live.disconnectSession(sessionId, reason)) {
        this.sessions.upsert({ id: sessionId, isActive: false });
      }
    } catch (error) {
      showNotice(`Could not disconnect ${sessionId}: ${error.message}`);
      this.sessions.render();
    }
  }

  onFinal(notice) {
    if (notice.code === 'token_expired') {
      signOut('Your token expired: the gateway closed the connection. Sign in with a new one.');
    } else {
      showNotice(`The gateway closed this dashboard's connection (${notice.code}): ${notice.reason}. Reload to connect again.`);
    }
  }

  /** Runs a REST step; a refused token signs out, anything else is shown and logged. */
  async guard(step) {
    try {
      await step();
    } catch (error) {
      if (error instanceof AuthError) {
        await signOut(refusalMessage(this.api.token, error.status));
      } else if (!this.stopped) {
        showNotice(`Could not load from the gateway: ${error.message}`);
        console.error(error);
      }
    }
  }
}
