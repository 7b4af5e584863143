// Log in: POST /v1/sessions {username, password} → a session token for this tab.

import { api, setToken } from "../api.js";
import { h, mount } from "../dom.js";
import { go } from "../router.js";
import { forget } from "../session.js";
import { guarded } from "../ui.js";

export async function render(root, params) {
  const username = h("input", { name: "username", autocomplete: "username", required: true, "data-testid": "username" });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
    "data-testid": "password",
  });
  const submit = h("button", { type: "submit", "data-testid": "login-submit" }, "Log in");
  const form = h(
    "form",
    {
      class: "login",
      "data-testid": "login-form",
      onSubmit: (e) => {
        e.preventDefault();
        submit.disabled = true;
        guarded(async () => {
          forget();
          const session = await api("/v1/sessions", {
            method: "POST",
            body: { username: username.value, password: password.value },
          });
          setToken(session.token);
          go("#/ws");
        }).finally(() => {
          submit.disabled = false;
        });
      },
    },
    h("h1", {}, "Log in"),
    params.expired ? h("p", { class: "note" }, "Your session ended: log in again.") : null,
    h("label", {}, "User name", username),
    h("label", {}, "Password", password),
    submit,
  );
  mount(root, form);
  username.focus();
}
