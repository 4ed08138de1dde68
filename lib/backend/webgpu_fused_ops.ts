/**
 * Fused WebGPU kernels for the towers' LayerNorm and GELU, forward and backward, run through
 * TF.js-WebGPU's own program runner (its pipeline cache, uniform pool and command batching) and
 * differentiated by `tf.customGrad`. LayerNorm: 2 dispatches forward (row statistics, output),
 * 3 backward (input, γ and β gradients) where TF.js's composite takes ~9 and ~20; GELU: 1 and 1
 * where the composite takes 5 and 7. Only for the `webgpu` backend (`webGpuFusedOpsActive`);
 * other backends keep the composite ops (and their numbers).
 */
import { tf } from "./tf.ts";

/** The parts of a TF.js-WebGPU program (4.22) these kernels define. */
interface FusedProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  getUserCode(): string;
}

interface ProgramUniform {
  type: "int32" | "uint32" | "float32";
  data: number[];
}

interface RunsPrograms {
  runWebGPUProgram(
    p: FusedProgram,
    inputs: tf.TensorInfo[],
    dtype: "float32",
    uniforms?: ProgramUniform[],
  ): tf.TensorInfo;
}

const WG = 64;
let enabled = true;

/** True when the fused kernels are used: the WebGPU backend is active (and not switched off). */
export function webGpuFusedOpsActive(): boolean {
  return enabled && tf.getBackend() === "webgpu";
}

/** Switches the fused kernels off (true) or back on, e.g. to measure the composite ops. */
export function setWebGpuFusedOpsDisabled(disabled: boolean): void {
  enabled = !disabled;
}

function program(
  key: string,
  inputs: string[],
  outputShape: number[],
  threads: number,
  uniforms: string,
  body: string,
): FusedProgram {
  return {
    variableNames: inputs,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.max(1, Math.ceil(threads / WG)), 1, 1],
    workgroupSize: [WG, 1, 1],
    uniforms,
    getUserCode: () => body,
  };
}

function run(p: FusedProgram, inputs: tf.Tensor[], uniforms: ProgramUniform[]): tf.Tensor {
  const b = tf.backend() as unknown as RunsPrograms;
  const info = b.runWebGPUProgram(p, inputs, "float32", uniforms);
  return tf.engine().makeTensorFromTensorInfo(info);
}

const LN_UNIFORMS = "rows : i32, d : i32, eps : f32,";

/** `[rows, 2]`: each row's mean and 1/√(biased variance + eps). */
function lnStats(x: tf.Tensor2D, eps: number): tf.Tensor2D {
  const [rows, d] = x.shape;
  const p = program(
    "kit_ln_stats",
    ["X"],
    [rows, 2],
    rows,
    LN_UNIFORMS,
    `
    fn main(index : i32) {
      if (index >= uniforms.rows) { return; }
      let d = uniforms.d;
      let base = index * d;
      var s = 0.0;
      for (var j = 0; j < d; j = j + 1) { s = s + X[base + j]; }
      let mean = s / f32(d);
      var v = 0.0;
      for (var j = 0; j < d; j = j + 1) { let c = X[base + j] - mean; v = v + c * c; }
      result[index * 2] = mean;
      result[index * 2 + 1] = inverseSqrt(v / f32(d) + uniforms.eps);
    }`,
  );
  return run(p, [x], lnUniforms(rows, d, eps)) as tf.Tensor2D;
}

function lnUniforms(rows: number, d: number, eps: number): ProgramUniform[] {
  return [
    { type: "int32", data: [rows] },
    { type: "int32", data: [d] },
    { type: "float32", data: [eps] },
  ];
}

/**
 * `nn.LayerNorm` over the last axis (`(x − mean)·rsqrt(var + eps)·γ + β`, biased variance),
 * fused on WebGPU, with its gradient.
 */
