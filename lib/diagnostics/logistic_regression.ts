import { KitError } from "../util/kit_error.ts";
import { nativeBlas, type OpenBlas } from "../backend/openblas.ts";
import { minimizeLbfgs } from "./lbfgs.ts";
import type { Matrix } from "./matrix.ts";

/** A fitted multinomial logistic regression: scores `z = x·coefᵀ + intercept`. */
export interface MultinomialLogisticModel {
  readonly classes: number;
  readonly features: number;
  /** `classes × features`, row-major. */
  readonly coef: Float64Array;
  /** One per class; their sum stays 0 (the unpenalised intercept is fixed up to a shift). */
  readonly intercept: Float64Array;
  readonly iterations: number;
  readonly converged: boolean;
  /** ‖∇‖∞ of the objective at the returned point. */
  readonly gradientInfNorm: number;
  /** `C·Σ log-loss + ½‖coef‖²` at the returned point. */
  readonly objective: number;
}

/** Options of `fitMultinomialLogistic`. */
export interface MultinomialLogisticOptions {
  /** Inverse regularisation strength, as scikit-learn's `C` (default 1). */
  readonly C?: number;
  /** Number of classes (default: max label + 1). */
  readonly classes?: number;
  /** Stop when the objective's ‖∇‖∞ ≤ this (default 1e-7). */
  readonly gradientTolerance?: number;
  /** L-BFGS iteration cap (default 20 000). */
  readonly maxIterations?: number;
  /**
   * Where the two products of every objective evaluation run: `"auto"` (default) = native BLAS
   * (`dgemm`) when it is loaded and the rows have at least `NATIVE_LOGISTIC_MIN_FEATURES`
   * features, else the JavaScript loops; `"js"` / `"native"` force one (`"native"` without
   * OpenBLAS is a `KitError`).
   */
  readonly products?: "auto" | "js" | "native";
}

/**
 * From this many features on, `fitMultinomialLogistic` computes its products with OpenBLAS's
 * `dgemm` when loaded ("auto"). Paper D's 512-d probe spends nearly all its time there (252
 * L-BFGS iterations over 3,490 × 512 rows: 21 s in the JavaScript loops on the loaded 2-core
 * machine); the mini profile's 64-d rows stay below it, so their probe — and every mini
 * artifact — is bit for bit what the JavaScript loops give. BLAS sums in another order: the
 * fitted weights differ in the last bits (tests/diagnostics_test.ts bounds the difference).
 */
export const NATIVE_LOGISTIC_MIN_FEATURES = 128;

/**
 * Multinomial (softmax) logistic regression with an L2 penalty on the weights only, minimising
 * scikit-learn's objective `C·Σᵢ −log softmax(zᵢ)[yᵢ] + ½‖W‖²` (intercepts not penalised; the
 * same minimiser as `LogisticRegression(C=C, multi_class="multinomial")`) by L-BFGS in Float64
 * from zero, to a tight gradient tolerance rather than scikit-learn's default `max_iter=100`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitMultinomialLogistic, predictMultinomialLogistic } from "./logistic_regression.ts";
 * import { matrixFromRows } from "./matrix.ts";
 * const x = matrixFromRows([[0, 1], [0, 2], [1, 0], [2, 0]]);
 * const model = fitMultinomialLogistic(x, [0, 0, 1, 1]);
 * assert(predictMultinomialLogistic(model, x).join() === "0,0,1,1");
 * ```
 */
export function fitMultinomialLogistic(
  x: Matrix,
  labels: ArrayLike<number>,
  options: MultinomialLogisticOptions = {},
): MultinomialLogisticModel {
  const { rows: n, cols: d } = x;
  const C = options.C ?? 1;
  if (labels.length !== n) {
    throw new KitError(`fitMultinomialLogistic: ${n} rows but ${labels.length} labels`);
  }
  if (n === 0) throw new KitError("fitMultinomialLogistic: no training rows");
  if (!(C > 0)) throw new KitError(`fitMultinomialLogistic: C must be > 0, got ${C}`);
  let maxLabel = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0) {
      throw new KitError(`fitMultinomialLogistic: label ${i} is ${l}, expected an integer ≥ 0`);
    }
    if (l > maxLabel) maxLabel = l;
  }
  const K = options.classes ?? maxLabel + 1;
  if (maxLabel >= K) {
    throw new KitError(`fitMultinomialLogistic: label ${maxLabel} outside ${K} classes`);
  }
  const a = x.data instanceof Float64Array ? x.data : Float64Array.from(x.data);
  const y = Int32Array.from(labels);
  const nw = K * d;
  const z = new Float64Array(n * K);
  const blas = productsBlas(options.products ?? "auto", d);
  // θ = [W (K×d), b (K)]
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    if (blas) logitsNative(blas, a, n, d, theta, K, z);
    else logits(a, n, d, theta, K, z);
    const loss = softmaxResidualsInPlace(z, y, n, K, C);
    grad.fill(0);
    if (blas) residualGradientNative(blas, a, n, d, z, K, grad);
    else residualGradient(a, n, d, z, K, grad);
    let reg = 0;
    for (let j = 0; j < nw; j++) {
      reg += theta[j]! * theta[j]!;
      grad[j]! += theta[j]!;
    }
    return C * loss + 0.5 * reg;
  };
  const r = minimizeLbfgs(objective, new Float64Array(nw + K), {
    gradientTolerance: options.gradientTolerance ?? 1e-7,
    maxIterations: options.maxIterations ?? 20_000,
  });
  return {
    classes: K,
    features: d,
    coef: r.x.slice(0, nw),
    intercept: r.x.slice(nw),
    iterations: r.iterations,
    converged: r.converged,
    gradientInfNorm: r.gradientInfNorm,
    objective: r.value,
  };
}

