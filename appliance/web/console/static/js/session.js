// Who is logged in: the answer of GET /v1/me, fetched once per login.

import { api, clearToken, token } from "./api.js";
import { tellLogout } from "./tabs.js";

let current = null;

export async function me() {
  if (!current && token()) current = await api("/v1/me");
  return current;
}

export function forget() {
  current = null;
  clearToken();
}

/** Log out: revoke the session token on the appliance, then forget it here and in
 * every other tab of the console (they share it). */
export async function logOut() {
  try {
    if (token()) await api("/v1/sessions/current", { method: "DELETE" });
  } finally {
    forget();
    tellLogout();
  }
}
