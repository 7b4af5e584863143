// The console's entry point: the header (user, workspace switcher, breadcrumb,
// logout), the problem banner, the session shared with the console's other tabs
// (tabs.js), and the router that renders pages into <main>.

import { onUnauthorized, releaseObjectUrls, setToken, token } from "./api.js";
import { h, mount, route } from "./dom.js";
import "./pages/registry.js";
import { go, start } from "./router.js";
import { forget, logOut, me } from "./session.js";
import { askTabs, joinTabs } from "./tabs.js";
import { breadcrumb, clearError, guarded, showError } from "./ui.js";

const PUBLIC = new Set(["/login"]);

function switcher(user, path) {
  const current = path.split("/")[2] ? decodeURIComponent(path.split("/")[2]) : "";
  const options = user.workspaces.map((w) =>
    h("option", { value: w.id, selected: w.id === current }, `${w.id} (${w.role})`),
  );
  return h(
    "label",
    { class: "switcher" },
    "Workspace ",
    h(
      "select",
      {
        "data-testid": "workspace-switcher",
        onChange: (e) => go(route("ws", e.target.value)),
      },
      current ? null : h("option", { value: "", selected: true, disabled: true }, "choose…"),
      options,
    ),
  );
}

async function header(path) {
  const slot = document.getElementById("session");
  if (PUBLIC.has(path) || !token()) {
    mount(slot);
    return;
  }
  const user = await me();
  mount(
    slot,
    switcher(user, path),
    h("span", { class: "user", "data-testid": "current-user" }, user.user.username, user.user.is_admin ? " (admin)" : ""),
    h(
      "button",
      {
        type: "button",
        "data-testid": "logout",
        onClick: () => guarded(async () => {
          await logOut();
          go("#/login");
        }),
      },
      "Log out",
    ),
  );
}

onUnauthorized(() => {
  forget();
  if (!location.hash.startsWith("#/login")) go("#/login?expired=1");
});

// A tab opened without a token takes the one the console's open tabs hold.
joinTabs({
  token,
  onLogout: () => {
    forget();
    if (!location.hash.startsWith("#/login")) go("#/login");
  },
});
if (!token()) {
  const shared = await askTabs();
  if (shared) setToken(shared);
}

start(document.getElementById("page"), {
  guard: (path) => (!token() && !PUBLIC.has(path) ? "#/login" : null),
  before: (path) => {
    releaseObjectUrls();
    clearError();
    breadcrumb(path);
    header(path).catch((err) => showError(err));
  },
  error: showError,
});
