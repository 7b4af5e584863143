// A hash router: "#/ws/default/datasets/pets/diff?a=1&b=2" → the page registered for
// "/ws/:ws/datasets/:ds/diff", rendered with {ws, ds, a, b}. Pages are modules
// exporting ``async function render(root, params)``; pages/registry.js lists them.

const routes = [];
let leaving = [];
let hooks = { before() {}, error() {}, guard: () => null };
let sequence = 0;

/**
 * Add a page. ``pattern`` is a path with ":name" segments; ``module`` is a page
 * module or a function that loads one (``() => import("./pages/x.js")``), so a
 * page costs nothing until it is first opened.
 */
export function register(pattern, module) {
  const keys = [];
  const source = pattern.replace(/\/:([A-Za-z_]\w*)/g, (_, key) => {
    keys.push(key);
    return "/([^/]+)";
  });
  const load = typeof module === "function" ? module : () => Promise.resolve(module);
  routes.push({ pattern, regex: new RegExp(`^${source}/?$`), keys, load });
}

/** Run ``fn`` when the user leaves the current page (stop polling, close streams). */
export function onLeave(fn) {
  leaving.push(fn);
}

export function parse(hash) {
  const text = (hash || "").replace(/^#/, "") || "/";
  const at = text.indexOf("?");
  const path = at < 0 ? text : text.slice(0, at);
  const query = Object.fromEntries(new URLSearchParams(at < 0 ? "" : text.slice(at + 1)));
  return { path, query };
}

export function match(path) {
  for (const route of routes) {
    const found = route.regex.exec(path);
    if (!found) continue;
    const params = {};
    route.keys.forEach((key, i) => {
      params[key] = decodeURIComponent(found[i + 1]);
    });
    return { route, params };
  }
  return null;
}

export function go(hash) {
  if (location.hash === hash) navigate();
  else location.hash = hash;
}

export function currentPath() {
  return parse(location.hash).path;
}

async function navigate() {
  const seq = ++sequence;
  for (const fn of leaving.splice(0)) {
    try {
      fn();
    } catch (err) {
      console.warn("leaving a page:", err);
    }
  }
  const { path, query } = parse(location.hash);
  const redirect = hooks.guard(path);
  if (redirect) {
    go(redirect);
    return;
  }
  const found = match(path);
  const page = document.createElement("section");
  page.className = "page";
  hooks.root.replaceChildren(page);
  hooks.before(path);
  if (!found) {
    hooks.error(new Error(`no page at ${path}`), { title: "No such page", hint: "use the links above" });
    return;
  }
  page.dataset.route = found.route.pattern;
  try {
    const module = await found.route.load();
    if (seq !== sequence) return; // the user moved on while it loaded
    await module.render(page, { ...query, ...found.params });
  } catch (err) {
    if (seq === sequence && err.name !== "AbortError") hooks.error(err);
  }
}

/**
 * Start routing into ``root``. ``guard(path)`` may answer another hash to go to
 * (the login page when there is no token); ``before(path)`` runs before each page;
 * ``error(err)`` shows what a page threw.
 */
export function start(root, { guard, before, error, fallback = "#/ws" }) {
  hooks = { root, guard, before, error };
  window.addEventListener("hashchange", navigate);
  if (!location.hash || location.hash === "#" || location.hash === "#/") location.hash = fallback;
  else navigate();
}
