import { KitError } from "../util/kit_error.ts";

/** Adam hyper-parameters (torch.optim.Adam defaults). */
export interface AdamOptions {
  /** Learning rate used when `step` is given none (default 1e-3). */
  lr?: number;
  beta1?: number;
  beta2?: number;
  /** Added after `sqrt(v̂)` (default 1e-8). */
  eps?: number;
  /** Weight decay (default 0). */
  weightDecay?: number;
  /**
   * false (default): *coupled* decay as torch.optim.Adam — `g ← g + wd·θ` before the moments
   * (paper D). true: AdamW — `θ ← θ·(1 − lr·wd)` before the update.
   */
  decoupled?: boolean;
}

/** Serialisable optimizer state: step count and first/second moments by parameter name. */
export interface AdamState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/**
 * Adam over named Float32Array parameters, updated in place, with torch.optim.Adam's
 * single-tensor semantics: bias corrections `1 − βᵗ`, `denom = sqrt(v)/sqrt(1 − β₂ᵗ) + eps`,
 * `θ ← θ − lr/(1 − β₁ᵗ) · m/denom`. Parameters and moments are stored as float32 (like torch's
 * float32 tensors); the arithmetic of one element's update is done in float64, so results agree
 * with torch to float32 rounding, not bit for bit.
 *
 * ```ts
 * import { Adam } from "./adam.ts";
 * const p = { w: new Float32Array([1]) };
 * const opt = new Adam({ w: 1 }, { lr: 0.1 });
 * opt.step(p, { w: new Float32Array([0.5]) });
 * console.assert(Math.abs(p.w[0]! - 0.9) < 1e-6);
 * ```
 */
