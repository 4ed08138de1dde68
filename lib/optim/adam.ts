import { KitError } from "../util/kit_error.ts";
import { type AdamKernelFn, instantiateAdamKernel } from "./wasm/adam_kernel.ts";

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

/**
 * Serialisable optimizer state by parameter name: each parameter's own step count (torch's
 * `state[p]["step"]`: the updates it has received; 0 = never, its moments still zero) and its
 * first/second moments.
 */
export interface AdamState {
  steps: Record<string, number>;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** A gradient that is non-zero only in some rows of a `rows × width` parameter. */
export interface SparseRows {
  /** Distinct row indices. */
  readonly rows: ArrayLike<number> & Iterable<number>;
  /** `rows.length × width` values, row-major in the order of `rows`. */
  readonly values: Float32Array;
  readonly width: number;
}

/**
 * Largest optimiser state (θ, g, m, v of every parameter) kept in the WebAssembly kernel's one
 * memory; larger models (XLM-R-large has 560M values) keep plain moments and use the same
 * arithmetic in JavaScript, without the workspace copies.
 */
const KERNEL_MAX_BYTES = 1 << 30;

/**
 * Adam over named Float32Array parameters, updated in place, with torch.optim.Adam's
 * single-tensor semantics. State is **per parameter**, as torch's: a step updates exactly the
 * parameters named in its gradients (torch: those whose `.grad` is not None) and each of them
 * counts its own step `t`; a parameter left out (frozen: torch's `requires_grad = False`) is not
 * touched — no moment decay, no step counted — so a parameter that thaws later starts its moments
 * and bias corrections at its first real gradient. Bias corrections `1 − βᵗ`, `denom = sqrt(v)/sqrt(1 − β₂ᵗ) + eps`,
 * `θ ← θ − lr/(1 − β₁ᵗ) · m/denom`. Parameters and moments are stored as float32 (like torch's
 * float32 tensors); the arithmetic of one element's update is done in float64, so results agree
 * with torch to float32 rounding, not bit for bit.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adam } from "./adam.ts";
 * const p = { w: new Float32Array([1]) };
 * const opt = new Adam({ w: 1 }, { lr: 0.1 });
 * opt.step(p, { w: new Float32Array([0.5]) });
 * assert(Math.abs(p.w[0]! - 0.9) < 1e-6);
 * ```
 */
export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  readonly #steps: Record<string, number> = {};
  readonly #m: Record<string, Float32Array> = {};
  readonly #v: Record<string, Float32Array> = {};
  /** Parameter and gradient buffers next to the moments (see `workspace`). */
  readonly #wp: Record<string, Float32Array> = {};
  readonly #wg: Record<string, Float32Array> = {};
  readonly #offsets: Record<string, number> = {};
  readonly #kernel: AdamKernelFn | null;
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
    for (const name of Object.keys(sizes)) this.#steps[name] = 0;
    // One WebAssembly memory holds, per parameter, four regions (θ, g, m, v), each padded to an
    // even count of values (the kernel takes two per iteration) and 16-byte aligned.
    const padded = (n: number) => Math.ceil(n / 4) * 4;
    let total = 0;
    for (const [name, n] of Object.entries(sizes)) {
      if (!Number.isInteger(n) || n < 0) {
        throw new KitError(`Adam: size of "${name}" must be a non-negative integer, got ${n}`);
      }
      total += 4 * padded(n);
    }
    const kernel = 4 * total <= KERNEL_MAX_BYTES ? instantiateAdamKernel(4 * total) : null;
    this.#kernel = kernel?.adam ?? null;
    if (!kernel) {
      // moments only: parameters and gradients stay wherever the caller keeps them
      for (const [name, n] of Object.entries(sizes)) {
        this.#m[name] = new Float32Array(n);
        this.#v[name] = new Float32Array(n);
      }
      return;
    }
    const heap = new Float32Array(kernel.memory.buffer);
    let at = 0;
    for (const [name, n] of Object.entries(sizes)) {
      const region = () => {
        const view = heap.subarray(at, at + n);
        at += padded(n);
        return view;
      };
      this.#offsets[name] = at * 4;
      this.#wp[name] = region();
      this.#wg[name] = region();
      this.#m[name] = region();
      this.#v[name] = region();
    }
  }

  /**
   * Buffers for the parameter values and gradients of `name` that live beside its moments:
   * a caller that keeps its parameters and gradients in them (as HeadStepper does) saves the
   * copies in and out of the WebAssembly kernel on every step. Any other arrays also work.
   */
  workspace(name: string): { params: Float32Array; grads: Float32Array } {
    const n = this.#sizes[name];
    if (n === undefined) throw new KitError(`Adam.workspace: no parameter "${name}"`);
    if (!this.#wp[name]) {
      // no kernel: plain arrays, made once
      this.#wp[name] = new Float32Array(n);
      this.#wg[name] = new Float32Array(n);
    }
    return { params: this.#wp[name]!, grads: this.#wg[name]! };
  }

  #check(params: Record<string, Float32Array>, grads: Record<string, Float32Array>): void {
    for (const name of Object.keys(grads)) {
      if (this.#sizes[name] === undefined) {
        throw new KitError(`Adam.step: gradient of "${name}", which is not one of its parameters`);
      }
      const p = params[name], g = grads[name];
      if (!p || !g) throw new KitError(`Adam.step: missing parameter "${name}"`);
      if (p.length !== this.#sizes[name] || g.length !== this.#sizes[name]) {
        throw new KitError(
          `Adam.step: "${name}" has ${p.length} values and ${g.length} gradients, expected ${
            this.#sizes[name]
          }`,
        );
      }
    }
  }

  /** Updates parameter `name` has received so far (torch's `state[p]["step"]`). */
  stepCountOf(name: string): number {
    const t = this.#steps[name];
    if (t === undefined) throw new KitError(`Adam.stepCountOf: no parameter "${name}"`);
    return t;
  }

  /**
   * One update of the parameters that received a gradient this step — exactly the names in
   * `grads` (each must be one of the optimiser's parameters; the others are left as they are,
   * state included) — at learning rate `lr` (default: the constructor's). `grads` are not
   * modified.
   */
  step(
    params: Record<string, Float32Array>,
    grads: Record<string, Float32Array>,
    lr = this.lr,
  ): void {
    this.stepPrepared(params, grads, lr, {}, 1);
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
    const b1 = this.beta1, b2 = this.beta2;
    const oneMinusB1 = 1 - b1, oneMinusB2 = 1 - b2;
    const eps = this.eps;
    const wd = this.decoupled ? 0 : this.weightDecay;
    const decay = this.decoupled ? 1 - lr * this.weightDecay : 1;
    const fround = Math.fround, sqrt = Math.sqrt;
    const kernel = this.#kernel;
    for (const name of Object.keys(this.#sizes)) {
      if (!grads[name]) continue;
      const t = (this.#steps[name] = this.#steps[name]! + 1);
      const stepSize = lr / (1 - b1 ** t);
      const bc2Sqrt = Math.sqrt(1 - b2 ** t);
      const m = this.#m[name]!, v = this.#v[name]!;
      const c = proxCoef[name] ?? 0;
      if (kernel) {
        // zero-copy when the caller's arrays are this parameter's workspace
        const wp = this.#wp[name]!, wg = this.#wg[name]!;
        const p = params[name]!, g = grads[name]!;
        if (p !== wp) wp.set(p);
        if (g !== wg) wg.set(g);
        const off = this.#offsets[name]!, stride = 4 * Math.ceil(p.length / 4);
        kernel(
          off,
          off + 4 * stride,
          off + 8 * stride,
          off + 12 * stride,
          2 * Math.ceil(p.length / 2),
          c !== 0 ? 1 : 0,
          c,
          scale,
          decay,
          wd,
          oneMinusB1,
          b2,
          oneMinusB2,
          stepSize,
          bc2Sqrt,
          eps,
        );
        if (p !== wp) p.set(wp);
        continue;
      }
      // the same float64 arithmetic in JavaScript (no WebAssembly SIMD)
      const p = params[name]!, g = grads[name]!;
      const n = p.length;
      for (let i = 0; i < n; i++) {
        const p0 = p[i]!;
        let g0 = g[i]!;
        if (c !== 0) g0 = fround(g0 + c * p0);
        g0 = fround(g0 * scale);
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

  /**
   * One step in which the parameters named in `sparse` (embedding tables) get a gradient only in
   * some rows and the parameters named in `dense` a dense gradient; parameters in neither received
   * no gradient this step and are left as they are (see `step`). A sparse parameter is updated by
   * `rowUpdate`:
   * - `"dense"` (default): exactly torch.optim.Adam on the dense gradient that is zero outside the
   *   given rows — every row's moments decay and every row moves by its momentum — without
   *   allocating that gradient (the cost is one pass over the table).
   * - `"lazy"`: as `torch.optim.SparseAdam`: the looked-up rows get the dense update (same step
   *   count and bias corrections); rows not in the gradient are left as they are (moments not
   *   decayed, values not moved). The cost is that of the touched rows only.
   */
  stepSparse(
    params: Record<string, Float32Array>,
    dense: Record<string, Float32Array>,
    sparse: Record<string, SparseRows>,
    lr = this.lr,
    rowUpdate: "dense" | "lazy" = "dense",
  ): void {
    for (const name of new Set([...Object.keys(dense), ...Object.keys(sparse)])) {
      const p = params[name], g = dense[name], sg = sparse[name];
      if (this.#sizes[name] === undefined) {
        throw new KitError(`Adam.step: gradient of "${name}", which is not one of its parameters`);
      }
      if (!p || (g && sg)) {
        throw new KitError(
          `Adam.step: parameter "${name}" needs its values and exactly one gradient (dense or sparse rows)`,
        );
      }
      if (p.length !== this.#sizes[name] || (g && g.length !== this.#sizes[name])) {
        throw new KitError(
          `Adam.step: "${name}" has ${p.length} values and ${g?.length} gradients, expected ${
            this.#sizes[name]
          }`,
        );
      }
      if (sg) {
        const rowsTotal = p.length / sg.width;
        if (!Number.isInteger(rowsTotal) || sg.values.length !== sg.rows.length * sg.width) {
          throw new KitError(
            `Adam.step: sparse gradient of "${name}" has ${sg.values.length} values for ${sg.rows.length} rows of ${sg.width}`,
          );
        }
        for (const r of sg.rows) {
          if (!(r >= 0 && r < rowsTotal)) {
            throw new KitError(`Adam.step: sparse row ${r} of "${name}" outside [0, ${rowsTotal})`);
          }
        }
      }
    }
    for (const name of Object.keys(this.#sizes)) {
      const g = dense[name], sg = sparse[name];
      if (!g && !sg) continue;
      const t = (this.#steps[name] = this.#steps[name]! + 1);
      const p = params[name]!, m = this.#m[name]!, v = this.#v[name]!;
      if (g) {
        this.#update(t, p, g, m, v, 0, 0, p.length, lr);
        continue;
      }
      const w = sg!.width;
      if (rowUpdate === "lazy") {
        for (let k = 0; k < sg!.rows.length; k++) {
          this.#update(t, p, sg!.values, m, v, sg!.rows[k]! * w, k * w, w, lr);
        }
        continue;
      }
      const rowsTotal = p.length / w;
      const slot = new Int32Array(rowsTotal).fill(-1);
      for (let k = 0; k < sg!.rows.length; k++) slot[sg!.rows[k]!] = k;
      for (let r = 0; r < rowsTotal; r++) {
        const k = slot[r]!;
        this.#update(t, p, k >= 0 ? sg!.values : null, m, v, r * w, k * w, w, lr);
      }
    }
  }

  /**
   * Adam's update of `p[at .. at+n)` from `g[gAt .. gAt+n)` (null: a zero gradient) at the
   * parameter's step `t` (JavaScript).
   */
  #update(
    t: number,
    p: Float32Array,
    g: Float32Array | null,
    m: Float32Array,
    v: Float32Array,
    at: number,
    gAt: number,
    n: number,
    lr: number,
  ): void {
    const b1 = this.beta1, b2 = this.beta2;
    const oneMinusB1 = 1 - b1, oneMinusB2 = 1 - b2;
    const stepSize = lr / (1 - b1 ** t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const eps = this.eps;
    const wd = this.decoupled ? 0 : this.weightDecay;
    const decay = this.decoupled ? 1 - lr * this.weightDecay : 1;
    for (let j = 0; j < n; j++) {
      const i = at + j;
      const theta = p[i]! * decay;
      const gi = (g ? g[gAt + j]! : 0) + wd * theta;
      const mi = m[i]! + oneMinusB1 * (gi - m[i]!);
      const vi = b2 * v[i]! + oneMinusB2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = theta - stepSize * mi / (Math.sqrt(vi) / bc2Sqrt + eps);
    }
  }

  /** A copy of every parameter's step count and moments. */
  getState(): AdamState {
    const copy = (r: Record<string, Float32Array>) =>
      Object.fromEntries(Object.entries(r).map(([k, a]) => [k, Float32Array.from(a)]));
    return { steps: { ...this.#steps }, m: copy(this.#m), v: copy(this.#v) };
  }

  /**
   * The live state: the moments themselves, not copies (for streaming them to a checkpoint, or
   * reading one into them, without doubling their memory). Writing into them changes the
   * optimiser; `setState` with these views sets only the step counts.
   */
  stateViews(): AdamState {
    return { steps: { ...this.#steps }, m: { ...this.#m }, v: { ...this.#v } };
  }

  /** Restores a state from `getState` (same parameter names and sizes). */
  setState(state: AdamState): void {
    for (const [name, n] of Object.entries(this.#sizes)) {
      const t = state.steps[name];
      if (t === undefined || !Number.isInteger(t) || t < 0) {
        throw new KitError(
          `Adam.setState: steps["${name}"] must be a non-negative integer, got ${t}`,
        );
      }
      for (const which of ["m", "v"] as const) {
        const a = state[which][name];
        if (!a || a.length !== n) {
          throw new KitError(
            `Adam.setState: moment ${which}["${name}"] missing or not ${n} values`,
          );
        }
      }
    }
    for (const name of Object.keys(this.#sizes)) {
      this.#steps[name] = state.steps[name]!;
      this.#m[name]!.set(state.m[name]!);
      this.#v[name]!.set(state.v[name]!);
    }
  }
}
