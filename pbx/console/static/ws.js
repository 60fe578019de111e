// The console WebSocket (/console/ws): JSON text frames, reconnect with backoff 1 s → 10 s.
// A browser cannot see the HTTP status of a failed upgrade, so before each reconnect we ask
// /console/api/session: a 401 there means the session is gone and the login form must show.

const MIN_DELAY = 1000;
const MAX_DELAY = 10000;
const PING_EVERY = 20000; // keeps proxies from idling the connection out
const DEAD_AFTER = 50000; // nothing received for this long: assume the connection is dead

export class ConsoleSocket {
  // onMessage(msg), onState('connecting'|'connected'|'reconnecting'|'offline'),
  // checkSession() → 'ok' | 'unauthorized' | 'error', onUnauthorized().
  constructor({ onMessage, onState, checkSession, onUnauthorized }) {
    this.onMessage = onMessage;
    this.onState = onState;
    this.checkSession = checkSession;
    this.onUnauthorized = onUnauthorized;
    this.ws = null;
    this.stopped = true;
    this.delay = MIN_DELAY;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastRx = 0;
  }

  start() {
    this.stopped = false;
    this.delay = MIN_DELAY;
    this.connect('connecting');
  }

  // stop closes the socket for good (logout, session expired); no reconnect follows.
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close(1000);
    }
    this.onState('offline');
  }

  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  get connected() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }

  connect(state) {
    this.onState(state);
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/console/ws`);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = MIN_DELAY;
      this.lastRx = Date.now();
      this.onState('connected');
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.keepAlive(), PING_EVERY);
    };
    ws.onmessage = (ev) => {
      this.lastRx = Date.now();
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg && typeof msg.type === 'string') this.onMessage(msg);
    };
    ws.onclose = () => {
      clearInterval(this.pingTimer);
      if (this.ws === ws) this.ws = null;
      if (!this.stopped) this.scheduleReconnect();
    };
    // onerror is always followed by onclose, which does the work.
  }

  keepAlive() {
    if (!this.ws) return;
    if (Date.now() - this.lastRx > DEAD_AFTER) {
      this.ws.close(); // onclose reconnects
      return;
    }
    this.send({ type: 'ping' });
  }

  scheduleReconnect() {
    this.onState('reconnecting');
    clearTimeout(this.retryTimer);
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    this.retryTimer = setTimeout(async () => {
      if (this.stopped) return;
      const s = await this.checkSession();
      if (this.stopped) return;
      if (s === 'unauthorized') {
        this.stop();
        this.onUnauthorized();
        return;
      }
      if (s === 'error') { // server unreachable: keep backing off without opening a socket
        this.scheduleReconnect();
        return;
      }
      this.connect('reconnecting');
    }, wait);
  }
}