/** Class with the largest score for every row (ties → lower class, like `numpy.argmax`). */
export function predictMultinomialLogistic(
  model: MultinomialLogisticModel,
  x: Matrix,
): Int32Array {
  const { rows: n, cols: d } = x;
  if (d !== model.features) {
    throw new KitError(
      `predictMultinomialLogistic: model has ${model.features} features, rows have ${d}`,
    );
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity, arg = 0;
    for (let c = 0; c < model.classes; c++) {
      let s = model.intercept[c]!;
      for (let t = 0; t < d; t++) s += x.data[i * d + t]! * model.coef[c * d + t]!;
      if (s > best) {
        best = s;
        arg = c;
      }
    }
    out[i] = arg;
  }
  return out;
}

/** The library `fitMultinomialLogistic` runs its products on, or null for the JavaScript loops. */
function productsBlas(mode: "auto" | "js" | "native", d: number): OpenBlas | null {
  if (mode === "js") return null;
  const blas = nativeBlas();
  if (mode === "native") {
    if (!blas) {
      throw new KitError(
        'fitMultinomialLogistic: products "native" asked for, but OpenBLAS is not loaded',
      );
    }
    return blas;
  }
  return blas && d >= NATIVE_LOGISTIC_MIN_FEATURES ? blas : null;
}

/** `logits` through `dgemm`: z = X·Wᵀ, then + b per row. */
function logitsNative(
  blas: OpenBlas,
  a: Float64Array,
  n: number,
  d: number,
  theta: Float64Array,
  K: number,
  z: Float64Array,
): void {
  const nw = K * d;
  blas.dgemm(false, true, n, K, d, a, d, theta.subarray(0, nw), d, z, K);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < K; c++) z[i * K + c]! += theta[nw + c]!;
  }
}

/** `residualGradient` through `dgemm`: grad[W] = Rᵀ·X (grad is zero on entry), grad[b] = Σ R. */
function residualGradientNative(
  blas: OpenBlas,
  a: Float64Array,
  n: number,
  d: number,
  r: Float64Array,
  K: number,
  grad: Float64Array,
): void {
  const nw = K * d;
  blas.dgemm(true, false, K, d, n, r, K, a, d, grad.subarray(0, nw), d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < K; c++) grad[nw + c]! += r[i * K + c]!;
  }
}

/** z (n×K) = X·Wᵀ + b, two rows at a time so each weight load feeds two products. */
function logits(
  a: Float64Array,
  n: number,
  d: number,
  theta: Float64Array,
  K: number,
  z: Float64Array,
): void {
  const nw = K * d;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const o0 = i * d, o1 = o0 + d;
    for (let c = 0; c < K; c++) {
      const wo = c * d;
      let p0 = 0, p1 = 0, q0 = 0, q1 = 0;
      let t = 0;
      for (; t + 1 < d; t += 2) {
        const w0 = theta[wo + t]!, w1 = theta[wo + t + 1]!;
        p0 += a[o0 + t]! * w0;
        p1 += a[o0 + t + 1]! * w1;
        q0 += a[o1 + t]! * w0;
        q1 += a[o1 + t + 1]! * w1;
      }
      if (t < d) {
        p0 += a[o0 + t]! * theta[wo + t]!;
        q0 += a[o1 + t]! * theta[wo + t]!;
      }
      z[i * K + c] = p0 + p1 + theta[nw + c]!;
      z[(i + 1) * K + c] = q0 + q1 + theta[nw + c]!;
    }
  }
  if (i < n) {
    const o = i * d;
    for (let c = 0; c < K; c++) {
      let s = theta[nw + c]!;
      for (let t = 0; t < d; t++) s += a[o + t]! * theta[c * d + t]!;
      z[i * K + c] = s;
    }
  }
}

/** Σ −log softmax(zᵢ)[yᵢ]; z becomes the residuals C·(softmax(zᵢ) − onehot(yᵢ)). */
function softmaxResidualsInPlace(
  z: Float64Array,
  y: Int32Array,
  n: number,
  K: number,
  C: number,
): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let zmax = -Infinity;
    for (let c = 0; c < K; c++) if (z[o + c]! > zmax) zmax = z[o + c]!;
    const yi = y[i]!;
    const zy = z[o + yi]! - zmax;
    let se = 0;
    for (let c = 0; c < K; c++) {
      const e = Math.exp(z[o + c]! - zmax);
      z[o + c] = e;
      se += e;
    }
    loss += Math.log(se) - zy;
    for (let c = 0; c < K; c++) z[o + c] = C * (z[o + c]! / se - (c === yi ? 1 : 0));
  }
  return loss;
}

/** grad[W] += Rᵀ·X and grad[b] += Σ R, two rows at a time. */
function residualGradient(
  a: Float64Array,
  n: number,
  d: number,
  r: Float64Array,
  K: number,
  grad: Float64Array,
): void {
  const nw = K * d;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const o0 = i * d, o1 = o0 + d;
    for (let c = 0; c < K; c++) {
      const r0 = r[i * K + c]!, r1 = r[(i + 1) * K + c]!;
      grad[nw + c]! += r0 + r1;
      const wo = c * d;
      for (let t = 0; t < d; t++) grad[wo + t]! += r0 * a[o0 + t]! + r1 * a[o1 + t]!;
    }
  }
  if (i < n) {
    const o = i * d;
    for (let c = 0; c < K; c++) {
      const r0 = r[i * K + c]!;
      grad[nw + c]! += r0;
      for (let t = 0; t < d; t++) grad[c * d + t]! += r0 * a[o + t]!;
    }
  }
}
