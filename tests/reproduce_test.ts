import assert from "node:assert/strict";
import { join } from "node:path";
import { notebookJson } from "../lib/runner/notebook_json.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";

/** Throwaway notebooks inside the project (so the kernel finds deno.json), removed afterwards. */
async function withNotebooks(
  notebooks: Record<string, Parameters<typeof notebookJson>[0]>,
  fn: (dir: string, out: string) => Promise<void>,
): Promise<void> {
  await Deno.mkdir(join(PROJECT_ROOT, ".cache"), { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: join(PROJECT_ROOT, ".cache"),
    prefix: "test-notebooks-",
  });
  const out = await Deno.makeTempDir({ prefix: "kit-artifacts-" });
  try {
    for (const [name, cells] of Object.entries(notebooks)) {
      await Deno.writeTextFile(join(dir, name), notebookJson(cells));
    }
    await fn(dir, out);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
}

async function reproduce(args: string[], artifactDir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tools", "reproduce.ts"), ...args],
    env: { KIT_ARTIFACT_DIR: artifactDir },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("reproduce exits non-zero naming the notebook and cell when a cell throws", async () => {
  await withNotebooks({
    "00_fine.ipynb": [{ md: "# fine" }, { code: "const a = 1 + 1;\na" }],
    "01_broken.ipynb": [{ code: "const x = 1;" }, { md: "words" }, {
      code: 'throw new Error("planted failure")',
    }, { code: "x" }],
    "02_never.ipynb": [{
      code: 'await Deno.writeTextFile(Deno.env.get("KIT_ARTIFACT_DIR") + "/RAN", "")',
    }],
  }, async (dir, out) => {
    const r = await reproduce(["--notebooks", dir, "--smoke"], out);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /notebook 01_broken\.ipynb failed at cell 3 \(code cell 2\): Error: planted failure/,
    );
    assert.doesNotMatch(
      r.stderr,
      /at .*nbclient|Traceback/,
      "no Python stack trace for a notebook error",
    );
    // It stopped at the first failure: notebook 02 never ran.
    await assert.rejects(Deno.stat(join(out, "RAN")));
    // The executed copies were saved, the failing one with its error output.
    const executed = JSON.parse(await Deno.readTextFile(join(out, "notebooks", "01_broken.ipynb")));
    const errCell = executed.cells[2];
    assert.equal(errCell.outputs[0].output_type, "error");
    assert.equal(executed.cells[3].execution_count, null);
    const fine = JSON.parse(await Deno.readTextFile(join(out, "notebooks", "00_fine.ipynb")));
    assert.equal(fine.cells[1].outputs[0].data["text/plain"].join(""), "\x1b[33m2\x1b[39m");
  });
});

Deno.test("reproduce passes options to notebooks as KIT_* variables and honours --only", async () => {
  await withNotebooks({
    "00_env.ipynb": [{
      code: [
        'const keys = ["KIT_PROFILE", "KIT_SMOKE", "KIT_DATA_MIRROR", "KIT_BACKEND"];',
        'await Deno.writeTextFile(Deno.env.get("KIT_ARTIFACT_DIR") + "/env.json", JSON.stringify(Object.fromEntries(keys.map((k) => [k, Deno.env.get(k)]))));',
      ].join("\n"),
    }],
    "01_skipped.ipynb": [{ code: 'throw new Error("should not run")' }],
  }, async (dir, out) => {
    const mirror = await Deno.makeTempDir();
    const r = await reproduce([
      "--notebooks",
      dir,
      "--only",
      "00",
      "--smoke",
      "--profile",
      "paper",
      "--data-mirror",
      mirror,
      "--backend",
      "cpu",
    ], out);
    assert.equal(r.code, 0, r.stderr);
    const env = JSON.parse(await Deno.readTextFile(join(out, "env.json")));
    assert.deepEqual(env, {
      KIT_PROFILE: "paper",
      KIT_SMOKE: "1",
      KIT_DATA_MIRROR: mirror,
      KIT_BACKEND: "cpu",
    });
    assert.match(r.stdout, /00_env\.ipynb\s+\d+\.\d\s+env\.json/);
    await Deno.remove(mirror);
  });
});

Deno.test("reproduce rejects bad options with one clear line", async () => {
  const out = await Deno.makeTempDir();
  for (
    const [args, msg] of [
      [["--profile", "huge"], /KIT_PROFILE=huge: expected one of mini, paper/],
      [["--only", "99"], /no notebook numbered 99/],
      [["--only", "x"], /expected two-digit numbers/],
    ] as const
  ) {
    const r = await reproduce([...args], out);
    assert.equal(r.code, 1);
    assert.match(r.stderr, msg);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
  }
  await Deno.remove(out, { recursive: true });
});

Deno.test("a KitError's hints (URL, sha256, folder) reach reproduce's terminal summary and the executed notebook", async () => {
  const manifest = JSON.parse(
    await Deno.readTextFile(join(PROJECT_ROOT, "data", "manifests", "sib200.json")),
  );
  const first = manifest.files[0] as { path: string; sha256: string };
  const emptyCache = await Deno.makeTempDir({ prefix: "kit-empty-cache-" });
  try {
    await withNotebooks({
      "00_needs_data.ipynb": [{
        code: [
          `import { DataRegistry } from ${
            JSON.stringify(join(PROJECT_ROOT, "lib", "data", "registry.ts"))
          };`,
          `await new DataRegistry({ cacheRoot: ${
            JSON.stringify(emptyCache)
          }, mirror: null }).resolve("sib200");`,
        ].join("\n"),
      }],
    }, async (dir, out) => {
      const r = await reproduce(["--notebooks", dir, "--smoke", "--no-report"], out);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /dataset "sib200" .* is not available offline/);
      assert.ok(
        r.stderr.includes(
          "https://raw.githubusercontent.com/dadelani/sib-200/main/data/annotated/",
        ),
        r.stderr,
      );
      assert.ok(
        r.stderr.includes(`sha256 ${first.sha256}`),
        "the file's checksum is in the terminal summary",
      );
      assert.ok(
        r.stderr.includes(`${emptyCache}/sib200`) || r.stderr.includes("sib200/"),
        "the target folder",
      );
      assert.match(r.stderr, /\.\/kit task fetch sib200/);
      const executed = JSON.parse(
        await Deno.readTextFile(join(out, "notebooks", "00_needs_data.ipynb")),
      );
      const traceback = executed.cells[0].outputs.find((o: { output_type: string }) =>
        o.output_type === "error"
      ).traceback.join("\n");
      assert.ok(
        traceback.includes(`sha256 ${first.sha256}`),
        "the hints are in the notebook's error output",
      );
    });
  } finally {
    await Deno.remove(emptyCache, { recursive: true });
  }
});

Deno.test("reproduce --profile paper --only 00 without COCO/WIT exits non-zero naming the dataset", async () => {
  const out = await Deno.makeTempDir({ prefix: "kit-artifacts-" });
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(PROJECT_ROOT, "tools", "reproduce.ts"),
        "--profile",
        "paper",
        "--only",
        "00",
        "--smoke",
        "--no-report",
      ],
      env: { KIT_ARTIFACT_DIR: out },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 1, stderr);
    assert.match(
      stderr,
      /notebook 00_dataset_build\.ipynb failed at cell \d+ .*dataset "mscoco-2017"/,
    );
    assert.match(
      stderr,
      /https:\/\/images\.cocodataset\.org\/annotations\/annotations_trainval2017\.zip/,
    );
    assert.match(stderr, /\.\/kit task fetch mscoco-2017/);
    // nothing was written signed profile:paper
    const written: string[] = [];
    for await (const e of Deno.readDir(out)) if (e.isFile) written.push(e.name);
    assert.deepEqual(written, []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
