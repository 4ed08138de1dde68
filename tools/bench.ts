/**
 * `./kit task bench [--json] [--steps N] [--rounds R] [--peer FILE | --no-peer] [--backend NAME]`:
 * times the kit's implementation of the four workloads of the PyTorch peer
 * (bench/torch_reference.py, the authors' stack) with the same shapes, and the peer in the same
 * process tree on the same machine (Debian's /usr/bin/python3 with python3-torch), and prints
 * kit/peer ratios: to the peer as installed (its OpenBLAS may use every core) and pinned to one
 * thread. The kit and the peer take turns for R rounds (default 3; the order alternates: kit
 * first in even rounds, the peer first in odd ones), so both see the same machine load on
 * average; each time reported is the median over the rounds, and every round's ratios are kept
 * in the JSON. The kit runs on
 * `wasm+openblas` when OpenBLAS loads (else plain `wasm`) unless `--backend` says otherwise.
 */
import { type CliSpec, runCli } from "../lib/util/cli.ts";
import { join } from "node:path";
import { initBackend } from "../lib/backend/select_backend.ts";
import { loadOpenBlas } from "../lib/backend/openblas.ts";
import type { BackendPreference } from "../lib/config/kit_config.ts";
import { kitConfig } from "../lib/config/kit_config.ts";
import { type HeadWorkloadTimes, runHeadWorkloads } from "../lib/bench/head_workloads.ts";
import { KitError } from "../lib/util/kit_error.ts";
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

/** Per-workload median over rounds. */
function medianTimes(runs: readonly HeadWorkloadTimes[]): HeadWorkloadTimes {
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  return Object.fromEntries(
    KEYS.map((k) => [k, med(runs.map((r) => r[k]))]),
  ) as unknown as HeadWorkloadTimes;
}

const CLI = {
  usage: "./kit task bench [options]",
  options: {
    json: { type: "boolean", help: "print one JSON object (the medians and every round's ratios)" },
    steps: {
      type: "integer",
      value: "N",
      min: 1,
      help: "timed steps per training workload (default 30)",
    },
    rounds: {
      type: "integer",
      value: "R",
      min: 1,
      help: "kit/peer rounds, order alternating (default 3; 1 with --no-peer)",
    },
    peer: {
      type: "string",
      value: "FILE",
      help: "the PyTorch peer script (default bench/torch_reference.py)",
    },
    "no-peer": { type: "boolean", help: "time the kit only" },
    backend: {
      type: "string",
      value: "NAME",
      help:
        "wasm+openblas|wasm|webgpu|cpu|auto (default wasm+openblas when OpenBLAS loads, else wasm)",
    },
  },
} as const satisfies CliSpec;

await runCli(CLI, async (values) => {
  const steps = values.steps ?? 30;
  // default: the kit's CPU path — WASM with native OpenBLAS when it loads, plain WASM otherwise
  const backend =
    (values.backend ?? (loadOpenBlas() ? "wasm+openblas" : "wasm")) as BackendPreference;
  kitConfig({ ...Deno.env.toObject(), KIT_BACKEND: backend });
  const info = await initBackend(backend);
  if (!values.json) {
    console.error(`bench: kit on ${info.name}, ${steps} timed steps per training workload ...`);
  }
  const noPeer = values["no-peer"];
  const rounds = values.rounds ?? (noPeer ? 1 : 3);
  const file = values.peer ?? join(PROJECT_ROOT, "bench", "torch_reference.py");
  const kits: HeadWorkloadTimes[] = [], peers: PeerTimes[] = [], peers1: PeerTimes[] = [];
  for (let r = 0; r < rounds; r++) {
    const runKit = async () => {
      if (!values.json) console.error(`bench: round ${r + 1}/${rounds}: kit ...`);
      kits.push(await runHeadWorkloads({ steps }));
    };
    const runPeers = async () => {
      if (noPeer) return;
      if (!values.json) {
        console.error(
          `bench: round ${r + 1}/${rounds}: PyTorch peer as installed, then 1 thread ...`,
        );
      }
      peers.push(await runPeer(file, steps));
      peers1.push(await runPeer(file, steps, ONE_THREAD_ENV));
    };
    if (r % 2 === 0) {
      await runKit();
      await runPeers();
    } else {
      await runPeers();
      await runKit();
    }
  }
  const kit = medianTimes(kits);
  const peer: PeerTimes | null = noPeer ? null : { ...peers[0]!, ...medianTimes(peers) };
  const peer1: PeerTimes | null = noPeer ? null : { ...peers1[0]!, ...medianTimes(peers1) };
  const ratioTo = (p: PeerTimes | null) =>
    p ? Object.fromEntries(KEYS.map((k) => [k, kit[k] / p[k]])) : null;
  const ratio = ratioTo(peer), ratio1 = ratioTo(peer1);
  const perRound = noPeer ? [] : kits.map((k, r) => ({
    kit: k,
    ratio: Object.fromEntries(KEYS.map((key) => [key, k[key] / peers[r]![key]])),
    ratio_one_thread: Object.fromEntries(KEYS.map((key) => [key, k[key] / peers1[r]![key]])),
  }));
  if (values.json) {
    console.log(
      JSON.stringify({
        ...kit,
        backend: info.name,
        blas: info.blas,
        deno: Deno.version.deno,
        cores: navigator.hardwareConcurrency,
        rounds,
        ...(peer
          ? { peer, ratio, peer_one_thread: peer1, ratio_one_thread: ratio1, per_round: perRound }
          : {}),
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
    }; ${navigator.hardwareConcurrency} cores; medians over ${rounds} alternating round(s)`,
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
