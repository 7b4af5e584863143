// Review: #/ws/{ws}/datasets/{ds}/review?path=&filter= (studio/review.js does the work).

import { onLeave } from "../router.js";
import { createReview } from "../studio/review.js";
import { loadKonva } from "../studio/vendor.js";

export async function render(root, params) {
  await loadKonva();
  const review = createReview(root, params);
  onLeave(() => review.leave());
  await review.start();
}
