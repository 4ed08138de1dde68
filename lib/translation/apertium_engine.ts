import { KitError } from "../util/kit_error.ts";
import { sha256Hex } from "../util/sha256.ts";
import { languageCodes } from "./language_codes.ts";
import { type EngineInfo, engineSignature, type Translator } from "./translator.ts";

/** Options of the Apertium engine. */
export interface ApertiumOptions {
  /**
   * The `apertium` command (injectable: tests simulate a machine without it). Default: the
   * `KIT_APERTIUM` environment variable, else `apertium`.
   */
  command?: string;
  /** Sentences per process call. Default 2000. */
  batchSize?: number;
}

/** `KIT_APERTIUM`, else `apertium`. */
export function defaultApertiumCommand(): string {
  return Deno.env.get("KIT_APERTIUM") || "apertium";
}

/** The Debian package holding an Apertium pair (both directions live in one package). */
export function apertiumPackage(mode: string): string {
  const [a, b] = mode.split("-");
  const known: Record<string, string> = {
    "eng-spa": "apertium-eng-spa",
    "spa-eng": "apertium-eng-spa",
  };
  return known[mode] ?? `apertium-${a}-${b}`;
}

function notInstalled(command: string, mode: string): KitError {
  const pkg = apertiumPackage(mode);
  return new KitError(
    `Apertium is not installed (command "${command}" not found): the translation step needs its ${mode} pair; ` +
      `install the Debian packages apertium ${pkg} (sudo apt-get install -y apertium ${pkg}, or ./kit task setup as root), ` +
      "then rerun ./kit task reproduce --only 01",
  );
}

async function run(
  command: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(command, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * The Apertium pairs (modes) installed, from `apertium -l`. Throws a KitError naming the Debian
 * packages when the command is missing.
 */
export async function apertiumModes(
  opts: ApertiumOptions = {},
  wanted = "eng-spa",
): Promise<string[]> {
  const command = opts.command ?? defaultApertiumCommand();
  let r;
  try {
    r = await run(command, ["-l"]);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied) {
      throw notInstalled(command, wanted);
    }
    throw err;
  }
  return r.stdout.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

/** Collapses whitespace (a newline inside a sentence would be read as a paragraph break). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Removes Apertium's error marks (`#` generation, `@` transfer) at word starts the source lacked. */
function stripMarks(out: string, src: string): string {
  let s = out;
  if (!src.includes("#")) s = s.replace(/(^|\s)#(?=\S)/g, "$1");
  if (!src.includes("@")) s = s.replace(/(^|\s)@(?=\S)/g, "$1");
  return s;
}

/**
 * Apertium shallow-transfer MT as a `Translator` (offline; Debian packages `apertium` and
 * `apertium-eng-spa` for en→es, mode `eng-spa`). Many sentences go through one process call,
 * one sentence per paragraph: a blank line is a hard sentence boundary for Apertium (a single
 * newline is not — transfer rules would reorder words across it), and the output paragraph count
 * is checked; a batch whose count does not match is split in halves down to single sentences.
 * Unknown-word marks are off (`-u`). Throws a KitError naming the package when Apertium or the
 * pair is missing.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { apertiumTranslator } from "./apertium_engine.ts";
 * // Apertium missing (simulated by a command that does not exist): the error names the package
 * const absent = apertiumTranslator("en", "es", { command: "/nonexistent/apertium" });
 * await assert.rejects(absent, /apertium-eng-spa/);
 * // `./kit setup` installs it where apt can: then one process call translates the batch
 * const t = await apertiumTranslator("en", "es").catch(() => null);
 * if (t) assert.deepEqual(await t.translate(["A red car."], "en", "es"), ["Un coche rojo."]);
 * ```
 */
export async function apertiumTranslator(
  from = "en",
  to = "es",
  opts: ApertiumOptions = {},
): Promise<Translator> {
  const command = opts.command ?? defaultApertiumCommand();
  const batchSize = opts.batchSize ?? 2000;
  const src = languageCodes(from), tgt = languageCodes(to);
  const mode = `${src.iso3 === "quy" ? "quy" : src.iso3}-${tgt.iso3}`;
  const modes = await apertiumModes(opts, mode);
  if (!modes.includes(mode)) {
    const pkg = apertiumPackage(mode);
    throw new KitError(
      `Apertium has no ${mode} pair installed (installed: ${
        modes.join(", ") || "none"
      }); install the Debian package ${pkg} (sudo apt-get install -y ${pkg}), then rerun ./kit task reproduce --only 01`,
    );
  }
  const version =
    (await run(command, ["-V"]).catch(() => ({ stdout: "" }))).stdout.replace(/^Apertium\s*/i, "")
      .trim() || "-";
  const pkg = apertiumPackage(mode);
  let pairVersion = "";
  try {
    pairVersion = (await run("dpkg-query", ["-W", "-f", "${Version}", pkg])).stdout.trim();
  } catch { /* not a Debian system */ }
  if (!pairVersion) {
    for (const dir of ["/usr/share/apertium/modes", "/usr/local/share/apertium/modes"]) {
      try {
        pairVersion = `mode-sha256:${
          sha256Hex(await Deno.readFile(`${dir}/${mode}.mode`)).slice(0, 12)
        }`;
        break;
      } catch { /* try the next */ }
    }
  }
  const info: EngineInfo = {
    name: "apertium",
    version,
    model: `${mode}@${pkg}=${pairVersion || "?"}`,
    options: { unknown: "unmarked", sep: "paragraph" },
  };

  async function translateChunk(chunk: string[]): Promise<string[]> {
    const r = await run(command, ["-u", mode], chunk.join("\n\n") + "\n");
    if (r.code !== 0) {
      throw new KitError(
        `apertium ${mode} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`,
      );
    }
    const paras = r.stdout.replace(/\s+$/, "").split(/\n[ \t]*\n/).map((p) =>
      p.replace(/\s+/g, " ").trim()
    );
    if (paras.length === chunk.length) return paras;
    if (chunk.length === 1) return [paras.join(" ")];
    const mid = Math.ceil(chunk.length / 2);
    return [
      ...(await translateChunk(chunk.slice(0, mid))),
      ...(await translateChunk(chunk.slice(mid))),
    ];
  }

  return {
    info,
    signature: engineSignature(info),
    supports: (f, t) => languageCodes(f).iso === src.iso && languageCodes(t).iso === tgt.iso,
    async translate(texts, f, t) {
      if (languageCodes(f).iso !== src.iso || languageCodes(t).iso !== tgt.iso) {
        throw new KitError(`apertium ${mode}: cannot translate ${f}→${t}`);
      }
      const clean = texts.map(oneLine);
      const todo = clean.map((s, i) => [s, i] as const).filter(([s]) => s !== "");
      const out = new Array<string>(texts.length).fill("");
      for (let i = 0; i < todo.length; i += batchSize) {
        const part = todo.slice(i, i + batchSize);
        const res = await translateChunk(part.map(([s]) => s));
        part.forEach(([s, idx], j) => (out[idx] = stripMarks(res[j]!, s)));
      }
      return out;
    },
  };
}
