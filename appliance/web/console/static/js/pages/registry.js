// Every page of the console, one line each. A page is a module in this folder
// exporting ``async function render(root, params)``; it loads when first opened.
// Studio and review pages are added the same way, e.g.:
//   register("/ws/:ws/datasets/:ds/studio", () => import("./studio.js"));

import { register } from "../router.js";

register("/login", () => import("./login.js"));
register("/ws", () => import("./workspaces.js"));
register("/ws/:ws", () => import("./workspace.js"));
register("/capacity", () => import("./capacity.js"));
register("/ws/:ws/jobs", () => import("./jobs.js"));
register("/ws/:ws/jobs/:job", () => import("./job.js"));
register("/ws/:ws/train", () => import("./train.js"));
register("/ws/:ws/models", () => import("./models.js"));
register("/ws/:ws/models/:name", () => import("./model.js"));
register("/ws/:ws/evaluations/:id", () => import("./evaluation.js"));
register("/ws/:ws/compare", () => import("./compare.js"));
register("/ws/:ws/datasets/:ds", () => import("./dataset.js"));
register("/ws/:ws/datasets/:ds/versions/:ref", () => import("./version.js"));
register("/ws/:ws/datasets/:ds/diff", () => import("./diff.js"));
register("/ws/:ws/datasets/:ds/stats", () => import("./stats.js"));
register("/ws/:ws/datasets/:ds/studio", () => import("./studio.js"));
register("/ws/:ws/datasets/:ds/review", () => import("./review.js"));