export function fusedLayerNorm(
  x: tf.Tensor2D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
): tf.Tensor2D {
  const [rows, d] = x.shape;
  const u = lnUniforms(rows, d, eps);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor2D, g = args[1] as tf.Tensor, bt = args[2] as tf.Tensor;
    const save = args[3] as tf.GradSaveFunc;
    const stats = lnStats(xi, eps);
    const y = run(
      program(
        "kit_ln_y",
        ["X", "S", "G", "B"],
        [rows, d],
        rows * d,
        LN_UNIFORMS,
        `
        fn main(index : i32) {
          if (index >= uniforms.rows * uniforms.d) { return; }
          let r = index / uniforms.d;
          let j = index - r * uniforms.d;
          result[index] = (X[index] - S[r * 2]) * S[r * 2 + 1] * G[j] + B[j];
        }`,
      ),
      [xi, stats, g, bt],
      u,
    );
    save([xi, g, stats]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, ss] = saved as [tf.Tensor2D, tf.Tensor, tf.Tensor2D];
        const dx = run(
          program(
            "kit_ln_dx",
            ["DY", "X", "S", "G"],
            [rows, d],
            rows,
            LN_UNIFORMS,
            `
            fn main(index : i32) {
              if (index >= uniforms.rows) { return; }
              let d = uniforms.d;
              let base = index * d;
              let mean = S[index * 2];
              let rstd = S[index * 2 + 1];
              var a = 0.0;
              var b = 0.0;
              for (var j = 0; j < d; j = j + 1) {
                let xh = (X[base + j] - mean) * rstd;
                let gh = DY[base + j] * G[j];
                a = a + gh;
                b = b + gh * xh;
              }
              a = a / f32(d);
              b = b / f32(d);
              for (var j = 0; j < d; j = j + 1) {
                let xh = (X[base + j] - mean) * rstd;
                result[base + j] = rstd * (DY[base + j] * G[j] - a - xh * b);
              }
            }`,
          ),
          [dy, sx, ss, sg],
          u,
        );
        const dgamma = run(
          program(
            "kit_ln_dgamma",
            ["DY", "X", "S"],
            [d],
            d,
            LN_UNIFORMS,
            `
            fn main(index : i32) {
              if (index >= uniforms.d) { return; }
              var s = 0.0;
              for (var r = 0; r < uniforms.rows; r = r + 1) {
                let k = r * uniforms.d + index;
                s = s + DY[k] * (X[k] - S[r * 2]) * S[r * 2 + 1];
              }
              result[index] = s;
            }`,
          ),
          [dy, sx, ss],
          u,
        );
        const dbeta = columnSum(dy as tf.Tensor2D);
        return [dx, tf.reshape(dgamma, sg.shape), tf.reshape(dbeta, sg.shape)];
      },
    };
  });
  return f(x, gamma, beta) as tf.Tensor2D;
}

/** Sum over the rows of `[rows, d]`: `[d]` (one dispatch, one thread a column). */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  const [rows, d] = x.shape;
  return run(
    program(
      "kit_column_sum",
      ["X"],
      [d],
      d,
      LN_UNIFORMS,
      `
      fn main(index : i32) {
        if (index >= uniforms.d) { return; }
        var s = 0.0;
        for (var r = 0; r < uniforms.rows; r = r + 1) { s = s + X[r * uniforms.d + index]; }
        result[index] = s;
      }`,
    ),
    [x],
    lnUniforms(rows, d, 0),
  ) as tf.Tensor1D;
}

const ERF_WGSL = () => {
  const u = tf.backend_util;
  return `
  fn kitErf(a : f32) -> f32 {
    let p = ${u.ERF_P};
    let a1 = ${u.ERF_A1};
    let a2 = ${u.ERF_A2};
    let a3 = ${u.ERF_A3};
    let a4 = ${u.ERF_A4};
    let a5 = ${u.ERF_A5};
    let s = sign(a);
    let absA = abs(a);
    let t = 1.0 / (1.0 + p * absA);
    return s * (1.0 - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * exp(-absA * absA));
  }`;
};

