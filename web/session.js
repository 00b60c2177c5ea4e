// The signed-in user's tokens: kept in memory and in this tab's sessionStorage only (never localStorage: a token
// must not outlive the tab, nor be shared with other tabs by the browser), renewed with the refresh token a little
// before the ID token expires, and forgotten on sign-out. The connection asks `currentToken()` each time it opens,
// so every reconnect carries the token as it is then. No DOM: the Cognito client, the storage and the timers are
// passed in, so `node --test` (tests/web) drives it.

export const STORAGE_KEY = "chat.session";
// Renewed this long before the ID token expires (or at half its life, if that is sooner).
export const RENEW_BEFORE_MS = 5 * 60_000;
// A renewal that failed for a reason other than a refused refresh token (the network) is tried again after this.
export const RETRY_MS = 30_000;

/** The claims of a JWT (not verified: the $connect authorizer verifies; the page only reads exp and the name). */
export function jwtClaims(token) {
  const part = String(token ?? "").split(".")[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/** When to renew a token that expires at `expiresAtMs`, given that it was issued at `issuedAtMs`. */
export function renewalTime(issuedAtMs, expiresAtMs) {
  return Math.max(expiresAtMs - RENEW_BEFORE_MS, issuedAtMs + (expiresAtMs - issuedAtMs) / 2);
}

export class AuthSession {
  #tokens = null; // {idToken, refreshToken, username, userId, expiresAtMs}
  #timer = null;
  #renewing = null;

  /** `cognito`: a CognitoClient; `onChange(user|null, why)`: signed in/renewed, or signed out (why says why). */
  constructor({ cognito, storage = null, timers = globalThis, now = () => Date.now(), onChange = () => {} }) {
    Object.assign(this, { cognito, storage, timers, now, onChange });
  }

  /** {name, id} of the signed-in user, or null. */
  get user() {
    return this.#tokens ? { name: this.#tokens.username, id: this.#tokens.userId } : null;
  }

  /** The ID token as it is now (null when signed out), for an address built at once; `currentToken()` renews. */
  get idToken() {
    return this.#tokens?.idToken ?? null;
  }

  /** Picks up the tokens this tab kept (a reload), renewing them if they expired; resolves to the user or null. */
  async resume() {
    const kept = this.#read();
    if (!kept) return null;
    this.#tokens = kept;
    if (this.now() >= kept.expiresAtMs) return (await this.renew()) ? this.user : null;
    this.#schedule();
    this.onChange(this.user, "resumed");
    return this.user;
  }

  async signIn(username, password) {
    const tokens = await this.cognito.signIn(username, password);
    this.#keep(tokens, tokens.refreshToken);
    this.onChange(this.user, "signed in");
    return this.user;
  }

  /** The ID token to connect with: renewed first when it has expired (null when signed out or not renewable). */
  async currentToken() {
    if (!this.#tokens) return null;
    if (this.now() >= this.#tokens.expiresAtMs && !(await this.renew())) return null;
    return this.#tokens.idToken;
  }

  /** New tokens from the refresh token; true when renewed. A refused refresh token (revoked, expired) signs out;
   * a network failure keeps the session and tries again later. Concurrent calls share one request. */
  renew() {
    this.#renewing ??= this.#renew().finally(() => {
      this.#renewing = null;
    });
    return this.#renewing;
  }

  /** Forgets the tokens (and revokes the refresh token, best effort: signing out never waits on the network). */
  signOut(why = "signed out") {
    const refreshToken = this.#tokens?.refreshToken;
    this.#forget();
    if (refreshToken) this.cognito.revoke(refreshToken).catch(() => {});
    this.onChange(null, why);
  }

  async #renew() {
    const kept = this.#tokens;
    if (!kept?.refreshToken) return false;
    try {
      this.#keep(await this.cognito.refresh(kept.refreshToken), kept.refreshToken);
    } catch (failure) {
      if (this.#tokens !== kept) return false;
      if (failure.code === "NetworkError" || failure.code === "TooManyRequestsException") {
        this.#schedule(RETRY_MS);
        return false;
      }
      this.#forget();
      this.onChange(null, "Your sign-in has expired; sign in again.");
      return false;
    }
    this.onChange(this.user, "renewed");
    return true;
  }

  #keep({ idToken }, refreshToken) {
    const claims = jwtClaims(idToken) ?? {};
    const expiresAtMs = Number(claims.exp) * 1000 || this.now();
    const issuedAtMs = Number(claims.iat) * 1000 || this.now();
    this.#tokens = {
      idToken,
      refreshToken,
      username: String(claims["cognito:username"] ?? ""),
      userId: String(claims.sub ?? ""),
      expiresAtMs,
      issuedAtMs,
    };
    this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.#tokens));
    this.#schedule();
  }

  #read() {
    try {
      const kept = JSON.parse(this.storage?.getItem(STORAGE_KEY) ?? "null");
      return kept && typeof kept.idToken === "string" && typeof kept.expiresAtMs === "number" ? kept : null;
    } catch {
      return null;
    }
  }

  #schedule(delayMs = null) {
    this.timers.clearTimeout(this.#timer);
    const { issuedAtMs, expiresAtMs } = this.#tokens;
    const wait = delayMs ?? Math.max(0, renewalTime(issuedAtMs, expiresAtMs) - this.now());
    this.#timer = this.timers.setTimeout(() => this.renew(), wait);
  }

  #forget() {
    this.timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#tokens = null;
    this.storage?.removeItem(STORAGE_KEY);
  }
}
