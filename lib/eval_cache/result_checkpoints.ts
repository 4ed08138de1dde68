import { basename, dirname, join } from "node:path";
import { cacheDir, projectRelative } from "../util/paths.ts";
import { sha256Hex } from "../util/sha256.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { inputFingerprint } from "./encoder_result_key.ts";
import { cachedResult, type ResultCacheOptions, resultCachePath } from "./result_cache.ts";

/**
 * The steps of one long computation whose values are kept on disk until the whole result is:
 * a run killed midway resumes at the step it was in (see {@link cachedResultWithCheckpoints}).
 */
export interface ResultCheckpoints {
  /**
   * The value of step `name` (unique within its computation): read back when an interrupted run
   * stored it, else computed and stored (atomically). `inputs` (texts, ids), when given, are
   * hashed into the step's key, so a step is only reused for the same inputs. `compute` gets the
   * step's own checkpoints for sub-steps; they are removed once the step's value is stored.
   * The value must be cacheable as `cachedResult`'s (plain data and typed arrays).
   */
  step<T>(
    name: string,
    compute: (sub: ResultCheckpoints) => Promise<T>,
    inputs?: unknown,
  ): Promise<T>;
}

/** Checkpoints that keep nothing: every step is computed (uncached evaluations). */
export const NO_CHECKPOINTS: ResultCheckpoints = {
  step: (_name, compute) => compute(NO_CHECKPOINTS),
};

/**
 * The checkpoint folder of the result-cache entry `kind`/`key`:
 * `<root>/<kind>-checkpoints/<the entry's file name without .safetensors>/`.
 */
export function resultCheckpointDir(
  kind: string,
  key: Record<string, unknown>,
  opts: ResultCacheOptions = {},
): string {
  const root = opts.dir ?? join(cacheDir(), "results");
  return join(
    root,
    `${kind}-checkpoints`,
    basename(resultCachePath(kind, key, opts), ".safetensors"),
  );
}

/** Removes `dir`, then its parent if that is left empty (no empty folders pile up). */
async function removeFolder(dir: string): Promise<void> {
  try {
    await Deno.remove(dir, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  try {
    await Deno.remove(dirname(dir)); // fails, and is left, unless empty
  } catch { /* not empty, or gone */ }
}

async function isFile(path: string): Promise<boolean> {
  return await Deno.stat(path).then((i) => i.isFile, () => false);
}

/** What one checkpointed computation did: steps read back and steps computed. */
export interface CheckpointCounts {
  resumed: number;
  computed: number;
}

class FolderCheckpoints implements ResultCheckpoints {
  constructor(
    /** The steps' result-cache kind, `<kind>-step` (names them in warnings). */
    readonly kind: string,
    readonly dir: string,
    readonly parent: string,
    readonly opts: ResultCacheOptions,
    readonly counts: CheckpointCounts,
    readonly onFirstResume: () => void,
  ) {}

  async step<T>(
    name: string,
    compute: (sub: ResultCheckpoints) => Promise<T>,
    inputs?: unknown,
  ): Promise<T> {
    const key = {
      parent: this.parent,
      step: name,
      inputs: inputs === undefined ? null : inputFingerprint(inputs),
    };
    const stepOpts: ResultCacheOptions = { ...this.opts, dir: this.dir };
    const entry = resultCachePath(this.kind, key, stepOpts);
    const subDir = join(this.dir, "sub", basename(entry, ".safetensors"));
    let computed = false;
    const value = await cachedResult(this.kind, key, () => {
      computed = true;
      return compute(
        new FolderCheckpoints(
          this.kind,
          subDir,
          sha256Hex(canonicalJson(key)),
          this.opts,
          this.counts,
          this.onFirstResume,
        ),
      );
    }, stepOpts);
    if (computed) this.counts.computed++;
    else {
      if (this.counts.resumed === 0) this.onFirstResume();
      this.counts.resumed++;
    }
    // the sub-steps are only needed until the step's own value is on disk
    if (await isFile(entry)) await removeFolder(subDir);
    return value;
  }
}

/**
 * `cachedResult(kind, key, …)` for a computation of many steps (hours to days at paper scale):
 * `compute` gets {@link ResultCheckpoints}, and each step's value is stored under
 * {@link resultCheckpointDir} as it is produced (one sealed, atomically written entry per step,
 * as `cachedResult`'s), so a run killed midway resumes at the step it was in, with every step
 * done before read back bit for bit. A step's sub-steps (e.g. the chunks of an embedding the
 * step consumes) are removed once the step's value is stored, and the whole checkpoint folder
 * once the result's own entry is written (or found): checkpoints hold only unfinished work.
 * Checkpoints are keyed by the entry's full key (they live in its folder, and each step
 * records it), so changed code, models or inputs never resume from another run's steps; such
 * orphans are pruned as stale entries (`./kit task cache --prune`). Resuming is announced on
 * one line (`opts.log`, default stdout).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { cachedResultWithCheckpoints } from "./result_checkpoints.ts";
 * const dir = await Deno.makeTempDir();
 * const opts = { dir, log: () => {} };
 * const done: string[] = [];
 * const run = (failAt: number) =>
 *   cachedResultWithCheckpoints("demo", { n: 1 }, async (cp) => {
 *     const out: number[] = [];
 *     for (let i = 0; i < 3; i++) {
 *       out.push(await cp.step(`part ${i}`, () => {
 *         if (i === failAt) throw new Error("killed");
 *         done.push(`part ${i}`);
 *         return Promise.resolve(i * i);
 *       }));
 *     }
 *     return out;
 *   }, opts);
 * await assert.rejects(() => run(2), /killed/);
 * assert.deepEqual(await run(-1), [0, 1, 4]);
 * assert.deepEqual(done, ["part 0", "part 1", "part 2"]); // parts 0 and 1 were not redone
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function cachedResultWithCheckpoints<T>(
  kind: string,
  key: Record<string, unknown>,
  compute: (checkpoints: ResultCheckpoints) => Promise<T>,
  opts: ResultCacheOptions = {},
): Promise<T> {
  const dir = resultCheckpointDir(kind, key, opts);
  const counts: CheckpointCounts = { resumed: 0, computed: 0 };
  const say = opts.log ?? ((line: string) => console.log(line));
  const checkpoints = new FolderCheckpoints(
    `${kind}-step`,
    dir,
    sha256Hex(canonicalJson(key)),
    opts,
    counts,
    () =>
      say(`${kind}: resuming an interrupted run from its checkpoints (${projectRelative(dir)})`),
  );
  const value = await cachedResult(kind, key, () => compute(checkpoints), opts);
  if (await isFile(resultCachePath(kind, key, opts))) await removeFolder(dir);
  return value;
}
