/**
 * `./kit task notebook [NN] [--profile mini|paper] [--smoke] [--data-mirror DIR] [--backend NAME]
 *  [--port P] [--token T]`: serves notebooks/ with Debian's Jupyter Notebook on 127.0.0.1, with
 * the project's Deno kernel and the options passed to the kernels as for `reproduce`; prints the
 * URL (of notebook NN when given) and runs until Ctrl-C, which stops the server and its kernels.
 */
import { parseArgs } from "node:util";
import { kitConfig } from "../lib/config/kit_config.ts";
import {
  notebookByNumber,
  NotebookServerInterrupted,
  startNotebookServer,
} from "../lib/setup/notebook_server.ts";
import { KitError, runMain } from "../lib/util/kit_error.ts";

const HELP = `usage: ./kit task notebook [NN] [options]
  NN                     open this notebook (e.g. 02); default: the notebook list
  --profile mini|paper   which models and data (default mini)
  --smoke                tiny sizes; artifacts under figures/smoke/
  --data-mirror DIR      read-only mirror of the datasets (default ../shared/data if present)
  --backend NAME         auto|webgpu|tfjs-node-gpu|wasm|cpu (default auto)
  --port P               port on 127.0.0.1 (default: the first free one from 8888)
  --token T              access token, >= 16 characters A-Z a-z 0-9 _ - (default: random)
  --verbose              show every line the Jupyter server logs (default: warnings and errors)`;

await runMain(async () => {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      profile: { type: "string" },
      smoke: { type: "boolean", default: false },
      "data-mirror": { type: "string" },
      backend: { type: "string" },
      port: { type: "string" },
      token: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length > 1) {
    throw new KitError(`expected at most one notebook number, got ${positionals.join(" ")}`);
  }
  const env = Deno.env.toObject();
  if (values.profile) env.KIT_PROFILE = values.profile;
  if (values.backend) env.KIT_BACKEND = values.backend;
  if (values["data-mirror"] !== undefined) env.KIT_DATA_MIRROR = values["data-mirror"];
  const cfg = kitConfig(env); // validates profile and backend
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port)) {
      throw new KitError(`--port ${values.port}: expected a port number from 1 to 65535`);
    }
  }
  const notebook = positionals[0] ? await notebookByNumber(positionals[0]) : undefined;
  const smoke = values.smoke || cfg.smoke;

  // Signals are handled from here on, also while the server starts (SIGHUP: the terminal closed).
  const interrupt = new AbortController();
  let stopping = false;
  const started: { stop?: () => void } = {};
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.error("\nnotebook: stopping the server and its kernels ...");
    interrupt.abort();
    started.stop?.();
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) Deno.addSignalListener(sig, stop);
  let server;
  try {
    server = await startNotebookServer({
      profile: cfg.profile,
      smoke,
      dataMirror: cfg.dataMirror,
      backend: cfg.backend,
      port,
      token: values.token,
      signal: interrupt.signal,
      onLog: (line) => {
        if (values.verbose || /^\[(W|E|C) /.test(line)) console.error(`jupyter: ${line}`);
      },
    });
  } catch (err) {
    if (err instanceof NotebookServerInterrupted) {
      console.error("notebook: stopped before the server was ready");
      return 130;
    }
    throw err;
  }
  const running = server;
  started.stop = () => running.stop().catch(() => {});
  if (stopping) started.stop(); // a signal came as the server became ready
  console.error(
    `notebook: Jupyter on 127.0.0.1:${server.port}, profile ${cfg.profile}${
      smoke ? " (smoke)" : ""
    }, backend ${cfg.backend}, data mirror ${
      cfg.dataMirror ? "yes" : "none"
    }; kernel "Deno (image-pivot kit)"`,
  );
  console.log(server.url(notebook));
  console.error("notebook: open the URL above in a browser; Ctrl-C stops the server");
  const code = await server.exited;
  if (stopping) {
    console.error(`notebook: stopped (server exit ${code})`);
  } else {
    throw new KitError(
      `the notebook server ended by itself (exit ${code})`,
      server.logTail().slice(-8),
    );
  }
  return 0;
});
