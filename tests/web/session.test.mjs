// node --test: the signed-in user's tokens (web/session.js): kept in sessionStorage only, renewed before they
// expire, renewed on demand when they have, forgotten on sign-out; with a fake Cognito, storage and clock.
import assert from "node:assert/strict";
import { test } from "node:test";

import { AuthSession, RENEW_BEFORE_MS, RETRY_MS, STORAGE_KEY, jwtClaims, renewalTime } from "../../web/session.js";
import { CognitoError } from "../../web/cognito.js";

const HOUR_MS = 3600_000;

/** An unsigned JWT with these claims (the page never verifies: the $connect authorizer does). */
function idToken(claims) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", kid: "k" })}.${part(claims)}.c2lnbmF0dXJl`;
}

class FakeClock {
  nowMs = 1_800_000_000_000;
  timers = [];
  setTimeout = (fn, ms) => this.timers.push({ fn, at: this.nowMs + ms }) && this.timers.at(-1);
  clearTimeout = (timer) => {
    this.timers = this.timers.filter((t) => t !== timer);
  };
  /** Moves the clock on, running the timers that fall due. */
  advance(ms) {
    this.nowMs += ms;
    const due = this.timers.filter((t) => t.at <= this.nowMs);
    this.timers = this.timers.filter((t) => t.at > this.nowMs);
    for (const t of due) t.fn();
  }
}

class FakeStorage {
  items = new Map();
  getItem = (key) => (this.items.has(key) ? this.items.get(key) : null);
  setItem = (key, value) => this.items.set(key, String(value));
  removeItem = (key) => this.items.delete(key);
}

function tokensAt(clock, { name = "alice", lifetimeMs = HOUR_MS } = {}) {
  const iat = Math.floor(clock.nowMs / 1000);
  return { idToken: idToken({ sub: "sub-1", "cognito:username": name, iat, exp: iat + lifetimeMs / 1000 }), refreshToken: "refresh-1" };
}

function session({ refresh } = {}) {
  const clock = new FakeClock();
  const storage = new FakeStorage();
  const calls = [];
  const cognito = {
    signIn: async (username) => (calls.push(["signIn", username]), tokensAt(clock, { name: username })),
    refresh: refresh ?? (async (token) => (calls.push(["refresh", token]), { ...tokensAt(clock), refreshToken: null })),
    revoke: async (token) => calls.push(["revoke", token]),
  };
  const changes = [];
  const auth = new AuthSession({ cognito, storage, timers: clock, now: () => clock.nowMs, onChange: (user, why) => changes.push([user, why]) });
  return { auth, clock, storage, calls, changes };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("the ID token's claims are read without verifying; garbage reads as nothing", () => {
  assert.deepEqual(jwtClaims(idToken({ sub: "s", "cognito:username": "ålice" })), { sub: "s", "cognito:username": "ålice" });
  for (const garbage of [null, "", "abc", "a.!!!.c", `a.${Buffer.from("[").toString("base64url")}.c`]) {
    assert.equal(jwtClaims(garbage), null, String(garbage));
  }
});

test("signing in keeps the tokens in this tab's sessionStorage and names the user from the ID token", async () => {
  const { auth, storage, changes } = session();
  assert.deepEqual(await auth.signIn("alice", "pw"), { name: "alice", id: "sub-1" });
  assert.deepEqual(changes, [[{ name: "alice", id: "sub-1" }, "signed in"]]);
  const kept = JSON.parse(storage.getItem(STORAGE_KEY));
  assert.equal(kept.refreshToken, "refresh-1");
  assert.equal(await auth.currentToken(), kept.idToken);
});

test("the ID token is renewed five minutes before it expires, keeping the refresh token", async () => {
  const { auth, clock, calls } = session();
  await auth.signIn("alice", "pw");
  const first = await auth.currentToken();

  clock.advance(HOUR_MS - RENEW_BEFORE_MS - 1000);
  assert.deepEqual(calls, [["signIn", "alice"]]);
  clock.advance(1000);
  await settle();
  assert.deepEqual(calls.at(-1), ["refresh", "refresh-1"]);
  assert.notEqual(await auth.currentToken(), first);
  clock.advance(HOUR_MS - RENEW_BEFORE_MS); // the renewed token's own renewal uses the same refresh token
  await settle();
  assert.deepEqual(calls.at(-1), ["refresh", "refresh-1"]);
});

test("a short-lived token is renewed at half its life", () => {
  assert.equal(renewalTime(0, 6 * 60_000), 3 * 60_000);
  assert.equal(renewalTime(0, HOUR_MS), HOUR_MS - RENEW_BEFORE_MS);
});

test("an expired token is renewed before it is given to a connection", async () => {
  const { auth, clock, calls } = session();
  await auth.signIn("alice", "pw");
  clock.timers = []; // a sleeping laptop: the timer never ran
  clock.nowMs += 2 * HOUR_MS;

  const token = await auth.currentToken();
  assert.deepEqual(calls.at(-1), ["refresh", "refresh-1"]);
  assert.ok(jwtClaims(token).exp * 1000 > clock.nowMs);
});

test("a refused refresh token signs out, saying why; a network failure keeps the session and retries", async () => {
  let refusal = new CognitoError("NetworkError", "offline");
  const { auth, clock, changes, storage } = session({ refresh: async () => { throw refusal; } });
  await auth.signIn("alice", "pw");
  clock.nowMs += 2 * HOUR_MS;

  assert.equal(await auth.currentToken(), null);
  assert.deepEqual(auth.user, { name: "alice", id: "sub-1" });
  assert.equal(clock.timers.at(-1).at, clock.nowMs + RETRY_MS);

  refusal = new CognitoError("NotAuthorizedException", "Refresh Token has been revoked");
  assert.equal(await auth.renew(), false);
  assert.equal(auth.user, null);
  assert.equal(storage.getItem(STORAGE_KEY), null);
  assert.deepEqual(changes.at(-1), [null, "Your sign-in has expired; sign in again."]);
});

test("a reload resumes from sessionStorage; sign-out forgets and revokes", async () => {
  const { auth, storage, calls, clock } = session();
  await auth.signIn("alice", "pw");
  const reloaded = new AuthSession({ cognito: auth.cognito, storage, timers: clock, now: () => clock.nowMs });
  assert.deepEqual(await reloaded.resume(), { name: "alice", id: "sub-1" });

  reloaded.signOut();
  await settle();
  assert.equal(reloaded.user, null);
  assert.equal(await reloaded.currentToken(), null);
  assert.equal(storage.getItem(STORAGE_KEY), null);
  assert.deepEqual(calls.at(-1), ["revoke", "refresh-1"]);
  assert.equal(clock.timers.length, 1); // only the first session's renewal is left
});

test("nothing kept, or something unreadable kept, resumes as signed out", async () => {
  const { auth, storage } = session();
  assert.equal(await auth.resume(), null);
  storage.setItem(STORAGE_KEY, "{not json");
  assert.equal(await auth.resume(), null);
});

test("concurrent renewals share one request", async () => {
  const { auth, clock, calls } = session();
  await auth.signIn("alice", "pw");
  clock.nowMs += 2 * HOUR_MS;
  await Promise.all([auth.currentToken(), auth.currentToken(), auth.renew()]);
  assert.equal(calls.filter(([name]) => name === "refresh").length, 1);
});
