/**
 * `./kit task notebook` and `./kit task kernel`: the token and port checks, the user kernelspec,
 * and notebook 00 run cell by cell through the classic Jupyter page in headless Chromium (the
 * kit's shared browser), in smoke mode.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { chromiumPath, closeBrowser, sharedBrowser } from "../lib/artifacts/chromium_renderer.ts";
import {
  checkNotebookToken,
  choosePort,
  lostPortRace,
  notebookServerAvailable,
  randomNotebookToken,
  startNotebookServer,
} from "../lib/setup/notebook_server.ts";
import {
  installUserKernelSpec,
  uninstallUserKernelSpec,
  userJupyterDataDir,
} from "../lib/setup/user_kernelspec.ts";
import { KitError } from "../lib/util/kit_error.ts";
import { PROJECT_ROOT } from "../lib/util/paths.ts";
import { sha256Hex } from "../lib/util/sha256.ts";

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

async function runTool(tool: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(PROJECT_ROOT, "tools", tool), ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("checkNotebookToken() rejects short or URL-unsafe tokens and accepts random ones", () => {
  for (const bad of ["", "abc", "a".repeat(15), "has space in the token!", "semi;colon;token;xx"]) {
    assert.throws(() => checkNotebookToken(bad), KitError, bad);
  }
  checkNotebookToken(randomNotebookToken());
  checkNotebookToken("my-course_token-2026");
  assert.notEqual(randomNotebookToken(), randomNotebookToken());
});

Deno.test("choosePort() names a requested port that is in use and skips busy defaults", () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const busy = (l.addr as Deno.NetAddr).port;
    assert.throws(() => choosePort(busy), (e: unknown) => {
      assert.ok(e instanceof KitError);
      assert.match(e.message, new RegExp(`--port ${busy}: port ${busy} on 127.0.0.1 is in use`));
      return true;
    });
    assert.throws(() => choosePort(70000), KitError);
    assert.notEqual(choosePort(), busy);
  } finally {
    l.close();
  }
});

Deno.test("lostPortRace() recognises Jupyter's port-in-use lines for that port only", () => {
  const log = [
    "[I 10:00:00.000 NotebookApp] The port 8888 is already in use.",
    "[C 10:00:00.001 NotebookApp] ERROR: the notebook server could not be started because port 8888 is not available.",
  ];
  assert.ok(lostPortRace(log, 8888));
  assert.ok(lostPortRace(log.slice(1), 8888));
  assert.ok(!lostPortRace(log, 8889));
  assert.ok(!lostPortRace(["[C NotebookApp] Bad config encountered during initialization"], 8888));
});

Deno.test({
  name:
    "two notebook servers started at the same instant both start: the one that loses the port retries the next free one",
  ignore: !notebookServerAvailable(),
  sanitizeResources: false,
  fn: async () => {
    // Both calls choose their port before either server binds it: the same port, a real race.
    const logs: string[][] = [[], []];
    const results = await Promise.allSettled(
      logs.map((log) =>
        startNotebookServer({ smoke: true, env: { KIT_QUIET: "1" }, onLog: (l) => log.push(l) })
      ),
    );
    const servers = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    try {
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "fulfilled"],
        results.map((r) => (r.status === "rejected" ? String(r.reason) : "")).join("\n"),
      );
      const [a, b] = servers as [typeof servers[0], typeof servers[0]];
      assert.notEqual(a.port, b.port);
      // exactly one lost the race and said so
      const retried = logs.filter((l) => l.some((x) => /^\[W kit\] port \d+ was taken/.test(x)));
      assert.equal(retried.length, 1, logs.flat().join("\n"));
      for (const s of servers) {
        const url = new URL(s.url());
        assert.equal(url.port, String(s.port));
        const r = await fetch(`${s.baseUrl}/api/status`, {
          headers: { Authorization: `token ${s.token}` },
        });
        await r.body?.cancel();
        assert.equal(r.status, 200, `server on ${s.port} answers with its own token`);
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  },
});

Deno.test("notebook task: a bad token or a port in use stops it with a clear message", async () => {
  const bad = await runTool("notebook.ts", ["--token", "abc"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /error: --token: "abc" is not a usable token: expected at least 16/);
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (l.addr as Deno.NetAddr).port;
    const busy = await runTool("notebook.ts", ["--port", String(port)]);
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(
      busy.stderr,
      new RegExp(`error: --port ${port}: port ${port} on 127.0.0.1 is in use`),
    );
    assert.match(busy.stderr, /choose another port/);
    assert.doesNotMatch(busy.stderr, /internal error|Traceback/);
  } finally {
    l.close();
  }
  const nn = await runTool("notebook.ts", ["99"]);
  assert.equal(nn.code, 1);
  assert.match(nn.stderr, /no notebook numbered 99 in notebooks\/\n\s+notebooks: 00_dataset_build/);
});

Deno.test({
  name:
    "notebook task: prints a URL whose /api/kernelspecs lists the project's Deno kernel, and stops cleanly on SIGINT",
  ignore: !notebookServerAvailable(),
  sanitizeResources: false,
  fn: async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(PROJECT_ROOT, "tools", "notebook.ts"), "01", "--smoke"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errDone = new Response(child.stderr).text();
    const reader = child.stdout.getReader();
    let out = "";
    try {
      while (!out.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        out += decode(value);
      }
      const url = new URL(out.trim());
      assert.equal(url.hostname, "127.0.0.1");
      assert.match(url.pathname, /^\/notebooks\/01_translation\.ipynb$/);
      const token = url.searchParams.get("token")!;
      const specs = await fetch(`${url.origin}/api/kernelspecs?token=${token}`).then((r) =>
        r.json()
      );
      assert.equal(specs.default, "deno");
      assert.equal(specs.kernelspecs.deno.spec.display_name, "Deno (image-pivot kit)");
      assert.equal(specs.kernelspecs.deno.spec.argv[0], Deno.execPath());
    } finally {
      child.kill("SIGINT");
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
    }
    const status = await child.status;
    const err = await errDone;
    assert.equal(status.code, 0, err);
    assert.match(err, /notebook: stopped \(server exit 0\)/);
    assert.doesNotMatch(err, /token=/, "the token is not logged on stderr");
  },
});

Deno.test("userJupyterDataDir() follows jupyter_core: JUPYTER_DATA_DIR, XDG_DATA_HOME, ~/.local/share", () => {
  assert.equal(userJupyterDataDir({ JUPYTER_DATA_DIR: "/j", HOME: "/h" }, "linux"), "/j");
  assert.equal(userJupyterDataDir({ HOME: "/h", XDG_DATA_HOME: "/x" }, "linux"), "/x/jupyter");
  assert.equal(userJupyterDataDir({ HOME: "/h" }, "linux"), "/h/.local/share/jupyter");
  assert.equal(userJupyterDataDir({ HOME: "/h" }, "darwin"), "/h/Library/Jupyter");
  assert.throws(() => userJupyterDataDir({}, "linux"), KitError);
});

Deno.test("kernel task: --install-user writes a kernelspec Jupyter lists; --uninstall removes only the kit's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kit-user-jupyter-" });
  try {
    const env = { JUPYTER_DATA_DIR: dir };
    const inst = await runTool("kernel.ts", ["--install-user"], env);
    assert.equal(inst.code, 0, inst.stderr);
    const spec = JSON.parse(await Deno.readTextFile(join(dir, "kernels", "deno", "kernel.json")));
    assert.equal(spec.argv[0], Deno.execPath());
    assert.equal(spec.display_name, "Deno (image-pivot kit)");
    if (notebookServerAvailable()) {
      // Debian's Jupyter itself finds it where the user's Jupyter / VS Code look.
      const list = await new Deno.Command("/usr/bin/python3", {
        args: ["-m", "jupyter_client.kernelspecapp", "list", "--json"],
        env: { JUPYTER_DATA_DIR: dir, JUPYTER_PATH: "" },
        stdout: "piped",
        stderr: "null",
      }).output();
      const specs = JSON.parse(decode(list.stdout)).kernelspecs;
      assert.equal(specs.deno.resource_dir, join(dir, "kernels", "deno"));
    }
    assert.equal((await runTool("kernel.ts", ["--uninstall"], env)).code, 0);
    await assert.rejects(Deno.stat(join(dir, "kernels", "deno")), Deno.errors.NotFound);
    // Someone else's "deno" kernelspec (e.g. `deno jupyter --install`) is never replaced or removed.
    const foreign = join(dir, "kernels", "deno", "kernel.json");
    await Deno.mkdir(join(dir, "kernels", "deno"), { recursive: true });
    await Deno.writeTextFile(foreign, JSON.stringify({ argv: ["deno"], display_name: "Deno" }));
    await assert.rejects(installUserKernelSpec({ dataDir: dir }), /did not write/);
    await assert.rejects(uninstallUserKernelSpec({ dataDir: dir }), /not written by the kit/);
    assert.equal(JSON.parse(await Deno.readTextFile(foreign)).display_name, "Deno");
    const other = await installUserKernelSpec({ dataDir: dir, name: "deno-kit" });
    assert.equal(other, join(dir, "kernels", "deno-kit", "kernel.json"));
    assert.equal(
      await uninstallUserKernelSpec({ dataDir: dir, name: "deno-kit" }),
      join(dir, "kernels", "deno-kit"),
    );
    assert.equal((await runTool("kernel.ts", [])).code, 2); // a usage error: neither option
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** True when the image has more than one colour. */
async function nonBlank(png: Uint8Array): Promise<boolean> {
  const stats = await sharp(png).stats();
  return stats.channels.some((c) => c.min !== c.max);
}