/** The exact (erf) GELU `x·Φ(x)`, fused on WebGPU (1 dispatch forward, 1 backward). */
export function fusedGelu<T extends tf.Tensor>(x: T): T {
  const n = x.size;
  const u: ProgramUniform[] = [{ type: "int32", data: [n] }];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([xi]);
    const y = run(
      program(
        "kit_gelu",
        ["X"],
        [n],
        n,
        "n : i32,",
        `${ERF_WGSL()}
        fn main(index : i32) {
          if (index >= uniforms.n) { return; }
          let x = X[index];
          result[index] = x * ((kitErf(x * ${Math.SQRT1_2}) + 1.0) * 0.5);
        }`,
      ),
      [tf.reshape(xi, [n])],
      u,
    );
    return {
      value: tf.reshape(y, xi.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const sx = saved[0]!;
        const dx = run(
          program(
            "kit_gelu_grad",
            ["DY", "X"],
            [n],
            n,
            "n : i32,",
            `${ERF_WGSL()}
            fn main(index : i32) {
              if (index >= uniforms.n) { return; }
              let x = X[index];
              let cdf = (kitErf(x * ${Math.SQRT1_2}) + 1.0) * 0.5;
              let pdf = exp(x * x * -0.5) * ${1 / Math.sqrt(2 * Math.PI)};
              result[index] = DY[index] * (cdf + x * pdf);
            }`,
          ),
          [tf.reshape(dy, [n]), tf.reshape(sx, [n])],
          u,
        );
        return [tf.reshape(dx, sx.shape)];
      },
    };
  });
  return f(x) as T;
}

/**
 * `y + b` for `y` `[rows, d]` and a bias `b` `[d]`, whose bias gradient is one column sum (TF.js's
 * broadcast-add gradient on WebGPU transposes `dy` first, then reduces: two dispatches).
 */
export function addBias(y: tf.Tensor2D, b: tf.Tensor): tf.Tensor2D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const yi = args[0] as tf.Tensor2D, bi = args[1] as tf.Tensor;
    return {
      value: tf.add(yi, bi),
      gradFunc: (dy: tf.Tensor) => [dy, tf.reshape(columnSum(dy as tf.Tensor2D), bi.shape)],
    };
  });
  return f(y, b) as tf.Tensor2D;
}

const ATT_UNIFORMS = "B : i32, L : i32, H : i32, dh : i32, d : i32, scale : f32,";

/**
 * Multi-head scaled dot-product attention on `[batch·length, d]` projections `q`, `k`, `v`
 * (heads side by side in the columns, as the linear layers produce them), with an additive
 * key mask `[batch, length]` (null: none): `softmax(q_h·k_hᵀ·scale + mask)·v_h` per head, heads
 * merged back into `[batch·length, d]`. No head transposes: 2 dispatches forward (probabilities,
 * context), 4 backward (scores, q, k, v gradients).
 */
