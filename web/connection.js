// One WebSocket connection at a time: connecting (closing the previous one), its state, the id the
// server gave it, and reconnecting. No DOM: the socket class is injected, so `node --test`
// (tests/web) drives it with a fake.

import { describeClose } from "./protocol.js";
import { normalizeSocketUrl } from "./urls.js";

const CONNECTING = 0;
const OPEN = 1;

export class ChatConnection {
  #ws = null;

  /**
   * onStatus(state, text): state is "idle" | "connecting" | "open" | "closed".
   * onIdentity(connectionId, live): the id the page shows (null: not known yet), and whether it is live.
   * onFrame(data): a frame from the current connection.
   * onEnded(why): the connection is over; whatever is still unconfirmed may never be delivered.
   * socketUrl(url): the address actually opened for the stage's `url`, asked on every connect: on a stage with
   * sign-in it adds the current ID token (?token=), so a reconnect never reuses an old one. The token stays out of
   * `url`, of the status texts and of the address bar.
   */
  constructor({ onStatus, onIdentity, onFrame, onEnded, WebSocketClass = null, socketUrl = (url) => url }) {
    Object.assign(this, { onStatus, onIdentity, onFrame, onEnded, WebSocketClass, socketUrl });
    this.url = null;
    this.connectionId = null;
  }

  /** Whether the status is connecting or open (else Reconnect is offered, once there is a URL). */
  get live() {
    return this.#ws !== null;
  }

  get isOpen() {
    return this.#ws !== null && this.#ws.readyState === OPEN;
  }

  /** Connects to `rawUrl`, closing the current connection first: {url}, or {error} for an unusable URL
   * (the current connection is then left alone). */
  connect(rawUrl) {
    const { url, error } = normalizeSocketUrl(rawUrl);
    if (error) return { error };
    if (this.#ws) {
      const previous = this.#ws;
      this.#ws = null; // its events are ignored from now on
      previous.close(1000, "reconnecting");
      this.onEnded("The previous connection was closed to connect again.");
    }
    this.url = url;
    this.connectionId = null;
    this.onIdentity(null, false);
    try {
      // The page's WebSocket as it is now: a test harness may have replaced it since the page loaded.
      const Socket = this.WebSocketClass ?? globalThis.WebSocket;
      this.#watch(new Socket(this.socketUrl(url)), url);
    } catch (problem) {
      this.onStatus("closed", `Could not connect to ${url}: ${problem.message}`);
    }
    return { url };
  }

  /** Connects again to the last URL (a new connection gets a new id). */
  reconnect(fallbackUrl) {
    return this.connect(this.url || fallbackUrl);
  }

  disconnect() {
    if (this.#ws) this.#ws.close(1000, "closed by the user");
  }

  /** The browser refused the connection (the page's Content-Security-Policy): Chromium then never fires the
   * socket's close event, so the connection is ended here, with `reason`. An open connection is left alone. */
  refuse(reason) {
    const ws = this.#ws;
    if (!ws || ws.readyState === OPEN) return;
    this.#ws = null; // its events are ignored from now on
    ws.close();
    this.onStatus("closed", `${reason} (${this.url})`);
    this.onIdentity(this.connectionId, false);
  }

  /** The server's connection frame named this connection. */
  identify(connectionId) {
    this.connectionId = connectionId;
    this.onIdentity(connectionId, true);
    this.onStatus("open", `Connected to ${this.url}.`);
  }

  /** Sends text on the open connection; throws when it is not open (see notOpenReason). */
  send(text) {
    if (!this.isOpen) throw new Error(this.notOpenReason());
    this.#ws.send(text);
  }

  notOpenReason() {
    if (this.#ws && this.#ws.readyState === CONNECTING) return "still connecting; wait a moment and send again";
    if (!this.url) return "not connected; enter a WebSocket URL and choose Connect";
    return "the connection is closed; choose Reconnect, then send again";
  }

  #watch(ws, url) {
    this.#ws = ws;
    this.onStatus("connecting", `Connecting to ${url}…`);
    ws.addEventListener("open", () => {
      if (ws === this.#ws) this.onStatus("open", `Connected to ${url}; waiting for your connection id…`);
    });
    ws.addEventListener("message", (event) => {
      if (ws === this.#ws) this.onFrame(event.data);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.#ws) return;
      this.#ws = null;
      this.onStatus("closed", `${describeClose(event.code, event.reason)} (${url})`);
      this.onIdentity(this.connectionId, false);
      this.onEnded("The connection closed before the server confirmed this message; it may not have been delivered.");
    });
  }
}
