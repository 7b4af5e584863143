// The workspaces you belong to (GET /v1/me for roles, GET /v1/workspaces for the rest).

import { api } from "../api.js";
import { h, mount, route, when } from "../dom.js";
import { me } from "../session.js";
import { empty, heading, table } from "../ui.js";

export async function render(root) {
  const [who, workspaces] = await Promise.all([me(), api("/v1/workspaces")]);
  const rows = workspaces.map((w) => [
    h("a", { href: route("ws", w.id), "data-testid": "workspace-link" }, w.id),
    w.description || "",
    h("span", { class: "role" }, w.role),
    when(w.created_at),
  ]);
  mount(
    root,
    heading("Workspaces"),
    h(
      "p",
      { class: "muted" },
      `Logged in as ${who.user.username}`,
      who.user.is_admin ? ", a box admin: you can create workspaces with `ahoy` or the API." : ".",
    ),
    rows.length
      ? table(["Workspace", "Description", "Your role", "Created"], rows, { "data-testid": "workspaces" })
      : empty("You belong to no workspace yet: ask a box admin to add you."),
  );
}
