// The WebSocket to /ws, kept open all day: reconnects with backoff after a server restart
// or a network drop, resubscribes, and lets the snapshot that follows replace the state.
//
// States shown in the header:
//   connecting   - first attempt, nothing received yet
//   live         - subscribed; the snapshot has arrived and deltas flow
//   reconnecting - the socket dropped; retrying quickly
//   offline      - several attempts failed; still retrying, less often

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 8000;
const OFFLINE_AFTER_ATTEMPTS = 4;
// The server pings at the protocol level, but a browser never sees those; our own ping
// catches a half-open socket (a laptop waking up, a proxy dropping it) the browser misses.
const PING_EVERY_MS = 15000;
const SILENCE_LIMIT_MS = 45000;

export class LiveConnection {
  /**
   * @param {string} url ws:// or wss:// address of /ws
   * @param {{onMessage: (m: object) => void, onState: (s: string, detail: object) => void}} handlers
   */
  constructor(url, { onMessage, onState }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onState = onState;
    this.state = "connecting";
    this.attempt = 0;
    this.socket = null;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.lastHeard = 0;
    // A browser that knows it is back online should not wait out the backoff.
    addEventListener("online", () => this.retryNow());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.retryNow();
    });
  }

  start() {
    this.connect();
  }

  setState(state, detail = {}) {
    this.state = state;
    this.onState(state, detail);
  }

  connect() {
    clearTimeout(this.retryTimer);
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.lastHeard = Date.now();
      socket.send(JSON.stringify({ type: "subscribe", elements: "*" }));
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.keepAlive(), PING_EVERY_MS);
    };
    socket.onmessage = (event) => {
      this.lastHeard = Date.now();
      const message = JSON.parse(event.data);
      if (message.type === "snapshot" && this.state !== "live") {
        this.attempt = 0;
        this.setState("live");
      }
      this.onMessage(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      clearInterval(this.pingTimer);
      this.socket = null;
      this.scheduleRetry();
    };
    // onerror is always followed by onclose, which does the work.
  }

  /** Ask for a fresh snapshot, e.g. after a model import added elements wholesale. */
  resubscribe() {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: "subscribe", elements: "*" }));
  }

  keepAlive() {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
      socket.close();
      return;
    }
    socket.send(JSON.stringify({ type: "ping" }));
  }

  scheduleRetry() {
    this.attempt += 1;
    // Exponential backoff with jitter, so a hundred screens on one site do not all
    // reconnect in the same millisecond when the server comes back.
    const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (this.attempt - 1));
    const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
    const state = this.attempt > OFFLINE_AFTER_ATTEMPTS ? "offline" : "reconnecting";
    this.setState(state, { attempt: this.attempt, retryAt: Date.now() + delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  retryNow() {
    if (this.socket === null && this.state !== "live") this.connect();
  }
}

/** The /ws address of the page's own server. */
export function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}
