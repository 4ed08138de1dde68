import { KitError } from "../util/kit_error.ts";
import type { SentenceEncoder } from "./encoder.ts";

/** A sentence encoder known by its identity and width, whose weights load when first used. */
export interface LazyEncoderSpec {
  /** The encoder's `id`, known without loading (the loaded encoder must report the same). */
  readonly id: string;
  /** The encoder's `dim`, known without loading (the loaded encoder must report the same). */
  readonly dim: number;
  /** As `SentenceEncoder.fingerprint`; absent when the encoder has none. */
  readonly fingerprint?: string;
  /** Loads the weights (a file read); called on first use and again after each eviction. */
  load(): Promise<SentenceEncoder>;
}

/** What a pool has done so far: for tests, progress lines and the plan's reload count. */
export interface ResidentEncoderPoolStats {
  /** The id of the encoder whose weights are resident, or null. */
  resident: string | null;
  /** Weight loads so far (first uses and reloads after an eviction). */
  loads: number;
  /** Resident encoders released so far (evicted by another's use, or disposed). */
  releases: number;
}

/** The identity of one lazy encoder inside its pool. */
interface PoolMember {
  readonly spec: LazyEncoderSpec;
  disposed: boolean;
}

/**
 * One residency slot shared by many sentence encoders: encoders made by `lazy()` load their
 * weights on first use, and using one whose weights are not resident first releases (disposes)
 * the encoder that is, then loads its own. So at most one encoder's weights are held at a time
 * — e.g. paper K's five XLM-R-large encoders (≈ 2.2 GB fp32 each) in notebooks 03/04, which use
 * them one setup after another. Uses are serialised (one `embed` at a time across the pool), so
 * an eviction never frees weights another call is still reading.
 *
 * An encoder's `dispose()` releases its weights if resident (after its running `embed`, if
 * any) and is idempotent; using it afterwards rejects with a `KitError` naming it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ResidentEncoderPool } from "./resident_encoder_pool.ts";
 * const pool = new ResidentEncoderPool();
 * const made = (id: string) => ({
 *   id,
 *   dim: 1,
 *   load: () =>
 *     Promise.resolve({
 *       id,
 *       dim: 1,
 *       embed: (t: readonly string[]) =>
 *         Promise.resolve({ data: new Float32Array(t.length), rows: t.length, cols: 1 }),
 *       dispose() {},
 *     }),
 * });
 * const a = pool.lazy(made("a")), b = pool.lazy(made("b"));
 * assert.equal(pool.stats().resident, null); // nothing loaded yet
 * await a.embed(["x"], "en");
 * await b.embed(["y"], "en"); // releases a, loads b
 * assert.deepEqual(pool.stats(), { resident: "b", loads: 2, releases: 1 });
 * b.dispose();
 * await assert.rejects(() => b.embed(["y"], "en"), /used after dispose/);
 * ```
 */
export class ResidentEncoderPool {
  #resident: { member: PoolMember; encoder: SentenceEncoder } | null = null;
  /** The member whose use is running (its weights are being loaded or read). */
  #busy: PoolMember | null = null;
  /** Uses run one after another, in call order. */
  #queue: Promise<void> = Promise.resolve();
  #loads = 0;
  #releases = 0;

  /** A sentence encoder with `spec`'s id and dim whose weights live in this pool's slot. */
  lazy(spec: LazyEncoderSpec): SentenceEncoder {
    const member: PoolMember = { spec, disposed: false };
    return {
      id: spec.id,
      dim: spec.dim,
      ...(spec.fingerprint === undefined ? {} : { fingerprint: spec.fingerprint }),
      embed: (texts, lang, opts) => this.#use(member, (e) => e.embed(texts, lang, opts)),
      dispose: () => {
        if (member.disposed) return;
        member.disposed = true;
        // while its own embed runs, the weights are released when that call ends
        if (this.#resident?.member === member && this.#busy !== member) this.#release();
      },
    };
  }

  /** The resident encoder, the loads and the releases so far. */
  stats(): ResidentEncoderPoolStats {
    return {
      resident: this.#resident?.member.spec.id ?? null,
      loads: this.#loads,
      releases: this.#releases,
    };
  }

  #release(): void {
    const r = this.#resident;
    if (!r) return;
    this.#resident = null;
    this.#releases++;
    r.encoder.dispose();
  }

  #use<T>(member: PoolMember, f: (e: SentenceEncoder) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (member.disposed) throw usedAfterDispose(member.spec.id);
      this.#busy = member;
      try {
        return await f(await this.#acquire(member));
      } finally {
        this.#busy = null;
        if (member.disposed && this.#resident?.member === member) this.#release();
      }
    };
    const result = this.#queue.then(run);
    this.#queue = result.then(() => {}, () => {});
    return result;
  }

  async #acquire(member: PoolMember): Promise<SentenceEncoder> {
    if (this.#resident?.member === member) return this.#resident.encoder;
    this.#release(); // first free the slot, then read the next weights
    const { spec } = member;
    const encoder = await spec.load();
    if (encoder.id !== spec.id || encoder.dim !== spec.dim) {
      encoder.dispose();
      throw new KitError(
        `encoder ${spec.id} (${spec.dim}-d) loaded as ${encoder.id} (${encoder.dim}-d)`,
        ["its model folder changed on disk since the encoders were made: make them again"],
      );
    }
    this.#loads++;
    this.#resident = { member, encoder };
    return encoder;
  }
}

function usedAfterDispose(id: string): KitError {
  return new KitError(`encoder ${id}: used after dispose()`, [
    "its weights were released; make the encoders again (e.g. loadKSetupEncoders()) to use it",
  ]);
}
