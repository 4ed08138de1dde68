/**
 * WGSL sources of the device optimiser (`DeviceAdam`): a per-parameter sum of squares into
 * partial sums, one finishing pass that turns them into the global gradient norm and torch's
 * clipping factor, and the fused Adam update (clip scale, coupled or decoupled weight decay,
 * moments, bias corrections) in place on the parameter and moment buffers.
 */

/** Threads per workgroup of every kernel here. */
export const ADAM_WORKGROUP = 256;

/** `Info` of every per-parameter kernel: element count, partial-sum slot, its workgroups. */
const INFO = /* wgsl */ `
struct Info {
  n: u32,
  slot: u32,
  nwg: u32,
  index: u32,
  // threads per dispatch row (x workgroups · 256) for 2-D dispatches of large parameters
  rowThreads: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}
`;

/** Sum of squares of one gradient into `partials[slot + workgroup]` (grid-stride loop). */
export const SUM_SQUARES_WGSL = /* wgsl */ `
${INFO}
@group(0) @binding(0) var<uniform> info: Info;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
var<workgroup> acc: array<f32, ${ADAM_WORKGROUP}>;

@compute @workgroup_size(${ADAM_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  var i = wg.x * ${ADAM_WORKGROUP}u + li;
  let stride = info.nwg * ${ADAM_WORKGROUP}u;
  loop {
    if (i >= info.n) { break; }
    let x = g[i];
    s = s + x * x;
    i = i + stride;
  }
  acc[li] = s;
  workgroupBarrier();
  var k = ${ADAM_WORKGROUP / 2}u;
  loop {
    if (k == 0u) { break; }
    if (li < k) { acc[li] = acc[li] + acc[li + k]; }
    workgroupBarrier();
    k = k / 2u;
  }
  if (li == 0u) { partials[info.slot + wg.x] = acc[0]; }
}
`;

/**
 * The global norm from all partial sums and torch's `clip_grad_norm_` factor:
 * `scalars = [‖g‖, min(1, maxNorm / (‖g‖ + 1e-6))]` (factor 1 when `maxNorm` ≤ 0).
 */
export const CLIP_FACTOR_WGSL = /* wgsl */ `
struct Fin {
  count: u32,
  maxNorm: f32,
  pad0: u32,
  pad1: u32,
}
@group(0) @binding(0) var<uniform> fin: Fin;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> scalars: array<f32>;
var<workgroup> acc: array<f32, ${ADAM_WORKGROUP}>;

@compute @workgroup_size(${ADAM_WORKGROUP})
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  var i = li;
  loop {
    if (i >= fin.count) { break; }
    s = s + partials[i];
    i = i + ${ADAM_WORKGROUP}u;
  }
  acc[li] = s;
  workgroupBarrier();
  var k = ${ADAM_WORKGROUP / 2}u;
  loop {
    if (k == 0u) { break; }
    if (li < k) { acc[li] = acc[li] + acc[li + k]; }
    workgroupBarrier();
    k = k / 2u;
  }
  if (li == 0u) {
    let norm = sqrt(acc[0]);
    var scale = 1.0;
    if (fin.maxNorm > 0.0) {
      let c = fin.maxNorm / (norm + 1e-6);
      if (c < 1.0) { scale = c; }
    }
    scalars[0] = norm;
    scalars[1] = scale;
  }
}
`;

/**
 * Adam on one parameter, in place: `g ← g·scale`; coupled decay `g ← g + wd·θ` or decoupled
 * `θ ← θ·decay`; `m ← m + (1−β₁)(g − m)`; `v ← β₂v + (1−β₂)g²`;
 * `θ ← θ − stepSize·m / (√v / bc2Sqrt + eps)` (torch.optim.Adam's single-tensor arithmetic).
 * `hyper[index·8 …]` = stepSize, bc2Sqrt, wd, decay, 1−β₁, β₂, 1−β₂, eps (this step, this
 * parameter: its own step count's bias corrections).
 */
export const ADAM_UPDATE_WGSL = /* wgsl */ `
${INFO}
@group(0) @binding(0) var<uniform> info: Info;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read> scalars: array<f32>;
@group(0) @binding(3) var<storage, read_write> p: array<f32>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read_write> m: array<f32>;
@group(0) @binding(6) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(${ADAM_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * info.rowThreads + gid.x;
  if (i >= info.n) { return; }
  let h = info.index * 8u;
  let stepSize = hyper[h];
  let bc2Sqrt = hyper[h + 1u];
  let wd = hyper[h + 2u];
  let decay = hyper[h + 3u];
  let oneMinusB1 = hyper[h + 4u];
  let b2 = hyper[h + 5u];
  let oneMinusB2 = hyper[h + 6u];
  let eps = hyper[h + 7u];
  let theta = p[i] * decay;
  let gi = g[i] * scalars[1] + wd * theta;
  let m0 = m[i];
  let mi = m0 + oneMinusB1 * (gi - m0);
  let vi = b2 * v[i] + oneMinusB2 * gi * gi;
  m[i] = mi;
  v[i] = vi;
  p[i] = theta - stepSize * mi / (sqrt(vi) / bc2Sqrt + eps);
}
`;
