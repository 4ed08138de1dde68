/**
 * `./kit task bench [--json] [--steps N] [--peer FILE | --no-peer] [--backend NAME]`: times the
 * kit's implementation of the four workloads of the PyTorch peer (bench/torch_reference.py, the
 * authors' stack) with the same shapes, then runs the peer in the same process tree on the same
 * machine (Debian's /usr/bin/python3 with python3-torch) and prints kit/peer ratios: once as
 * installed (its OpenBLAS may use every core) and once pinned to one thread. The kit runs on
 * `wasm+openblas` when OpenBLAS loads (else plain `wasm`) unless `--backend` says otherwise.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { initBackend } from "../lib/backend/select_backend.ts";
import { loadOpenBlas } from "../lib/backend/openblas.ts";
import type { BackendPreference } from "../lib/config/kit_config.ts";
import { kitConfig } from "../lib/config/kit_config.ts";
import { type HeadWorkloadTimes, runHeadWorkloads } from "../lib/bench/head_workloads.ts";
import { KitError, runMain } from "../lib/util/kit_error.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

const KEYS = ["linear_step_ms", "mlp_step_ms", "eval_fold_ms", "geometry_fold_ms"] as const;

/** The peer's BLAS/OpenMP pinned to one thread, as the kit's WASM backend runs. */
const ONE_THREAD_ENV = { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };

type PeerTimes = HeadWorkloadTimes & { torch: string; threads: number };

async function runPeer(
  file: string,
  steps: number,
  env: Record<string, string> = {},
): Promise<PeerTimes> {
  try {
    await Deno.stat(file);
  } catch {
    throw new KitError(`peer benchmark ${file} not found`, [
      "pass --peer FILE, or --no-peer to time the kit alone",
    ]);
  }
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("/usr/bin/python3", {
      args: [file, String(steps)],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    throw new KitError("Debian's /usr/bin/python3 is needed to run the PyTorch peer", [
      "apt-get install -y python3 python3-torch, or pass --no-peer",
    ]);
  }
  const err = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    if (/No module named 'torch'/.test(err)) {
      throw new KitError(
        "PyTorch is not installed for /usr/bin/python3 (the peer of the benchmark)",
        [
          "apt-get install -y --no-install-recommends python3-torch   (or pass --no-peer)",
        ],
      );
    }
    throw new KitError(`the PyTorch peer failed:\n${err.trim().split("\n").slice(-5).join("\n")}`);
  }
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new KitError(
      `the PyTorch peer printed no JSON line: ${JSON.stringify(line.slice(0, 200))}`,
    );
  }
}

await runMain(async () => {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      json: { type: "boolean", default: false },
      steps: { type: "string" },
      peer: { type: "string" },
      "no-peer": { type: "boolean", default: false },
      backend: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: ./kit task bench [--json] [--steps N] [--peer FILE | --no-peer] [--backend wasm+openblas|wasm|webgpu|cpu|auto]",
    );
    return 0;
  }
  const steps = values.steps === undefined ? 30 : Number(values.steps);
  if (!Number.isInteger(steps) || steps < 1) {
    throw new KitError(`--steps ${values.steps}: expected a positive integer`);
  }
  // default: the kit's CPU path — WASM with native OpenBLAS when it loads, plain WASM otherwise
  const backend =
    (values.backend ?? (loadOpenBlas() ? "wasm+openblas" : "wasm")) as BackendPreference;
  kitConfig({ ...Deno.env.toObject(), KIT_BACKEND: backend });
  const info = await initBackend(backend);
  if (!values.json) {
    console.error(`bench: kit on ${info.name}, ${steps} timed steps per training workload ...`);
  }
  const kit = await runHeadWorkloads({ steps });
  let peer: PeerTimes | null = null, peer1: PeerTimes | null = null;
  if (!values["no-peer"]) {
    const file = values.peer ?? join(PROJECT_ROOT, "bench", "torch_reference.py");
    if (!values.json) {
      console.error("bench: PyTorch peer, as installed (its BLAS may use every core) ...");
    }
    peer = await runPeer(file, steps);
    if (!values.json) {
      console.error("bench: PyTorch peer, BLAS and OpenMP pinned to one thread ...");
    }
    peer1 = await runPeer(file, steps, ONE_THREAD_ENV);
  }
  const ratioTo = (p: PeerTimes | null) =>
    p ? Object.fromEntries(KEYS.map((k) => [k, kit[k] / p[k]])) : null;
  const ratio = ratioTo(peer), ratio1 = ratioTo(peer1);
  if (values.json) {
    console.log(
      JSON.stringify({
        ...kit,
        backend: info.name,
        blas: info.blas,
        deno: Deno.version.deno,
        cores: navigator.hardwareConcurrency,
        ...(peer ? { peer, ratio, peer_one_thread: peer1, ratio_one_thread: ratio1 } : {}),
      }),
    );
    return 0;
  }
  const ms = (p: PeerTimes | null, k: (typeof KEYS)[number]) => (p ? p[k].toFixed(1) : "–");
  const x = (r: Record<string, number> | null, k: string) => (r ? `${r[k]!.toFixed(2)}×` : "–");
  console.log([
    `kit: ${info.name}${
      info.blas ? ` (${info.blas.config}, ${info.blas.threads} threads)` : ""
    }, Deno ${Deno.version.deno}; peer: PyTorch ${
      peer?.torch ?? "(not run)"
    }; ${navigator.hardwareConcurrency} cores`,
    "",
    `| workload | kit (${info.name}) ms | peer ms | kit / peer | peer, 1 thread ms | kit / peer (1 thread) |`,
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...KEYS.map((k) =>
      `| ${k} | ${kit[k].toFixed(1)} | ${ms(peer, k)} | ${x(ratio, k)} | ${ms(peer1, k)} | ${
        x(ratio1, k)
      } |`
    ),
  ].join("\n"));
  return 0;
});