export function fusedAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  batch: number,
  length: number,
  heads: number,
  keyMask: tf.Tensor2D | null,
): tf.Tensor2D {
  const d = q.shape[1], dh = d / heads;
  const B = batch, L = length, H = heads;
  const u: ProgramUniform[] = [
    { type: "int32", data: [B] },
    { type: "int32", data: [L] },
    { type: "int32", data: [H] },
    { type: "int32", data: [dh] },
    { type: "int32", data: [d] },
    { type: "float32", data: [1 / Math.sqrt(dh)] },
  ];
  const rows = B * H * L;
  /** Index helpers shared by the kernels. */
  const ROW = `
    let b = r / (uniforms.H * uniforms.L);
    let h = (r / uniforms.L) % uniforms.H;
    let i = r % uniforms.L;`;
  const ELEM = `
    let row = idx / uniforms.d;
    let col = idx % uniforms.d;
    let b = row / uniforms.L;
    let t = row % uniforms.L;
    let h = col / uniforms.dh;`;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const qi = args[0] as tf.Tensor2D, ki = args[1] as tf.Tensor2D, vi = args[2] as tf.Tensor2D;
    const save = args[3] as tf.GradSaveFunc;
    const mask = keyMask ?? tf.zeros([B, L]);
    const probs = run(
      program(
        "kit_att_probs",
        ["Q", "K", "M"],
        [rows, L],
        rows,
        ATT_UNIFORMS,
        `
        fn main(r : i32) {
          if (r >= uniforms.B * uniforms.H * uniforms.L) { return; }
          ${ROW}
          let L = uniforms.L;
          let dh = uniforms.dh;
          let qb = (b * L + i) * uniforms.d + h * dh;
          var mx = -3.0e38;
          for (var j = 0; j < L; j = j + 1) {
            let kb = (b * L + j) * uniforms.d + h * dh;
            var s = 0.0;
            for (var c = 0; c < dh; c = c + 1) { s = s + Q[qb + c] * K[kb + c]; }
            s = s * uniforms.scale + M[b * L + j];
            result[r * L + j] = s;
            mx = max(mx, s);
          }
          var sum = 0.0;
          for (var j = 0; j < L; j = j + 1) {
            let e = exp(result[r * L + j] - mx);
            result[r * L + j] = e;
            sum = sum + e;
          }
          for (var j = 0; j < L; j = j + 1) { result[r * L + j] = result[r * L + j] / sum; }
        }`,
      ),
      [qi, ki, mask],
      u,
    );
    if (!keyMask) mask.dispose();
    const ctx = run(
      program(
        "kit_att_ctx",
        ["P", "V"],
        [B * L, d],
        B * L * d,
        ATT_UNIFORMS,
        `
        fn main(idx : i32) {
          if (idx >= uniforms.B * uniforms.L * uniforms.d) { return; }
          ${ELEM}
          let L = uniforms.L;
          let pr = ((b * uniforms.H + h) * L + t) * L;
          var s = 0.0;
          for (var j = 0; j < L; j = j + 1) { s = s + P[pr + j] * V[(b * L + j) * uniforms.d + col]; }
          result[idx] = s;
        }`,
      ),
      [probs, vi],
      u,
    );
    save([qi, ki, vi, probs]);
    return {
      value: ctx,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dS = run(
          program(
            "kit_att_dscores",
            ["DY", "V", "P"],
            [rows, L],
            rows,
            ATT_UNIFORMS,
            `
            fn main(r : i32) {
              if (r >= uniforms.B * uniforms.H * uniforms.L) { return; }
              ${ROW}
              let L = uniforms.L;
              let dh = uniforms.dh;
              let gb = (b * L + i) * uniforms.d + h * dh;
              var acc = 0.0;
              for (var j = 0; j < L; j = j + 1) {
                let vb = (b * L + j) * uniforms.d + h * dh;
                var s = 0.0;
                for (var c = 0; c < dh; c = c + 1) { s = s + DY[gb + c] * V[vb + c]; }
                result[r * L + j] = s;
                acc = acc + P[r * L + j] * s;
              }
              for (var j = 0; j < L; j = j + 1) {
                result[r * L + j] = P[r * L + j] * (result[r * L + j] - acc) * uniforms.scale;
              }
            }`,
          ),
          [dy, sv, sp],
          u,
        );
        // dQ[b,t,h,:] = Σ_j dS[b,h,t,j]·K[b,j,h,:]; dK[b,t,h,:] = Σ_i dS[b,h,i,t]·Q[b,i,h,:];
        // dV[b,t,h,:] = Σ_i P[b,h,i,t]·dY[b,i,h,:]
        const gradOf = (key: string, rowMajor: boolean, a: tf.Tensor, other: tf.Tensor) =>
          run(
            program(
              key,
              ["S", "X"],
              [B * L, d],
              B * L * d,
              ATT_UNIFORMS,
              `
              fn main(idx : i32) {
                if (idx >= uniforms.B * uniforms.L * uniforms.d) { return; }
                ${ELEM}
                let L = uniforms.L;
                let base = (b * uniforms.H + h) * L;
                var s = 0.0;
                for (var j = 0; j < L; j = j + 1) {
                  let w = ${rowMajor ? "S[(base + t) * L + j]" : "S[(base + j) * L + t]"};
                  s = s + w * X[(b * L + j) * uniforms.d + col];
                }
                result[idx] = s;
              }`,
            ),
            [a, other],
            u,
          );
        const dq = gradOf("kit_att_dq", true, dS, sk);
        const dk = gradOf("kit_att_dk", false, dS, sq);
        const dv = gradOf("kit_att_dv", false, sp, dy);
        return [dq, dk, dv];
      },
    };
  });
  return f(q, k, v) as tf.Tensor2D;
}

