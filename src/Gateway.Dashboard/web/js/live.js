// The hub connection: MessagePack, automatic reconnects plus a retry of its own when those give up, heartbeats on the
// interval the gateway asks for, and one subscription to every event that resumes after the last event id handled.
/* global signalR */

const hubPath = '/hubs/gateway';

// SignalR's own schedule covers a short outage; past it the page keeps trying on its own, never giving up.
const automaticDelaysMs = [0, 500, 1000, 2000, 4000, 8000];
const retryDelayMs = { first: 2000, max: 15000 };

/** Codes of ConnectionClosing after which coming back makes no sense without a person's action. */
const finalCodes = new Set(['token_expired', 'disconnected_by_admin']);

/**
 * Follows the gateway for the page. Callbacks (all optional):
 *  state(name, detail): 'connecting' | 'connected' | 'reconnecting' | 'disconnected'
 *  established(info): ConnectionEstablished of each new connection
 *  event(e): each GatewayEvent, once, in id order, across reconnects
 *  subscribed(ack, resumed, previous): after each Subscribe (previous: the position asked for); ack.reset means
 *    events were lost: reload state over REST
 *  sessionOpened(s) / sessionClosed(s): admin only
 *  closing(notice): the gateway is closing this connection; final(notice) when it will not come back
 *  unauthorized(): the gateway refused the token (401) when connecting
 *  refused(message): the gateway refused the subscription (e.g. forbidden: a role that may not follow everything)
 *  log(level, message): the client library's warnings and errors
 */
export class LiveConnection {
  constructor(token, { admin, clientId, callbacks }) {
    this.token = token;
    this.admin = admin;
    this.callbacks = callbacks;
    // The same id in every dashboard (it only has to be unique on the connection): all dashboards then receive
    // byte-identical events, which the gateway serialises once for all of them.
    this.subscriptionId = 'dashboard-all';
    this.lastEventId = null;
    // The log lastEventId belongs to (the gateway's last ack): a resume into another database's log is answered with a reset.
    this.epoch = null;
    this.stopped = false;
    this.retryTimer = null;
    this.heartbeatTimer = null;
    this.closingNotice = null;
    this.connection = this.build(clientId);
  }

  build(clientId) {
    const connection = new signalR.HubConnectionBuilder()
      .withUrl(`${hubPath}?clientId=${encodeURIComponent(clientId)}&clientVersion=dashboard-1`, {
        accessTokenFactory: () => this.token,
      })
      .withHubProtocol(new signalR.protocols.msgpack.MessagePackHubProtocol())
      .withAutomaticReconnect(automaticDelaysMs)
      .configureLogging({ log: (level, message) => this.libraryLog(level, message) })
      .build();

    connection.on('ConnectionEstablished', (info) => this.onEstablished(info));
    connection.on('ConnectionClosing', (notice) => this.onClosing(notice));
    connection.on('EventReceived', (e) => this.onEvent(e));
    connection.on('SessionOpened', (s) => this.emit('sessionOpened', s));
    connection.on('SessionClosed', (s) => this.emit('sessionClosed', s));
    connection.onreconnecting((error) => {
      this.stopHeartbeats();
      this.emit('state', 'reconnecting', error ? error.message : '');
    });
    connection.onreconnected(() => this.afterConnect(true));
    connection.onclose((error) => this.onClosed(error));
    return connection;
  }

  emit(name, ...args) {
    const callback = this.callbacks[name];
    if (callback) callback(...args);
  }

  libraryLog(level, message) {
    // Lost connections are expected and shown on the page as "reconnecting"; only warnings and worse are kept.
    if (level >= signalR.LogLevel.Warning) this.emit('log', level, message);
  }

  async start() {
    this.emit('state', 'connecting', '');
    try {
      await this.connection.start();
    } catch (error) {
      if (this.refused(error)) return;
      this.emit('state', 'disconnected', error.message);
      this.scheduleRetry(retryDelayMs.first);
      return;
    }
    await this.afterConnect(false);
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stopHeartbeats();
    await this.connection.stop();
  }

