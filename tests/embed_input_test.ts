/**
 * The reviewer CLI `./kit task embed` and the inputs it reads: errors come through runMain (one
 * "error:" message, no stack trace); invalid UTF-8 and over-long lines are rejected naming the
 * line before anything is tokenised; an undecodable image is named; a model folder missing
 * files lists all of them with the expected layout (also paper K's KIT_K_TEXT_MODEL folder);
 * a repeated record in a translations file is named.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MAX_TEXT_LINE_BYTES, readTextLines } from "../lib/io/text_lines.ts";
import { loadSafetensorsTextModel } from "../lib/encoders/safetensors_model_folder.ts";
import { parseKTranslations } from "../lib/k_finetune/k_translations_file.ts";
import { paperKSetups } from "../lib/k_finetune/k_paper_setups.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import { writeXlmrTokenizerFiles } from "./fixtures/tiny_pretrained_models.ts";

const XLMR = new URL("./fixtures/k_torch/xlmr/", import.meta.url).pathname;
const VIT = new URL("./fixtures/k_torch/vit/", import.meta.url).pathname;

async function withTempDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kit-embed-input-" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function xlmrFolder(dir: string): Promise<string> {
  const folder = join(dir, "xlmr");
  await Deno.mkdir(folder);
  for (const f of ["config.json", "model.safetensors"]) {
    await Deno.copyFile(join(XLMR, f), join(folder, f));
  }
  await writeXlmrTokenizerFiles(folder);
  return folder;
}

async function embed(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tools", "embed.ts"), "--backend", "wasm", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** A KitError through runMain: exit 1, one "error:" message, no stack trace. */
function assertCleanError(r: { code: number; stderr: string }, message: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /Uncaught|^\s+at /m, "a stack trace");
}

Deno.test("embed --texts: invalid UTF-8 is rejected naming the line", async () => {
  await withTempDir(async (dir) => {
    const texts = join(dir, "texts.txt");
    const enc = new TextEncoder();
    await Deno.writeFile(
      texts,
      new Uint8Array([...enc.encode("hello world\nthe "), 0xff, ...enc.encode("cat\n")]),
    );
    const r = await embed([
      "--model",
      await xlmrFolder(dir),
      "--texts",
      texts,
      "--out",
      join(dir, "x.npy"),
    ]);
    assertCleanError(
      r,
      new RegExp(`error: ${texts} line 2: not valid UTF-8 \\(byte 5 of the line\\)`),
    );
    await assert.rejects(Deno.stat(join(dir, "x.npy")), Deno.errors.NotFound);
  });
});

Deno.test("./kit task embed: a successful run prints no XDG_RUNTIME_DIR error (none set)", async () => {
  await withTempDir(async (dir) => {
    const texts = join(dir, "texts.txt");
    await Deno.writeTextFile(texts, "hello world\nthe cat\n");
    const env = Deno.env.toObject();
    delete env.XDG_RUNTIME_DIR;
    const out = await new Deno.Command(join(PROJECT_ROOT, "kit"), {
      args: [
        "task",
        "embed",
        "--model",
        await xlmrFolder(dir),
        "--texts",
        texts,
        "--out",
        join(dir, "x.npy"),
      ],
      env: { ...env, KIT_DENO: Deno.execPath() },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, err);
    assert.doesNotMatch(err, /XDG_RUNTIME_DIR/);
    assert.match(new TextDecoder().decode(out.stdout), /wrote .*x\.npy: 2 × 16 float32/);
  });
});

Deno.test("embed --texts: a line over the stated limit is rejected before tokenising", async () => {
  await withTempDir(async (dir) => {
    const texts = join(dir, "texts.txt");
    await Deno.writeTextFile(texts, `short\n${"a ".repeat(MAX_TEXT_LINE_BYTES)}\n`);
    const r = await embed([
      "--model",
      await xlmrFolder(dir),
      "--texts",
      texts,
      "--out",
      join(dir, "x.npy"),
    ]);
    assertCleanError(
      r,
      new RegExp(
        `error: ${texts} line 2: ${
          2 * MAX_TEXT_LINE_BYTES
        } bytes, more than the ${MAX_TEXT_LINE_BYTES}`,
      ),
    );
  });
});

Deno.test("readTextLines(): lines, CRLF and empty lines as before", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "t.txt");
    await Deno.writeTextFile(p, "a\r\n\nb é\n");
    assert.deepEqual(await readTextLines(p), ["a", "", "b é"]);
    await Deno.writeTextFile(p, "");
    assert.deepEqual(await readTextLines(p), []);
    await Deno.writeTextFile(p, "x");
    assert.deepEqual(await readTextLines(p), ["x"]);
  });
});