export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  #step = 0;
  #m: Record<string, Float32Array> = {};
  #v: Record<string, Float32Array> = {};
  readonly #sizes: Record<string, number>;

  /** `sizes`: number of values of each parameter, by name. */
  constructor(sizes: Record<string, number>, opts: AdamOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.decoupled = opts.decoupled ?? false;
    for (
      const [k, x] of Object.entries({ lr: this.lr, eps: this.eps, weightDecay: this.weightDecay })
    ) {
      if (!(x >= 0) || !Number.isFinite(x)) {
        throw new KitError(`Adam: ${k} must be a non-negative number, got ${x}`);
      }
    }
    for (const [k, b] of Object.entries({ beta1: this.beta1, beta2: this.beta2 })) {
      if (!(b >= 0 && b < 1)) throw new KitError(`Adam: ${k} must be in [0, 1), got ${b}`);
    }
    this.#sizes = { ...sizes };
    for (const [name, n] of Object.entries(sizes)) {
      this.#m[name] = new Float32Array(n);
      this.#v[name] = new Float32Array(n);
    }
  }

  #check(params: Record<string, Float32Array>, grads: Record<string, Float32Array>): void {
    for (const name of Object.keys(this.#sizes)) {
      const p = params[name], g = grads[name];
      if (!p || !g) throw new KitError(`Adam.step: missing parameter or gradient "${name}"`);
      if (p.length !== this.#sizes[name] || g.length !== this.#sizes[name]) {
        throw new KitError(
          `Adam.step: "${name}" has ${p.length} values and ${g.length} gradients, expected ${
            this.#sizes[name]
          }`,
        );
      }
    }
  }

  /** Steps taken so far (torch's `state["step"]`). */
  get stepCount(): number {
    return this.#step;
  }

  /**
   * One update of every parameter in `params` from `grads` (same names), at learning rate `lr`
   * (default: the constructor's). `grads` are not modified.
   */
  step(
    params: Record<string, Float32Array>,
    grads: Record<string, Float32Array>,
    lr = this.lr,
  ): void {
    this.#check(params, grads);
    this.#step += 1;
    const t = this.#step;
    const b1 = this.beta1, b2 = this.beta2;
    const oneMinusB1 = 1 - b1, oneMinusB2 = 1 - b2;
    const stepSize = lr / (1 - b1 ** t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const eps = this.eps;
    const wd = this.decoupled ? 0 : this.weightDecay;
    const decay = this.decoupled ? 1 - lr * this.weightDecay : 1;
    for (const name of Object.keys(this.#sizes)) {
      const p = params[name]!, g = grads[name]!, m = this.#m[name]!, v = this.#v[name]!;
      for (let i = 0; i < p.length; i++) {
        const theta = p[i]! * decay;
        const gi = g[i]! + wd * theta;
        const mi = m[i]! + oneMinusB1 * (gi - m[i]!);
        const vi = b2 * v[i]! + oneMinusB2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = theta - stepSize * mi / (Math.sqrt(vi) / bc2Sqrt + eps);
      }
    }
  }

  /**
   * `step` on the gradient `g' = fround(fround(g + proxCoef[name]·θ) · scale)` without writing
   * `g'` anywhere: the prox gradient and the clipping factor are applied inside the update's one
   * pass over each parameter (see `proxClipAdamStep`). Each `g'` is rounded to float32 exactly
   * where the unfused path stores it into a Float32Array, so the result is bit for bit that of
   * adding the prox gradient, `clipGradNorm` and `step`. `grads` are not modified. No allocation.
   */
  stepPrepared(
    params: Record<string, Float32Array>,
    grads: Record<string, Float32Array>,
    lr: number,
    proxCoef: Readonly<Record<string, number>>,
    scale: number,
  ): void {
    this.#check(params, grads);
    this.#step += 1;
    const t = this.#step;
    const b1 = this.beta1, b2 = this.beta2;
    const oneMinusB1 = 1 - b1, oneMinusB2 = 1 - b2;
    const stepSize = lr / (1 - b1 ** t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const eps = this.eps;
    const wd = this.decoupled ? 0 : this.weightDecay;
    const decay = this.decoupled ? 1 - lr * this.weightDecay : 1;
    const fround = Math.fround, sqrt = Math.sqrt;
    const scaled = scale !== 1;
    for (const name of Object.keys(this.#sizes)) {
      const p = params[name]!, g = grads[name]!, m = this.#m[name]!, v = this.#v[name]!;
      const c = proxCoef[name] ?? 0;
      const n = p.length;
      for (let i = 0; i < n; i++) {
        const p0 = p[i]!;
        let g0 = g[i]!;
        if (c !== 0) g0 = fround(g0 + c * p0);
        if (scaled) g0 = fround(g0 * scale);
        const theta = p0 * decay;
        const gi = g0 + wd * theta;
        const m0 = m[i]!;
        const mi = m0 + oneMinusB1 * (gi - m0);
        const vi = b2 * v[i]! + oneMinusB2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = theta - stepSize * mi / (sqrt(vi) / bc2Sqrt + eps);
      }
    }
  }

  /** A copy of the step count and moments. */
  getState(): AdamState {
    const copy = (r: Record<string, Float32Array>) =>
      Object.fromEntries(Object.entries(r).map(([k, a]) => [k, Float32Array.from(a)]));
    return { step: this.#step, m: copy(this.#m), v: copy(this.#v) };
  }

  /** Restores a state from `getState` (same parameter names and sizes). */
  setState(state: AdamState): void {
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new KitError(`Adam.setState: step must be a non-negative integer, got ${state.step}`);
    }
    for (const [name, n] of Object.entries(this.#sizes)) {
      for (const which of ["m", "v"] as const) {
        const a = state[which][name];
        if (!a || a.length !== n) {
          throw new KitError(
            `Adam.setState: moment ${which}["${name}"] missing or not ${n} values`,
          );
        }
      }
    }
    this.#step = state.step;
    for (const name of Object.keys(this.#sizes)) {
      this.#m[name] = Float32Array.from(state.m[name]!);
      this.#v[name] = Float32Array.from(state.v[name]!);
    }
  }
}
