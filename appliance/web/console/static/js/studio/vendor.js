// Konva (vendor/konva.min.js, MIT) is loaded the first time a studio or review
// page opens, as a plain <script src> from this origin: the CSP allows only
// 'self' scripts, and other pages never pay for it.

const SRC = "/console/static/vendor/konva.min.js";
let loading = null;

export function loadKonva() {
  if (globalThis.Konva) return Promise.resolve(globalThis.Konva);
  loading =
    loading ||
    new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = SRC;
      script.onload = () => resolve(globalThis.Konva);
      script.onerror = () => {
        loading = null;
        reject(new Error(`could not load ${SRC}`));
      };
      document.head.append(script);
    });
  return loading;
}
