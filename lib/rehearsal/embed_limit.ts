/**
 * The rehearsal's embed limit (`reproduce --profile paper --rehearse --rehearse-embed-limit N`):
 * a full-size embedding of FLORES or MultiNLI with XLM-R-large takes hours to days on a CPU, so
 * each `embed` call of K's sentence encoders embeds only its first N texts for real and fills the
 * other rows by repeating the computed ones (row i ← row i mod N). Every later step (retrieval
 * matrices, NLI heads, bootstrap) still runs at full size; the time the skipped rows would have
 * taken is extrapolated from each call's measured rate (`extrapolatedEmbedSeconds`). Active only
 * in the paper profile and only when `KIT_REHEARSE_EMBED_LIMIT` is set (the rehearsal sets it
 * for each notebook process); each call appends one JSON line to `KIT_REHEARSE_EMBED_LOG`.
 */
import { readJsonLinesLog } from "./_json_lines_log.ts";
import type { KSetupId, SentenceEncoder } from "../encoders/encoder.ts";
import { KitError } from "../util/kit_error.ts";

/** One `embed` call under the limit. */
export interface EmbedLimitLogEntry {
  /** The notebook (`KIT_REHEARSE_NOTEBOOK`), or "" when not set. */
  notebook: string;
  /** The encoder's id. */
  encoder: string;
  /** Texts the caller asked for. */
  requested: number;
  /** Texts embedded for real (`min(requested, limit)`). */
  embedded: number;
  /** Wall seconds of the real embedding. */
  seconds: number;
}

/** Where `withEmbedLimit` reports each call: a JSONL file, or a function (tests). */
export type EmbedLimitSink = string | ((e: EmbedLimitLogEntry) => void | Promise<void>);

/**
 * `encoder` embedding at most `limit` texts of each call for real; the other rows repeat the
 * computed ones cyclically. Each call is reported to `log`. The wrapper has no `fingerprint`, so
 * result caches never keep its (partly repeated) rows.
 */
export function withEmbedLimit(
  encoder: SentenceEncoder,
  limit: number,
  log: EmbedLimitSink,
  notebook = "",
): SentenceEncoder {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new KitError(`embed limit ${limit}: expected a positive integer`);
  }
  const report = async (e: EmbedLimitLogEntry) => {
    if (typeof log === "string") {
      await Deno.writeTextFile(log, JSON.stringify(e) + "\n", { append: true, create: true });
    } else await log(e);
  };
  return {
    id: encoder.id,
    dim: encoder.dim,
    async embed(texts, lang, opts) {
      const n = texts.length, k = Math.min(n, limit);
      const t0 = performance.now();
      // the first k texts of the caller's order (the encoder may batch them by length); progress
      // counts the k embedded rows, the caller the rest when the call returns
      const m = await encoder.embed(k === n ? texts : texts.slice(0, k), lang, opts);
      const seconds = (performance.now() - t0) / 1000;
      await report({ notebook, encoder: encoder.id, requested: n, embedded: k, seconds });
      if (k === n) return m;
      const data = new Float32Array(n * m.cols);
      for (let r = 0; r < n; r++) {
        const s = (r % k) * m.cols;
        data.set(m.data.subarray(s, s + m.cols), r * m.cols);
      }
      return { data, rows: n, cols: m.cols };
    },
    dispose() {
      encoder.dispose();
    },
  };
}

/** The limit set for this process (`KIT_REHEARSE_EMBED_LIMIT`), or null; a bad value is an error. */
export function rehearsalEmbedLimit(env: Record<string, string | undefined> = Deno.env.toObject()):
  | { limit: number; log: string; notebook: string }
  | null {
  const raw = env.KIT_REHEARSE_EMBED_LIMIT;
  if (raw === undefined || raw === "") return null;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new KitError(`KIT_REHEARSE_EMBED_LIMIT=${raw}: expected a positive integer`);
  }
  const log = env.KIT_REHEARSE_EMBED_LOG;
  if (!log) {
    throw new KitError("KIT_REHEARSE_EMBED_LIMIT is set but KIT_REHEARSE_EMBED_LOG is not", [
      "the rehearsal sets both: the log (JSON lines) is what the extrapolation is computed from",
    ]);
  }
  return { limit, log, notebook: env.KIT_REHEARSE_NOTEBOOK ?? "" };
}

/**
 * K's encoders as `loadKSetupEncoders` returns them in the paper profile: unchanged unless
 * `KIT_REHEARSE_EMBED_LIMIT` is set, else each wrapped by `withEmbedLimit`.
 */
export function applyRehearsalEmbedLimit(
  encoders: Record<KSetupId, SentenceEncoder>,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Record<KSetupId, SentenceEncoder> {
  const cfg = rehearsalEmbedLimit(env);
  if (!cfg) return encoders;
  const out = {} as Record<KSetupId, SentenceEncoder>;
  for (const [s, e] of Object.entries(encoders) as [KSetupId, SentenceEncoder][]) {
    out[s] = withEmbedLimit(e, cfg.limit, cfg.log, cfg.notebook);
  }
  return out;
}

/** Reads an embed-limit log (JSON lines); a bad line is an error naming the file and line. */
export function readEmbedLimitLog(path: string): Promise<EmbedLimitLogEntry[]> {
  return readJsonLinesLog(path, (e, line) => {
    const { requested, embedded, seconds } = e;
    if (
      typeof requested !== "number" || typeof embedded !== "number" ||
      typeof seconds !== "number" || embedded < 0 || requested < embedded
    ) {
      throw new KitError(
        `${path}:${line}: expected {notebook, encoder, requested, embedded ≤ requested, seconds}`,
      );
    }
    return {
      notebook: String(e.notebook ?? ""),
      encoder: String(e.encoder ?? ""),
      requested,
      embedded,
      seconds,
    };
  });
}

/** What the skipped rows would have cost, summed over the calls, and what was embedded. */
export interface EmbedExtrapolation {
  /** Σ seconds × (requested / embedded − 1): the extra time of the rows not embedded. */
  extraSeconds: number;
  /** Σ seconds of the real embedding. */
  embedSeconds: number;
  requested: number;
  embedded: number;
  calls: number;
}

/**
 * Σ over calls of `seconds × (requested / embedded − 1)` (a call that embedded everything adds
 * nothing; one that embedded none cannot be scaled and is an error).
 */
export function extrapolatedEmbedSeconds(
  entries: readonly EmbedLimitLogEntry[],
): EmbedExtrapolation {
  let extraSeconds = 0, embedSeconds = 0, requested = 0, embedded = 0;
  for (const e of entries) {
    if (e.requested > 0 && e.embedded === 0) {
      throw new KitError(`embed log: ${e.encoder} embedded 0 of ${e.requested} texts`);
    }
    if (e.requested > 0) extraSeconds += e.seconds * (e.requested / e.embedded - 1);
    embedSeconds += e.seconds;
    requested += e.requested;
    embedded += e.embedded;
  }
  return { extraSeconds, embedSeconds, requested, embedded, calls: entries.length };
}
