// The native (OpenBLAS) fast paths of paper D's diagnostics against the JavaScript paths they
// replace at paper size: the lang-ID probe's products (`fitMultinomialLogistic`, `dgemm`).
import assert from "node:assert/strict";
import { initBackend, loadOpenBlas, setNativeBlasEnabled } from "../lib/backend/mod.ts";
import {
  fitMultinomialLogistic,
  NATIVE_LOGISTIC_MIN_FEATURES,
  predictMultinomialLogistic,
} from "../lib/diagnostics/logistic_regression.ts";
import { matrix } from "../lib/diagnostics/matrix.ts";
import { SeededRandom } from "../lib/util/seeded_random.ts";
import { KitError } from "../lib/util/kit_error.ts";

const HAVE_OPENBLAS = loadOpenBlas({ quiet: true }) !== null;
const needsLib = { ignore: !HAVE_OPENBLAS, sanitizeResources: false, sanitizeOps: false };

/** `classes` languages of `rows` unit rows each: a per-language offset plus noise, as captions. */
function languageRows(classes: number, rows: number, d: number, seed: number) {
  const rng = new SeededRandom(seed);
  const centres = Array.from(
    { length: classes },
    () => Array.from({ length: d }, () => rng.normal()),
  );
  const data = new Float64Array(classes * rows * d);
  const labels = new Int32Array(classes * rows);
  for (let c = 0; c < classes; c++) {
    for (let r = 0; r < rows; r++) {
      const o = (c * rows + r) * d;
      let norm = 0;
      for (let t = 0; t < d; t++) {
        const v = 0.15 * centres[c]![t]! + rng.normal();
        data[o + t] = v;
        norm += v * v;
      }
      for (let t = 0; t < d; t++) data[o + t]! /= Math.sqrt(norm);
      labels[c * rows + r] = c;
    }
  }
  return { x: matrix(data, classes * rows, d), labels };
}

/** max|a − b| / max|b|. */
function relMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

Deno.test(
  "fitMultinomialLogistic(): dgemm products reach the JavaScript loops' optimum at paper width (objective 1e-10, weights 1e-6, same predictions)",
  needsLib,
  async () => {
    await initBackend("wasm+openblas");
    const d = 256;
    assert.ok(d >= NATIVE_LOGISTIC_MIN_FEATURES);
    const train = languageRows(9, 60, d, 1), test = languageRows(9, 30, d, 2);
    const js = fitMultinomialLogistic(train.x, train.labels, { classes: 9, products: "js" });
    const auto = fitMultinomialLogistic(train.x, train.labels, { classes: 9 });
    const native = fitMultinomialLogistic(train.x, train.labels, {
      classes: 9,
      products: "native",
    });
    assert.ok(js.converged && native.converged);
    assert.deepEqual(auto.coef, native.coef, "auto takes dgemm at this width");
    assert.ok(Math.abs(native.objective - js.objective) <= 1e-10 * js.objective);
    assert.ok(relMax(native.coef, js.coef) < 1e-6, `coef ${relMax(native.coef, js.coef)}`);
    assert.deepEqual(
      predictMultinomialLogistic(native, test.x),
      predictMultinomialLogistic(js, test.x),
    );
  },
);

Deno.test(
  "fitMultinomialLogistic(): below NATIVE_LOGISTIC_MIN_FEATURES (the mini profile's 64-d) auto is the JavaScript loops bit for bit",
  needsLib,
  async () => {
    await initBackend("wasm+openblas");
    const train = languageRows(9, 40, 64, 3);
    const js = fitMultinomialLogistic(train.x, train.labels, { classes: 9, products: "js" });
    const auto = fitMultinomialLogistic(train.x, train.labels, { classes: 9 });
    assert.deepEqual(auto.coef, js.coef);
    assert.deepEqual(auto.intercept, js.intercept);
    assert.equal(auto.iterations, js.iterations);
  },
);

Deno.test("fitMultinomialLogistic(): products 'native' without OpenBLAS is a KitError", async () => {
  await initBackend("wasm");
  setNativeBlasEnabled(false);
  const train = languageRows(2, 5, 4, 4);
  assert.throws(
    () => fitMultinomialLogistic(train.x, train.labels, { products: "native" }),
    KitError,
  );
  const js = fitMultinomialLogistic(train.x, train.labels, { classes: 2 });
  assert.ok(js.converged);
});