/** Two 32-bit words of a string key (FNV-1a, two offsets). */
function keyWords(key: string): [number, number] {
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return [a, b];
}

const DROPOUT_WGSL = `
  fn kitPcg(v : u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
  }
  fn kitKeep(index : i32) -> bool {
    let h = kitPcg(kitPcg(u32(index) ^ uniforms.k0) + uniforms.k1);
    return f32(h >> 8u) / 16777216.0 >= uniforms.rate;
  }`;

/**
 * Inverted dropout `x·keep/(1 − rate)` with the keep mask drawn on the device from a hash of
 * (`key`, element index): no mask is uploaded or stored, the backward pass recomputes it.
 * Deterministic per key, but not TF.js's random stream (the WASM path's masks differ).
 */
export function fusedDropout<T extends tf.Tensor>(x: T, rate: number, key: string): T {
  const n = x.size;
  const [k0, k1] = keyWords(key);
  const u: ProgramUniform[] = [
    { type: "int32", data: [n] },
    { type: "uint32", data: [k0] },
    { type: "uint32", data: [k1] },
    { type: "float32", data: [rate] },
    { type: "float32", data: [1 / (1 - rate)] },
  ];
  const uniforms = "n : i32, k0 : u32, k1 : u32, rate : f32, scale : f32,";
  const masked = (key: string, t: tf.Tensor) =>
    run(
      program(
        key,
        ["X"],
        [n],
        n,
        uniforms,
        `${DROPOUT_WGSL}
        fn main(index : i32) {
          if (index >= uniforms.n) { return; }
          result[index] = select(0.0, X[index] * uniforms.scale, kitKeep(index));
        }`,
      ),
      [tf.reshape(t, [n])],
      u,
    );
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor;
    return {
      value: tf.reshape(masked("kit_dropout", xi), xi.shape),
      gradFunc: (dy: tf.Tensor) => [tf.reshape(masked("kit_dropout", dy), xi.shape)],
    };
  });
  return f(x) as T;
}

/**
 * `fusedAttention` with a function applied to the attention probabilities between the softmax
 * and the product with `v` (training-mode dropout): probabilities (softmax of the masked,
 * scaled scores; 1 dispatch forward, 3 backward: scores, q and k gradients) and context
 * (1 forward, 2 backward: probabilities and v gradients) are two differentiable steps.
 */
