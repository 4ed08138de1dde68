/**
 * A terminal progress bar with counts, rate and ETA. On a TTY it redraws one line; elsewhere
 * (CI logs, notebooks) it prints a line at most every `logEverySeconds` and at the end, through
 * `console.error` so that a notebook shows it. A bar with nothing left to do (everything came from
 * a cache) prints nothing off a TTY unless KIT_VERBOSE=1: a cache notice, not progress.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProgressBar } from "./progress.ts";
 * const bar = new ProgressBar("demo", 3, { silent: true });
 * for (let i = 0; i < 3; i++) bar.tick();
 * assert.equal(bar.count, 3);
 * bar.done();
 * ```
 */
export interface ProgressOptions {
  /** Print nothing (tests). Default: false, or true when KIT_QUIET=1. */
  silent?: boolean;
  /** Seconds between lines when not on a TTY. Default 5. */
  logEverySeconds?: number;
  /** Count already done (a resumed run). */
  start?: number;
  /** Unit shown after counts, e.g. "files". */
  unit?: string;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(r).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class ProgressBar {
  readonly label: string;
  readonly total: number;
  #done: number;
  readonly #startCount: number;
  readonly #t0 = performance.now();
  #lastPrint = 0;
  readonly #silent: boolean;
  readonly #tty: boolean;
  readonly #every: number;
  readonly #unit: string;

  constructor(label: string, total: number, opts: ProgressOptions = {}) {
    this.label = label;
    this.total = total;
    this.#done = opts.start ?? 0;
    this.#startCount = this.#done;
    this.#silent = opts.silent ?? (Deno.env.get("KIT_QUIET") === "1");
    this.#tty = !this.#silent && Deno.stderr.isTerminal();
    this.#every = (opts.logEverySeconds ?? 5) * 1000;
    this.#unit = opts.unit ? ` ${opts.unit}` : "";
  }

  get count(): number {
    return this.#done;
  }

  /** Advances by `n` and redraws when due. */
  tick(n = 1): void {
    this.#done += n;
    const now = performance.now();
    if (this.#tty ? now - this.#lastPrint > 100 : now - this.#lastPrint > this.#every) {
      this.#lastPrint = now;
      this.#print(false);
    }
  }

  /** The current line: `label [#####.....] 12/40 files 3.1/s ETA 00:09`. */
  render(): string {
    const width = 24;
    const frac = this.total > 0 ? Math.min(1, this.#done / this.total) : 1;
    const filled = Math.round(frac * width);
    const elapsed = (performance.now() - this.#t0) / 1000;
    const rate = elapsed > 0 ? (this.#done - this.#startCount) / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.#done) / rate : NaN;
    const bar = "#".repeat(filled) + ".".repeat(width - filled);
    const head = `${this.label} [${bar}] ${this.#done}/${this.total}${this.#unit} `;
    // a resumed run with nothing left to do (e.g. every sentence in the cache) has no rate
    if (this.#done === this.#startCount && this.#done >= this.total) {
      return head + "(all done before, cached)";
    }
    return head + `${rate.toFixed(rate < 10 ? 1 : 0)}/s ETA ${formatDuration(eta)}`;
  }

  #print(final: boolean): void {
    if (this.#silent) return;
    const cachedOnly = this.#done === this.#startCount && this.#done >= this.total;
    if (!this.#tty && cachedOnly && Deno.env.get("KIT_VERBOSE") !== "1") return;
    const line = this.render();
    const enc = new TextEncoder();
    if (this.#tty) Deno.stderr.writeSync(enc.encode(`\r${line}\x1b[K${final ? "\n" : ""}`));
    // console.error, not Deno.stderr: in the Deno Jupyter kernel only console output reaches the
    // notebook (as a stderr stream, which `./kit task reproduce` also echoes live).
    else console.error(line);
  }

  /** Prints the final line. */
  done(): void {
    this.#print(true);
  }
}
