import { join } from "node:path";
import { kitConfig, type Profile } from "../config/kit_config.ts";
import { activeBackend, type BackendInfo } from "../backend/select_backend.ts";
import { tf } from "../backend/tf.ts";
import { dataRegistry } from "../data/registry.ts";
import { PROJECT_ROOT } from "../util/paths.ts";

/** How an artifact was made: enough to tell two runs apart and to redo one. */
export interface Provenance {
  /** Signature string in the style of sacrebleu: `profile:mini|smoke:0|backend:wasm|seeds:7|git:abc1234`. */
  signature: string;
  profile: Profile;
  smoke: boolean;
  seeds: Record<string, number>;
  /** Every dataset resolved in this process, with where it came from and its manifest checksum. */
  data: { name: string; source: string; manifestSha256: string; verifiedFiles: number }[];
  /** Extra input checksums given by the caller (e.g. a dataset-build manifest). */
  inputs: Record<string, string>;
  versions: Record<string, string>;
  backend: BackendInfo | null;
  git: { commit: string | null; dirty: boolean | null };
}

let gitCache: { commit: string | null; dirty: boolean | null } | null = null;

function gitState(): { commit: string | null; dirty: boolean | null } {
  if (gitCache) return gitCache;
  const git = (args: string[]): string | null => {
    try {
      const out = new Deno.Command("git", {
        args,
        cwd: PROJECT_ROOT,
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
    } catch {
      return null;
    }
  };
  const commit = git(["rev-parse", "HEAD"]);
  // Generated artifacts do not make the tree "dirty" for this purpose.
  const status = git(["status", "--porcelain", "--", ".", ":(exclude)figures"]);
  gitCache = { commit, dirty: status === null ? null : status.length > 0 };
  return gitCache;
}

/**
 * The npm libraries that compute or render an artifact's numbers and pictures, whose versions
 * every artifact records (from package-lock.json, the versions `npm ci` installs).
 */
export const PROVENANCE_PACKAGES = [
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-core",
  "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-backend-webgpu",
  "@huggingface/transformers",
  "onnxruntime-node",
  "onnxruntime-web",
  "umap-js",
  "@keckelt/tsne",
  "plotly.js-cartesian-dist-min",
  "sharp",
  "playwright-core",
] as const;

let pkgVersions: Record<string, string> | null = null;

/** `PROVENANCE_PACKAGES`' versions as package-lock.json pins them (empty without the lockfile). */
export function packageVersions(): Record<string, string> {
  if (pkgVersions) return pkgVersions;
  pkgVersions = {};
  let lock: { packages?: Record<string, { version?: string }> } = {};
  try {
    lock = JSON.parse(Deno.readTextFileSync(join(PROJECT_ROOT, "package-lock.json")));
  } catch { /* no lockfile (a copy of lib/ elsewhere): no versions to record */ }
  for (const name of PROVENANCE_PACKAGES) {
    const version = lock.packages?.[`node_modules/${name}`]?.version;
    if (version !== undefined) pkgVersions[name] = version;
  }
  return pkgVersions;
}

/** Collects the provenance block written into every artifact. */
export function collectProvenance(
  opts: { seeds?: Record<string, number>; inputs?: Record<string, string> } = {},
): Provenance {
  const cfg = kitConfig();
  const backend = activeBackend();
  const git = gitState();
  const seeds = opts.seeds ?? {};
  const versions: Record<string, string> = {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    "tfjs-core": tf.version_core,
    ...packageVersions(),
  };
  const seedText = Object.entries(seeds).map(([k, v]) => `${k}=${v}`).join(",") || "none";
  const signature = [
    `profile:${cfg.profile}`,
    `smoke:${cfg.smoke ? 1 : 0}`,
    `backend:${backend?.name ?? "none"}`,
    ...(backend?.blas ? [`blas:${backend.blas.tag}`] : []), // e.g. openblas-0.3.21-Haswell-2t
    `seeds:${seedText}`,
    `tfjs:${tf.version_core}`,
    `git:${git.commit?.slice(0, 7) ?? "unknown"}${git.dirty ? "+dirty" : ""}`,
  ].join("|");
  return {
    signature,
    profile: cfg.profile,
    smoke: cfg.smoke,
    seeds,
    data: dataRegistry().resolvedDatasets().map((
      { name, source, manifestSha256, verifiedFiles },
    ) => ({
      name,
      source,
      manifestSha256,
      verifiedFiles,
    })),
    inputs: opts.inputs ?? {},
    versions,
    backend,
    git,
  };
}