export function fusedAttentionWithProbs(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  batch: number,
  length: number,
  heads: number,
  keyMask: tf.Tensor2D | null,
  onProbs: (probs: tf.Tensor3D) => tf.Tensor3D,
): tf.Tensor2D {
  const d = q.shape[1], dh = d / heads;
  const B = batch, L = length, H = heads;
  const u: ProgramUniform[] = [
    { type: "int32", data: [B] },
    { type: "int32", data: [L] },
    { type: "int32", data: [H] },
    { type: "int32", data: [dh] },
    { type: "int32", data: [d] },
    { type: "float32", data: [1 / Math.sqrt(dh)] },
  ];
  const rows = B * H * L;
  const ROW = `
    let b = r / (uniforms.H * uniforms.L);
    let h = (r / uniforms.L) % uniforms.H;
    let i = r % uniforms.L;`;
  const ELEM = `
    let row = idx / uniforms.d;
    let col = idx % uniforms.d;
    let b = row / uniforms.L;
    let t = row % uniforms.L;
    let h = col / uniforms.dh;`;
  /** `Σ_j S[(base + t or j)·L + (j or t)]·X[b, j, h, col]` into `[B·L, d]`. */
  const headProduct = (key: string, rowMajor: boolean, s: tf.Tensor, x: tf.Tensor) =>
    run(
      program(
        key,
        ["S", "X"],
        [B * L, d],
        B * L * d,
        ATT_UNIFORMS,
        `
        fn main(idx : i32) {
          if (idx >= uniforms.B * uniforms.L * uniforms.d) { return; }
          ${ELEM}
          let L = uniforms.L;
          let base = (b * uniforms.H + h) * L;
          var s = 0.0;
          for (var j = 0; j < L; j = j + 1) {
            let w = ${rowMajor ? "S[(base + t) * L + j]" : "S[(base + j) * L + t]"};
            s = s + w * X[(b * L + j) * uniforms.d + col];
          }
          result[idx] = s;
        }`,
      ),
      [s, x],
      u,
    );
  const probsOf = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const qi = args[0] as tf.Tensor2D, ki = args[1] as tf.Tensor2D;
    const save = args[2] as tf.GradSaveFunc;
    const mask = keyMask ?? tf.zeros([B, L]);
    const probs = run(
      program(
        "kit_att_probs",
        ["Q", "K", "M"],
        [rows, L],
        rows,
        ATT_UNIFORMS,
        `
        fn main(r : i32) {
          if (r >= uniforms.B * uniforms.H * uniforms.L) { return; }
          ${ROW}
          let L = uniforms.L;
          let dh = uniforms.dh;
          let qb = (b * L + i) * uniforms.d + h * dh;
          var mx = -3.0e38;
          for (var j = 0; j < L; j = j + 1) {
            let kb = (b * L + j) * uniforms.d + h * dh;
            var s = 0.0;
            for (var c = 0; c < dh; c = c + 1) { s = s + Q[qb + c] * K[kb + c]; }
            s = s * uniforms.scale + M[b * L + j];
            result[r * L + j] = s;
            mx = max(mx, s);
          }
          var sum = 0.0;
          for (var j = 0; j < L; j = j + 1) {
            let e = exp(result[r * L + j] - mx);
            result[r * L + j] = e;
            sum = sum + e;
          }
          for (var j = 0; j < L; j = j + 1) { result[r * L + j] = result[r * L + j] / sum; }
        }`,
      ),
      [qi, ki, mask],
      u,
    );
    if (!keyMask) mask.dispose();
    save([qi, ki, probs]);
    return {
      value: tf.reshape(probs, [B * H, L, L]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sp] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dS = run(
          program(
            "kit_att_softmax_grad",
            ["DP", "P"],
            [rows, L],
            rows,
            ATT_UNIFORMS,
            `
            fn main(r : i32) {
              if (r >= uniforms.B * uniforms.H * uniforms.L) { return; }
              let L = uniforms.L;
              var acc = 0.0;
              for (var j = 0; j < L; j = j + 1) { acc = acc + P[r * L + j] * DP[r * L + j]; }
              for (var j = 0; j < L; j = j + 1) {
                result[r * L + j] = P[r * L + j] * (DP[r * L + j] - acc) * uniforms.scale;
              }
            }`,
          ),
          [tf.reshape(dy, [rows, L]), sp],
          u,
        );
        return [headProduct("kit_att_dq", true, dS, sk), headProduct("kit_att_dk", false, dS, sq)];
      },
    };
  });
  const contextOf = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const pi = args[0] as tf.Tensor3D, vi = args[1] as tf.Tensor2D;
    const save = args[2] as tf.GradSaveFunc;
    save([pi, vi]);
    return {
      value: headProduct("kit_att_ctx2", true, pi, vi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sp, sv] = saved as [tf.Tensor3D, tf.Tensor2D];
        const dP = run(
          program(
            "kit_att_dprobs",
            ["DY", "V"],
            [rows, L],
            rows,
            ATT_UNIFORMS,
            `
            fn main(r : i32) {
              if (r >= uniforms.B * uniforms.H * uniforms.L) { return; }
              ${ROW}
              let L = uniforms.L;
              let dh = uniforms.dh;
              let gb = (b * L + i) * uniforms.d + h * dh;
              for (var j = 0; j < L; j = j + 1) {
                let vb = (b * L + j) * uniforms.d + h * dh;
                var s = 0.0;
                for (var c = 0; c < dh; c = c + 1) { s = s + DY[gb + c] * V[vb + c]; }
                result[r * L + j] = s;
              }
            }`,
          ),
          [dy, sv],
          u,
        );
        return [tf.reshape(dP, sp.shape), headProduct("kit_att_dv", false, sp, dy)];
      },
    };
  });
  const probs = probsOf(q, k) as tf.Tensor3D;
  return contextOf(onProbs(probs), v) as tf.Tensor2D;
}
