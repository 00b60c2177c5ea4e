// The stage's settings, given to the page next to index.html as config.json: the deployed stage's bucket gets it
// at deploy time and the local runtime serves it (both from cdk/web_config.py). A page served without it (any web
// server, ?url=) still works. Pure apart from the fetch, which is passed in: unit-tested with `node --test`.

export const CONFIG_PATH = "config.json";
const NO_SIGN_IN = Object.freeze({ type: "none" });

/** {websocketUrl, auth} from config.json's document, or null when it is not one. */
export function parsePageConfig(document) {
  if (!document || typeof document !== "object" || Array.isArray(document)) return null;
  const url = typeof document.websocket_url === "string" ? document.websocket_url.trim() : "";
  if (!/^wss?:\/\//.test(url)) return null;
  const auth = document.auth && typeof document.auth === "object" ? document.auth : { ...NO_SIGN_IN };
  return { websocketUrl: url, auth };
}

/** config.json next to the page, or null when there is none (or it cannot be read): the page then derives its URL. */
export async function loadPageConfig(fetchImpl = globalThis.fetch) {
  try {
    // Revalidated every time: a redeployed stage's settings must not wait for a cache to expire.
    const response = await fetchImpl(CONFIG_PATH, { cache: "no-cache" });
    if (!response.ok) return null;
    return parsePageConfig(await response.json());
  } catch {
    return null;
  }
}
