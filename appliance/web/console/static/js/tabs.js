// One login per browser, not per tab. The session token stays where it was, in
// each tab's sessionStorage (never a cookie, never localStorage); a tab opened
// without one (a link opened in a new tab, a bookmark) asks the console's open
// tabs for theirs over a BroadcastChannel, and logging out in one tab logs out
// all of them. The channel reaches only this origin's pages in this browser
// profile; why this and not a cookie is in docs/security.md ("The console's session").

const CHANNEL = "ahoy.session";
const WAIT_MS = 300; // open tabs answer within a few ms; a lone tab waits this long once

let channel = null;
const waiting = new Map(); // nonce → resolve

/**
 * Answer other tabs from now on: ``token()`` is this tab's token (or null),
 * ``onLogout()`` runs when another tab logged out.
 */
export function joinTabs({ token, onLogout }) {
  if (channel || typeof BroadcastChannel !== "function") return;
  channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = ({ data }) => {
    const m = data || {};
    if (m.type === "ask" && token()) {
      channel.postMessage({ type: "token", nonce: m.nonce, token: token() });
    } else if (m.type === "token" && waiting.has(m.nonce)) {
      waiting.get(m.nonce)(typeof m.token === "string" ? m.token : null);
    } else if (m.type === "logout") {
      onLogout();
    }
  };
}

/** The token of another open tab, or null when none answers in time. */
export function askTabs() {
  if (!channel) return Promise.resolve(null);
  const nonce = crypto.getRandomValues(new Uint32Array(4)).join("-");
  return new Promise((resolve) => {
    const done = (value) => {
      clearTimeout(timer);
      waiting.delete(nonce);
      resolve(value);
    };
    const timer = setTimeout(() => done(null), WAIT_MS);
    waiting.set(nonce, done);
    channel.postMessage({ type: "ask", nonce });
  });
}

/** This tab logged out: the token is revoked, so every tab forgets it. */
export function tellLogout() {
  if (channel) channel.postMessage({ type: "logout" });
}