interface CellReport {
  count: number | string | null;
  outputs: { output_type: string; mimes: string[]; ename?: string; evalue?: string }[];
}

Deno.test({
  name:
    "notebook server: notebook 00 runs cell by cell through the page in Chromium (smoke): outputs, figure drawn, no errors, same artifacts as reproduce",
  ignore: !chromiumPath() || !notebookServerAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const home = await Deno.makeTempDir({ prefix: "kit-nb-home-" });
    const artifacts = await Deno.makeTempDir({ prefix: "kit-nb-artifacts-" });
    const nbPath = join(PROJECT_ROOT, "notebooks", "00_dataset_build.ipynb");
    const before = sha256Hex(await Deno.readFile(nbPath));
    // HOME is an empty folder: the server and kernels must write nothing there.
    const server = await startNotebookServer({
      smoke: true,
      artifactDir: artifacts,
      env: { HOME: home, KIT_QUIET: "1" },
    });
    const homeEntries: string[] = [];
    const walk = (d: string, rel: string) => {
      for (const e of Deno.readDirSync(d)) {
        homeEntries.push(`${rel}${e.name}`);
        if (e.isDirectory && rel.split("/").length < 4) walk(join(d, e.name), `${rel}${e.name}/`);
      }
    };
    let stopCode = -1;
    const pageArtifacts: Record<string, Record<string, unknown> | null> = {};
    try {
      // The API answers with the token only, and lists the project's kernel.
      const specs = await fetch(`${server.baseUrl}/api/kernelspecs`, {
        headers: { Authorization: `token ${server.token}` },
      }).then((r) => r.json());
      assert.equal(specs.kernelspecs.deno.spec.display_name, "Deno (image-pivot kit)");
      const wrong = await fetch(`${server.baseUrl}/api/kernelspecs`, {
        headers: { Authorization: `token ${randomNotebookToken()}` },
      });
      await wrong.body?.cancel();
      assert.equal(wrong.status, 403);

      const browser = await sharedBrowser();
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const external: string[] = [];
      page.on("console", (m: { type(): string; text(): string }) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e: Error) => errors.push(String(e)));
      await page.route(
        "**/*",
        (
          r: { request(): { url(): string }; continue(): Promise<void>; abort(): Promise<void> },
        ) => {
          const u = r.request().url();
          if (u.startsWith(server.baseUrl) || u.startsWith("data:") || u.startsWith("blob:")) {
            return r.continue();
          }
          external.push(u);
          return r.abort();
        },
      );
      try {
        await page.goto(server.url("00_dataset_build.ipynb"), { waitUntil: "load" });
        await page.waitForFunction(
          // deno-lint-ignore no-explicit-any
          () => (globalThis as any).Jupyter?.notebook?.kernel?.is_connected?.() === true,
          undefined,
          { timeout: 60_000 },
        );
        const nCode = await page.evaluate(() => {
          // deno-lint-ignore no-explicit-any
          const nb = (globalThis as any).Jupyter.notebook;
          nb.set_autosave_interval(0); // never write outputs into the committed notebook
          nb.execute_all_cells();
          // deno-lint-ignore no-explicit-any
          return nb.get_cells().filter((c: any) => c.cell_type === "code").length;
        });
        assert.ok(nCode >= 5, `${nCode} code cells`);
        // Done = every code cell has a number, the kernel is idle, and outputs stopped arriving.
        const snapshot = () =>
          page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const nb = (globalThis as any).Jupyter.notebook;
            const idle = document.querySelector("#kernel_indicator_icon")?.classList.contains(
              "kernel_idle_icon",
            ) ?? false;
            interface PageCell {
              cell_type: string;
              input_prompt_number?: number | string | null;
              output_area: { outputs: Record<string, unknown>[] };
            }
            const code = (nb.get_cells() as PageCell[]).filter((c) => c.cell_type === "code");
            const cells = code.map((c) => ({
              count: c.input_prompt_number ?? null,
              outputs: c.output_area.outputs.map((o) => ({
                output_type: o.output_type,
                mimes: Object.keys((o.data as Record<string, unknown> | undefined) ?? {}),
                ename: o.ename,
                evalue: o.evalue,
              })),
            }));
            return { idle, cells };
          }) as Promise<{ idle: boolean; cells: CellReport[] }>;
        const deadline = Date.now() + 240_000;
        let last = "";
        let stableSince = 0;
        let snap = await snapshot();
        for (;;) {
          snap = await snapshot();
          // The Deno kernel can publish a cell's display after its idle status (under load,
          // seconds later): done means idle, every cell ran, and every cell has its output.
          const done = snap.idle &&
            snap.cells.every((c) => typeof c.count === "number" && c.outputs.length > 0);
          const key = JSON.stringify(snap);
          if (key !== last) [last, stableSince] = [key, Date.now()];
          if (done && Date.now() - stableSince > 3000) break;
          if (snap.cells.some((c) => c.outputs.some((o) => o.output_type === "error"))) break;
          if (Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        const errorsOut = snap.cells.flatMap((c, i) =>
          c.outputs.filter((o) => o.output_type === "error").map((o) =>
            `code cell ${i + 1}: ${o.ename}: ${o.evalue}`
          )
        );
        assert.deepEqual(errorsOut, [], "error outputs");
        snap.cells.forEach((c, i) => {
          assert.equal(typeof c.count, "number", `code cell ${i + 1} ran`);
          assert.ok(c.outputs.length > 0, `code cell ${i + 1} has output`);
        });
        // The figure (DATA-F1): the classic page cannot draw plotly JSON, so it shows the PNG.
        const figures = snap.cells.flatMap((c) => c.outputs).filter((o) =>
          o.mimes.includes("application/vnd.plotly.v1+json")
        );
        assert.ok(figures.length >= 1, "a figure output");
        assert.ok(figures.every((o) => o.mimes.includes("image/png")), "figures carry a PNG");
        const images = await page.evaluate(() =>
          [...document.querySelectorAll(".output_png img")].map((img) => ({
            w: (img as HTMLImageElement).naturalWidth,
            h: (img as HTMLImageElement).naturalHeight,
          }))
        );
        assert.equal(images.length, figures.length, "one drawn image per figure");
        for (const im of images) assert.ok(im.w > 100 && im.h > 100, `image ${im.w}×${im.h}`);
        assert.deepEqual(errors, [], "console errors");
        assert.deepEqual(external, [], "requests outside the server");
        const png = await page.screenshot({ fullPage: true });
        assert.ok(await nonBlank(png), "blank screenshot");
        const shot = Deno.env.get("KIT_NOTEBOOK_SCREENSHOT");
        if (shot) await Deno.writeFile(shot, png);
      } finally {
        await page.close();
      }
    } finally {
      // Always stopped, even when a check above failed (and without hiding that failure).
      await closeBrowser();
      stopCode = await server.stop();
      walk(home, "");
      for (const id of ["DATA-T1", "DATA-F1"]) {
        pageArtifacts[id] = await Deno.readTextFile(join(artifacts, `${id}.json`)).then(
          JSON.parse,
          () => null,
        );
      }
      await Deno.remove(home, { recursive: true });
      await Deno.remove(artifacts, { recursive: true });
    }
    assert.equal(stopCode, 0, server.logTail().join("\n"));
    // Stopped: nothing listens any more.
    await assert.rejects(fetch(`${server.baseUrl}/api/status`));
    // Nothing under $HOME: Jupyter's folders and Chromium's profile (started by the kernel to
    // render figure PNGs, lib/artifacts/chromium_renderer.ts) are all under .cache/.
    assert.deepEqual(homeEntries, [], "the server, a kernel or Chromium wrote under $HOME");
    assert.equal(sha256Hex(await Deno.readFile(nbPath)), before, "the notebook file changed");
    // The page wrote the same table and figure as the headless `reproduce` run.
    const batch = await Deno.makeTempDir({ prefix: "kit-nb-batch-" });
    try {
      const r = await runTool("reproduce.ts", ["--smoke", "--only", "00", "--no-report"], {
        KIT_ARTIFACT_DIR: batch,
        KIT_QUIET: "1",
      });
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      for (const id of ["DATA-T1", "DATA-F1"]) {
        const a = pageArtifacts[id],
          b = JSON.parse(await Deno.readTextFile(join(batch, `${id}.json`)));
        assert.ok(a, `${id} written by the page`);
        for (const k of ["rows", "columns", "figure"]) assert.deepEqual(a[k], b[k], `${id} ${k}`);
      }
    } finally {
      await Deno.remove(batch, { recursive: true });
    }
  },
});
