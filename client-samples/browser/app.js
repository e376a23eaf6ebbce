// The least a browser needs to follow the gateway: connect with a token, subscribe to every event, and after any
// reconnect subscribe again after the last event id seen, so no event is missed or shown twice.
/* global signalR */
'use strict';

let lastEventId = null; // the resume position: the newest event id handled
const subscriptionId = 'browser-sample'; // chosen by the client, so events can be routed before Subscribe answers

function show(status) {
  document.getElementById('status').textContent = status;
}

function onEvent(e) {
  if (lastEventId !== null && e.id <= lastEventId) return; // already handled before a reconnect
  lastEventId = e.id;
  document.getElementById('last-event-id').textContent = String(e.id);
  const item = document.createElement('li');
  item.dataset.eventId = String(e.id);
  item.dataset.type = e.type;
  item.textContent = `#${e.id} ${e.type} ${e.payload}`; // payload: the event's fields as JSON text
  document.getElementById('events').append(item);
}

async function subscribe(connection) {
  const ack = await connection.invoke('Subscribe', { scope: 'all', afterEventId: lastEventId, subscriptionId });
  // First time, or the gateway no longer holds our position (ack.reset: reload your state): live from its head.
  if (lastEventId === null || ack.reset) lastEventId = ack.headEventId;
  show(ack.reset ? 'subscribed (reset: events were lost)' : 'subscribed');
}

async function connect(token) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl('/hubs/gateway', { accessTokenFactory: () => token }) // sent as ?access_token= on WebSockets
    .withAutomaticReconnect()
    .configureLogging(signalR.LogLevel.Warning) // Information would print the token-bearing URL to the console
    .build();
  connection.on('EventReceived', onEvent);
  connection.onreconnecting(() => show('reconnecting'));
  connection.onreconnected(() => subscribe(connection));
  // When the automatic reconnects give up, keep trying every 5 s.
  connection.onclose(() => {
    show('disconnected, retrying');
    setTimeout(() => start(connection), 5000);
  });
  await start(connection);
}

async function start(connection) {
  try {
    await connection.start();
    await subscribe(connection);
  } catch (error) {
    show(`disconnected (${error.message}), retrying`);
    setTimeout(() => start(connection), 5000);
  }
}

document.getElementById('connect').addEventListener('submit', (event) => {
  event.preventDefault();
  document.getElementById('connect-button').disabled = true;
  connect(document.getElementById('token').value.trim());
});
