import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { PROJECT_ROOT } from "../util/paths.ts";

export type Profile = "mini" | "paper";
export type BackendPreference =
  | "auto"
  | "webgpu"
  | "tfjs-node-gpu"
  | "wasm+openblas"
  | "wasm"
  | "cpu";

/** How this run was asked to behave. The notebook runner sets these through the environment. */
export interface KitConfig {
  /** `mini` (default): real public data, small models the kit trains. `paper`: real models. */
  profile: Profile;
  /** Tiny sizes, for tests: artifacts go under `figures/smoke/` and are never committed. */
  smoke: boolean;
  /** A read-only mirror of the datasets (e.g. `../shared/data`), or null. */
  dataMirror: string | null;
  /** Which TF.js backend to use. */
  backend: BackendPreference;
  /** Where artifacts are written: `figures/<profile>` (or `figures/smoke/<profile>`). */
  artifactDir: string;
}

const PROFILES: readonly Profile[] = ["mini", "paper"];
const BACKENDS: readonly BackendPreference[] = [
  "auto",
  "webgpu",
  "tfjs-node-gpu",
  "wasm+openblas",
  "wasm",
  "cpu",
];

/** Environment variables read by `kitConfig`, with what each means (printed by `--help`). */
export const KIT_ENV_VARS = {
  KIT_PROFILE: "mini | paper (default mini)",
  KIT_SMOKE: "1 = tiny sizes for tests; artifacts under figures/smoke/",
  KIT_DATA_MIRROR:
    "read-only mirror folder of the datasets (default: ../shared/data when it exists; empty = none)",
  KIT_DATA_CACHE: "folder of downloaded datasets (default .cache/data)",
  KIT_DATA_BASE_URL:
    "fetch every dataset upstream https://host/path from <url>/host/path (a copy of the upstreams)",
  KIT_BACKEND:
    "auto | webgpu | tfjs-node-gpu | wasm+openblas | wasm | cpu (default auto; wasm: no OpenBLAS)",
  KIT_OPENBLAS:
    "off = never load OpenBLAS; or the library name/path to open (default libopenblas.so.0)",
  KIT_BLAS_THREADS: "OpenBLAS thread count, fixed per run (default: cores, at most 8)",
  KIT_ARTIFACT_DIR: "override the artifact folder",
  KIT_K_TEXT_MODEL: "paper K's XLM-R model folder (default <models>/FacebookAI/xlm-roberta-large)",
  KIT_K_IMAGE_MODEL:
    "paper K's ViT model folder (default <models>/google/vit-base-patch16-224-in21k)",
  KIT_K_TRANSLATIONS:
    "paper K's translated COCO captions: one {image_id, captions: {en, es, ja, hi, qu?}} a line",
  KIT_REHEARSE_EMBED_LIMIT:
    "paper profile, set by the rehearsal: K's encoders embed the first N texts of each call and repeat them",
  KIT_REHEARSE_EMBED_LOG: "with KIT_REHEARSE_EMBED_LIMIT: the JSON-lines log of each embed call",
  KIT_K_SETUPS_DIR:
    "paper K: read <dir>/<setup>/ setup folders (e.g. converted authors' checkpoints) instead of training them",
} as const;

/**
 * The mirror used when none is given: a `shared/data` folder beside the project (the layout of
 * the kit's development and CI machines), if there is one. `KIT_DATA_MIRROR=` (empty) disables it.
 */
export function defaultDataMirror(): string | null {
  const candidate = join(PROJECT_ROOT, "..", "shared", "data");
  try {
    return Deno.statSync(candidate).isDirectory ? candidate : null;
  } catch {
    return null;
  }
}

function parseFlag(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === "" || raw === "0" || raw === "false") return false;
  if (raw === "1" || raw === "true") return true;
  throw new KitError(`environment variable ${name}=${raw}: expected 0/1 or true/false`);
}

/** Reads the run's configuration from the environment (or `env`, for tests). */
export function kitConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): KitConfig {
  const profile = (env.KIT_PROFILE ?? "mini") as Profile;
  if (!PROFILES.includes(profile)) {
    throw new KitError(`KIT_PROFILE=${env.KIT_PROFILE}: expected one of ${PROFILES.join(", ")}`);
  }
  const backend = (env.KIT_BACKEND ?? "auto") as BackendPreference;
  if (!BACKENDS.includes(backend)) {
    throw new KitError(`KIT_BACKEND=${env.KIT_BACKEND}: expected one of ${BACKENDS.join(", ")}`);
  }
  const smoke = parseFlag("KIT_SMOKE", env.KIT_SMOKE);
  const mirror = env.KIT_DATA_MIRROR !== undefined
    ? (env.KIT_DATA_MIRROR || null)
    : defaultDataMirror();
  const artifactDir = env.KIT_ARTIFACT_DIR ??
    (smoke
      ? join(PROJECT_ROOT, "figures", "smoke", profile)
      : join(PROJECT_ROOT, "figures", profile));
  return { profile, smoke, dataMirror: mirror, backend, artifactDir };
}
