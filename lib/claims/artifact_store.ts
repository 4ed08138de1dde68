import { join } from "node:path";
import { KitError } from "../util/kit_error.ts";
import { type ItemOutcomes } from "./item_outcomes.ts";
import { readItemOutcomes } from "./item_outcomes_file.ts";

/** One table artifact as read back from `<artifactDir>/<id>.json`. */
export interface ArtifactTable {
  id: string;
  path: string;
  rows: Record<string, unknown>[];
  /** `provenance.profile` of the artifact, when it has one. */
  profile: string | null;
  /**
   * Written by a run of the kit (its provenance carries the run's `signature`), so its numbers
   * were computed with the per-item outcomes beside it; false for a hand-made table.
   */
  fromRun: boolean;
}

/**
 * Reads a table artifact's JSON: `null` when the file does not exist; a KitError naming the file
 * when it exists but cannot be read, is not JSON, or has no `rows` array of objects (a failure of
 * the kit, not of a claim).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readArtifactTable } from "./artifact_store.ts";
 * assert((await readArtifactTable(await Deno.makeTempDir(), "D-T1")) === null);
 * ```
 */
export async function readArtifactTable(
  artifactDir: string,
  id: string,
): Promise<ArtifactTable | null> {
  const path = join(artifactDir, `${id}.json`);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw new KitError(
      `${path}: cannot read the artifact (${err instanceof Error ? err.message : err})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KitError(`${path}: not valid JSON (${err instanceof Error ? err.message : err})`, [
      "rerun the notebook that writes it (./kit task reproduce --only NN)",
    ]);
  }
  const o = json as Record<string, unknown> | null;
  if (typeof o !== "object" || o === null || !Array.isArray(o.rows)) {
    throw new KitError(`${path}: expected a table artifact, an object with a "rows" array`);
  }
  const rows = o.rows as unknown[];
  rows.forEach((r, i) => {
    if (typeof r !== "object" || r === null || Array.isArray(r)) {
      throw new KitError(`${path}: rows[${i}]: expected an object, got ${JSON.stringify(r)}`);
    }
  });
  const prov = o.provenance as Record<string, unknown> | undefined;
  const profile = typeof prov?.profile === "string" ? prov.profile : null;
  const fromRun = typeof prov?.signature === "string";
  return { id, path, rows: rows as Record<string, unknown>[], profile, fromRun };
}

/**
 * The artifacts a set of claims reads, and the per-item outcome files behind them
 * (`items/<id>.json`), loaded once: `get(id)` / `items(id)` are `null` for a missing one.
 */
export class ArtifactStore {
  readonly #tables = new Map<string, ArtifactTable | null>();
  readonly #items = new Map<string, ItemOutcomes | null>();
  private constructor(readonly dir: string) {}

  /**
   * Loads the artifacts `ids` and the outcome files `itemIds` from `dir` (throws a KitError for
   * an unreadable or invalid one).
   */
  static async load(
    dir: string,
    ids: Iterable<string>,
    itemIds: Iterable<string> = [],
  ): Promise<ArtifactStore> {
    const store = new ArtifactStore(dir);
    for (const id of new Set(ids)) store.#tables.set(id, await readArtifactTable(dir, id));
    for (const id of new Set(itemIds)) store.#items.set(id, await readItemOutcomes(dir, id));
    return store;
  }

  get(id: string): ArtifactTable | null {
    if (!this.#tables.has(id)) throw new Error(`artifact ${id} was not declared for loading`);
    return this.#tables.get(id) ?? null;
  }

  items(id: string): ItemOutcomes | null {
    if (!this.#items.has(id)) throw new Error(`item outcomes ${id} were not declared for loading`);
    return this.#items.get(id) ?? null;
  }

  /** The profile written in the loaded artifacts' provenance (the first found), or null. */
  profile(): string | null {
    for (const t of this.#tables.values()) if (t?.profile) return t.profile;
    return null;
  }
}
