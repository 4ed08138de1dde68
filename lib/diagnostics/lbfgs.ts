/** Objective for `minimizeLbfgs`: returns f(x) and writes ∇f(x) into `grad`. */
export type ObjectiveWithGradient = (x: Float64Array, grad: Float64Array) => number;

/** Options of `minimizeLbfgs`. */
export interface LbfgsOptions {
  /** Stop when ‖∇f‖∞ ≤ this (default 1e-8). */
  readonly gradientTolerance?: number;
  /** Iteration cap (default 10 000). */
  readonly maxIterations?: number;
  /** Number of correction pairs kept (default 10, as scipy's L-BFGS-B `maxcor`). */
  readonly memory?: number;
}

/** Outcome of `minimizeLbfgs`. */
export interface LbfgsResult {
  readonly x: Float64Array;
  readonly value: number;
  readonly gradientInfNorm: number;
  readonly iterations: number;
  /** True when ‖∇f‖∞ reached the tolerance (false: iteration cap, or no further decrease). */
  readonly converged: boolean;
}

function infNorm(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (a > m) m = a;
  }
  return m;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Unconstrained minimisation of a smooth function by limited-memory BFGS (two-loop recursion)
 * with a backtracking Armijo line search (quadratic interpolation, first trial step 1, on the
 * first iteration 1/‖g‖∞) that also accepts Hager–Zhang's approximate Wolfe condition, so that
 * tight gradient tolerances are reachable when f no longer changes above round-off. Deterministic; Float64. Intended for smooth convex objectives such as
 * regularised logistic regression, where it converges to machine precision.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { minimizeLbfgs } from "./lbfgs.ts";
 * // f(x) = (x0 − 1)² + 10·(x1 + 2)²
 * const r = minimizeLbfgs((x, g) => {
 *   g[0] = 2 * (x[0]! - 1);
 *   g[1] = 20 * (x[1]! + 2);
 *   return (x[0]! - 1) ** 2 + 10 * (x[1]! + 2) ** 2;
 * }, new Float64Array(2));
 * assert(r.converged && Math.abs(r.x[1]! + 2) < 1e-8);
 * ```
 */
export function minimizeLbfgs(
  fg: ObjectiveWithGradient,
  x0: Float64Array,
  options: LbfgsOptions = {},
): LbfgsResult {
  const gtol = options.gradientTolerance ?? 1e-8;
  const maxIter = options.maxIterations ?? 10_000;
  const m = options.memory ?? 10;
  const n = x0.length;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let f = fg(x, g);
  const sList: Float64Array[] = [], yList: Float64Array[] = [], rho: number[] = [];
  const dir = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const alpha = new Float64Array(m);
  let gInf = infNorm(g);
  let iter = 0;
  while (gInf > gtol && iter < maxIter) {
    // two-loop recursion: dir = −H·g
    for (let i = 0; i < n; i++) dir[i] = -g[i]!;
    const h = sList.length;
    for (let j = h - 1; j >= 0; j--) {
      const a = rho[j]! * dot(sList[j]!, dir);
      alpha[j] = a;
      const yj = yList[j]!;
      for (let i = 0; i < n; i++) dir[i]! -= a * yj[i]!;
    }
    if (h > 0) {
      const gamma = dot(sList[h - 1]!, yList[h - 1]!) / dot(yList[h - 1]!, yList[h - 1]!);
      for (let i = 0; i < n; i++) dir[i]! *= gamma;
    }
    for (let j = 0; j < h; j++) {
      const b = rho[j]! * dot(yList[j]!, dir);
      const sj = sList[j]!;
      const a = alpha[j]!;
      for (let i = 0; i < n; i++) dir[i]! += (a - b) * sj[i]!;
    }
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // not a descent direction (round-off): restart from steepest descent
      sList.length = yList.length = rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i]!;
      slope = dot(g, dir);
    }
    let step = h === 0 ? Math.min(1, 1 / gInf) : 1;
    let fNew = NaN;
    let accepted = false;
    for (let ls = 0; ls < 60; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i]! + step * dir[i]!;
      fNew = fg(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      // Near the optimum f stalls at round-off level while the gradient is still informative:
      // accept Hager–Zhang's approximate Wolfe step (f within round-off, slope reduced).
      if (fNew <= f + 1e-12 * Math.abs(f)) {
        const slopeNew = dot(gNew, dir);
        if (slopeNew >= 0.9 * slope && slopeNew <= -0.8 * slope) {
          accepted = true;
          break;
        }
      }
      // minimiser of the quadratic through f, slope and fNew, kept within [0.1, 0.5]·step
      const q = (-slope * step * step) / (2 * (fNew - f - slope * step));
      step = Number.isFinite(q) ? Math.min(Math.max(q, 0.1 * step), 0.5 * step) : 0.5 * step;
    }
    if (!accepted) break; // no decrease possible at this precision
    iter++;
    const s = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (sList.length === m) {
        sList.shift();
        yList.shift();
        rho.shift();
      }
      sList.push(s);
      yList.push(y);
      rho.push(1 / sy);
    }
    x.set(xNew);
    g.set(gNew);
    f = fNew;
    gInf = infNorm(g);
  }
  return { x, value: f, gradientInfNorm: gInf, iterations: iter, converged: gInf <= gtol };
}
