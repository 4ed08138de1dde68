import { tf } from "../backend/tf.ts";
import { KitError } from "../util/kit_error.ts";
import { SeededRandom } from "../util/seeded_random.ts";

/** How a parameter starts (Hugging Face's `_init_weights` for BERT/ViT-style models). */
export type ParameterInit =
  | { kind: "normal"; std: number }
  | { kind: "truncnormal"; std: number }
  /** Uniform on [−bound, bound] (torch `nn.Linear`'s default: bound = 1/√fan_in, weight and bias). */
  | { kind: "uniform"; bound: number }
  | { kind: "zeros" }
  | { kind: "ones" };

/** One named parameter: its Hugging Face name, shape and initialisation. */
export interface ParameterSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: ParameterInit;
  /** A row set to zero after initialisation (the padding row of an embedding table). */
  readonly zeroRow?: number;
  /**
   * True for parameters that checkpoints of the base model may lack (task heads such as
   * `lm_head.*` or `classifier.*`): loading weights keeps their initial values then.
   */
  readonly optional?: boolean;
  /**
   * Kept only as the host `Float32Array`, never uploaded to the device (`tensor()` refuses it):
   * an embedding table whose rows are gathered in JavaScript (XLM-R-large's 250k × 1024 words,
   * 1 GB, would otherwise sit on the device unused, and WASM's heap is 4 GB).
   */
  readonly hostOnly?: boolean;
}

/** Parameter values by name (what checkpoints and optimizers work on). */
export type ParameterState = Record<string, Float32Array>;

/**
 * The named parameters of a model. Plain `Float32Array`s are the source of truth (the optimizer
 * updates them in place; embedding rows are gathered from them in JavaScript); `tensor(name)`
 * returns its device copy (all are created with the set) that `sync()` refreshes after an update.
 */
export class ParameterSet {
  readonly specs: readonly ParameterSpec[];
  readonly values: ParameterState;
  readonly #tensors = new Map<string, tf.Variable>();
  readonly #byName: Map<string, ParameterSpec>;
  #disposed = false;

  /**
   * Initialises every parameter from `seed` (parameters drawn in `specs` order). `fastInit`
   * replaces the (truncated) normal draws by uniform ones of the same standard deviation
   * (`±√3·std`, one draw a value, no logarithm): several times faster, for benchmarks at real
   * shapes whose random weights are thrown away (560M values for XLM-R-large).
   */
  constructor(specs: readonly ParameterSpec[], seed: number, opts: { fastInit?: boolean } = {}) {
    this.specs = specs;
    this.#byName = new Map(specs.map((s) => [s.name, s]));
    if (this.#byName.size !== specs.length) {
      throw new KitError("ParameterSet: duplicate parameter names");
    }
    const rng = new SeededRandom(seed);
    this.values = {};
    for (const s of specs) {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(n);
      const init = s.init;
      if (init.kind === "ones") v.fill(1);
      else if (opts.fastInit && (init.kind === "normal" || init.kind === "truncnormal")) {
        const a = Math.sqrt(3) * init.std;
        for (let i = 0; i < n; i++) v[i] = a * (2 * rng.next() - 1);
      } else if (init.kind === "normal") {
        for (let i = 0; i < n; i++) v[i] = init.std * rng.normal();
      } else if (init.kind === "uniform") {
        for (let i = 0; i < n; i++) v[i] = init.bound * (2 * rng.next() - 1);
      } else if (init.kind === "truncnormal") {
        for (let i = 0; i < n; i++) {
          let x = rng.normal();
          while (Math.abs(x) > 2) x = rng.normal();
          v[i] = init.std * x;
        }
      }
      if (s.zeroRow !== undefined) {
        const cols = n / s.shape[0]!;
        v.fill(0, s.zeroRow * cols, (s.zeroRow + 1) * cols);
      }
      this.values[s.name] = v;
    }
    for (const s of specs) if (!s.hostOnly) this.tensor(s.name);
  }

  /** Names of the parameters that have a device tensor (all but `hostOnly` ones). */
  get deviceNames(): string[] {
    return this.specs.filter((s) => !s.hostOnly).map((s) => s.name);
  }

  /** Parameter names in a fixed order. */
  get names(): string[] {
    return this.specs.map((s) => s.name);
  }

  /** The spec of `name` (KitError when unknown). */
  spec(name: string): ParameterSpec {
    const s = this.#byName.get(name);
    if (!s) throw new KitError(`no parameter "${name}" in this model`);
    return s;
  }

  /** Number of values of each parameter. */
  sizes(): Record<string, number> {
    return Object.fromEntries(this.specs.map((s) => [s.name, this.values[s.name]!.length]));
  }

  /** Total number of scalar parameters. */
  get count(): number {
    return Object.values(this.values).reduce((a, v) => a + v.length, 0);
  }

  /** The device tensor of `name` (refreshed by `sync`). */
  tensor(name: string): tf.Tensor {
    if (this.#disposed) throw new KitError("ParameterSet: used after dispose()");
    let t = this.#tensors.get(name);
    if (!t) {
      const spec = this.spec(name);
      if (spec.hostOnly) {
        throw new KitError(
          `parameter "${name}" is kept on the host only (rows are gathered in JavaScript)`,
        );
      }
      t = tf.tidy(() => tf.variable(tf.tensor(this.values[name]!, [...spec.shape]), true));
      this.#tensors.set(name, t);
    }
    return t;
  }

  /** Uploads the current values of every parameter to its device tensor. */
  sync(): void {
    for (const [name, v] of this.#tensors) {
      const t = tf.tensor(this.values[name]!, v.shape);
      v.assign(t);
      t.dispose();
    }
  }

  /** Copies of all values. */
  getState(): ParameterState {
    return Object.fromEntries(this.specs.map((s) => [s.name, this.values[s.name]!.slice()]));
  }

  /** Overwrites every parameter (all names, right sizes) and refreshes the device copies. */
  setState(state: ParameterState): void {
    for (const s of this.specs) {
      const v = state[s.name];
      if (!v || v.length !== this.values[s.name]!.length) {
        throw new KitError(
          `setState: parameter "${s.name}" missing or not ${this.values[s.name]!.length} values`,
        );
      }
    }
    for (const s of this.specs) this.values[s.name]!.set(state[s.name]!);
    this.sync();
  }

  /** Frees the device copies. Idempotent. */
  dispose(): void {
    for (const t of this.#tensors.values()) t.dispose();
    this.#tensors.clear();
    this.#disposed = true;
  }
}