  /** After every (re)connection: subscribe again after the last event handled, and to sessions for admins. */
  async afterConnect(resumed, retryDelay = retryDelayMs.first) {
    this.closingNotice = null;
    try {
      const ack = await this.connection.invoke('Subscribe', {
        scope: 'all',
        id: null,
        types: null,
        minPriority: 0,
        afterEventId: this.lastEventId,
        subscriptionId: this.subscriptionId,
        epoch: this.epoch,
      });
      this.epoch = ack.epoch ?? this.epoch;
      // A live start or a reset: live from the head the gateway answered with. After a replay the replayed events
      // themselves move the position (they may still be arriving).
      const previous = this.lastEventId;
      if (this.lastEventId === null || ack.reset) this.lastEventId = ack.headEventId;
      if (this.admin) await this.connection.invoke('SubscribeSessions');
      this.emit('state', 'connected', '');
      this.emit('subscribed', ack, resumed, previous);
    } catch (error) {
      if (/\b(forbidden|invalid_argument):/.test(error.message)) {
        // A refusal, not a broken connection: retrying would be refused again.
        this.emit('state', 'disconnected', 'subscription refused');
        this.emit('refused', error.message);
        return;
      }
      this.emit('log', signalR.LogLevel.Warning, `subscribe failed: ${error.message}`);
      // The connection broke while subscribing: its reconnect (or our retry) subscribes again. Still up, the gateway
      // failed the subscription itself (its database, say): without a new try the page would wait for events forever.
      if (!this.stopped && this.connection.state === signalR.HubConnectionState.Connected) {
        clearTimeout(this.retryTimer);
        const wait = retryDelay * (0.75 + Math.random() * 0.5);
        this.emit('state', 'reconnecting', `subscribing again in ${Math.round(wait / 1000)} s`);
        this.retryTimer = setTimeout(() => this.afterConnect(resumed, Math.min(retryDelay * 2, retryDelayMs.max)), wait);
      }
    }
  }

  onEstablished(info) {
    this.emit('established', info);
    this.startHeartbeats(info.heartbeatIntervalSeconds);
  }

  onEvent(e) {
    // The one guard against a repeat across a reconnect: the resume starts after the last id handled.
    if (e.subscriptionId !== this.subscriptionId || (this.lastEventId !== null && e.id <= this.lastEventId)) return;
    this.lastEventId = e.id;
    this.emit('event', e);
  }

  onClosing(notice) {
    this.closingNotice = notice;
    this.emit('closing', notice);
  }

  onClosed(error) {
    this.stopHeartbeats();
    if (this.stopped) return;
    const notice = this.closingNotice;
    if (notice && (!notice.reconnect || finalCodes.has(notice.code))) {
      this.emit('state', 'disconnected', notice.reason);
      this.emit('final', notice);
      return;
    }
    this.emit('state', 'disconnected', error ? error.message : 'connection closed');
    this.scheduleRetry(retryDelayMs.first);
  }

  scheduleRetry(delay) {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    // Jitter, so many dashboards do not come back in step after a gateway restart.
    const wait = delay * (0.75 + Math.random() * 0.5);
    this.emit('state', 'reconnecting', `retrying in ${Math.round(wait / 1000)} s`);
    this.retryTimer = setTimeout(async () => {
      try {
        await this.connection.start();
      } catch (error) {
        if (!this.refused(error)) this.scheduleRetry(Math.min(delay * 2, retryDelayMs.max));
        return;
      }
      await this.afterConnect(true);
    }, wait);
  }

  /** A 401 from the negotiation: the token expired or was revoked; retrying with it cannot help. */
  refused(error) {
    if (!/\b401\b|Unauthorized/.test(String(error && error.message))) return false;
    this.emit('state', 'disconnected', 'token refused');
    this.emit('unauthorized');
    return true;
  }

  startHeartbeats(intervalSeconds) {
    this.stopHeartbeats();
    // Any invocation counts as liveness; a dashboard that only listens must still beat, or it is reaped as stale.
    const ms = Math.max(1, intervalSeconds || 15) * 1000;
    this.heartbeatTimer = setInterval(() => {
      this.connection.invoke('Heartbeat').catch(() => {
        // A failed beat means a broken connection, which the reconnect handles.
      });
    }, ms);
  }

  stopHeartbeats() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  disconnectSession(sessionId, reason) {
    return this.connection.invoke('DisconnectSession', sessionId, reason);
  }
}