Deno.test("embed --images: an image that cannot be decoded is named", async () => {
  await withTempDir(async (dir) => {
    const folder = join(dir, "vit");
    await Deno.mkdir(folder);
    for (const f of ["config.json", "model.safetensors", "preprocessor_config.json"]) {
      await Deno.copyFile(join(VIT, f), join(folder, f));
    }
    const images = join(dir, "images");
    await Deno.mkdir(images);
    const { default: sharp } = await import("sharp");
    await sharp(new Uint8Array(8 * 8 * 3).fill(90), { raw: { width: 8, height: 8, channels: 3 } })
      .png().toFile(join(images, "a.png"));
    await Deno.writeTextFile(join(images, "b.jpg"), "not a JPEG at all");
    const r = await embed(["--model", folder, "--images", images, "--out", join(dir, "x.npy")]);
    assertCleanError(
      r,
      new RegExp(`error: ${join(images, "b.jpg")}: cannot be decoded as an image`),
    );
  });
});

Deno.test("embed: an empty model folder lists every missing file and the expected layout", async () => {
  await withTempDir(async (dir) => {
    const empty = join(dir, "empty-model");
    await Deno.mkdir(empty);
    const texts = join(dir, "texts.txt");
    await Deno.writeTextFile(texts, "hello\n");
    const r = await embed(["--model", empty, "--texts", texts, "--out", join(dir, "x.npy")]);
    assertCleanError(
      r,
      /error: XLM-R model folder .*empty-model is incomplete: config\.json, model\.safetensors, tokenizer\.json, tokenizer_config\.json are missing/,
    );
    assert.match(r.stderr, /expected layout/);
    assert.match(r.stderr, new RegExp(`${join(empty, "tokenizer_config.json")}`));
    // the library call names them too
    await assert.rejects(
      loadSafetensorsTextModel(empty),
      /tokenizer\.json, tokenizer_config\.json/,
    );
  });
});

Deno.test("paper K: an empty KIT_K_TEXT_MODEL folder lists what is missing, not a raw NotFound", async () => {
  await withTempDir(async (dir) => {
    const empty = join(dir, "xlm-roberta-large");
    await Deno.mkdir(empty);
    const old = Deno.env.get("KIT_K_TEXT_MODEL");
    Deno.env.set("KIT_K_TEXT_MODEL", empty);
    try {
      await assert.rejects(paperKSetups({ smoke: true, quiet: true, translations: null }), (e) => {
        assert.ok(e instanceof KitError, String(e));
        assert.match(
          e.message,
          /KIT_K_TEXT_MODEL folder .*xlm-roberta-large is incomplete: config\.json, model\.safetensors, tokenizer\.json, tokenizer_config\.json are missing/,
        );
        assert.match(e.describe(), /expected layout/);
        return true;
      });
    } finally {
      if (old === undefined) Deno.env.delete("KIT_K_TEXT_MODEL");
      else Deno.env.set("KIT_K_TEXT_MODEL", old);
    }
  });
});

Deno.test("translations file: an exactly repeated record is named with the line it repeats", () => {
  const rec = JSON.stringify({ image_id: 139, captions: { en: "A cat.", es: "Un gato." } });
  const other = JSON.stringify({ image_id: 139, captions: { en: "A cat sits.", es: "Un gato." } });
  // the same image with other captions is fine (COCO has five captions an image)
  assert.equal(parseKTranslations([rec, other].join("\n"), "t.jsonl").length, 2);
  assert.throws(
    () => parseKTranslations([rec, other, "", rec].join("\n"), "t.jsonl"),
    (e: unknown) => {
      assert.ok(e instanceof KitError);
      assert.match(
        e.message,
        /^t\.jsonl:4: the same record as line 1 \(image 139, same captions\)/,
      );
      return true;
    },
  );
});
