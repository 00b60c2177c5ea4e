// Which WebSocket URL the page connects to. Pure functions: unit-tested with `node --test` (tests/web).

export const DEFAULT_STAGE = "dev";
// Where `make dev` serves the chat, for a page opened from disk rather than from the local runtime.
const FALLBACK_ORIGIN = "ws://127.0.0.1:3001";
const EXAMPLE_URL = "wss://abc123.execute-api.eu-west-1.amazonaws.com/dev";

/** The WebSocket URL to use when the page opens: ?url=, else ?stage= on this page's own host, else the stage the
 * page was deployed with (config.json, `config` as web/page-config.js reads it), else stage dev on this host. */
export function defaultSocketUrl(loc = window.location, config = null) {
  const params = new URLSearchParams(loc.search);
  const explicit = (params.get("url") || "").trim();
  if (explicit) return explicit;
  if (config?.websocketUrl && !params.get("stage")) return config.websocketUrl;
  const stage = (params.get("stage") || DEFAULT_STAGE).trim().replace(/^\/+|\/+$/g, "") || DEFAULT_STAGE;
  const path = stage.split("/").map(encodeURIComponent).join("/");
  if (!loc.host || (loc.protocol !== "http:" && loc.protocol !== "https:")) return `${FALLBACK_ORIGIN}/${path}`;
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/${path}`;
}

/** {url} for a usable ws:// or wss:// URL (http(s):// is turned into ws(s)://), else {error}. */
export function normalizeSocketUrl(text) {
  const trimmed = String(text ?? "").trim();
  if (!trimmed) return { error: `Type a WebSocket URL first, like ${EXAMPLE_URL}.` };
  let url;
  try {
    url = new URL(trimmed);
  } catch {
    return { error: `“${trimmed}” is not a URL; a WebSocket URL looks like ${EXAMPLE_URL}.` };
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    return { error: `A WebSocket URL starts with ws:// or wss://, not ${url.protocol}//.` };
  }
  url.hash = "";
  return { url: url.href };
}

/** The page's path and query after connecting to `url` from `pageHref` (with its config.json's `config`): ?url= is
 * kept only when the page would not derive that URL by itself, and ?connect= is dropped (a reload should connect
 * again). */
export function pageLocationFor(pageHref, url, config = null) {
  const here = new URL(pageHref);
  const params = new URLSearchParams(here.search);
  params.delete("url");
  params.delete("connect");
  const derived = defaultSocketUrl({ search: `?${params}`, host: here.host, protocol: here.protocol }, config);
  if (normalizeSocketUrl(derived).url !== url) {
    params.delete("stage");
    params.set("url", url);
  }
  const query = params.toString();
  return `${here.pathname}${query ? `?${query}` : ""}`;
}

/** `url` with the ID token a stage with sign-in expects in its `token` query-string parameter (browsers cannot set
 * headers on a WebSocket); `url` itself when there is no token. */
export function withToken(url, token) {
  if (!token) return url;
  const address = new URL(url);
  address.searchParams.set("token", token);
  return address.href;
}
