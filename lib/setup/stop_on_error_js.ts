import { join } from "node:path";
import { atomicWriteFile } from "../util/atomic_write.ts";
import { jupyterDataDir } from "./kernelspec.ts";

/** The message a queued cell shows when an earlier cell failed and it was not run. */
export const NOT_RUN_MESSAGE =
  "not run: an earlier cell failed (In [N] above); fix it and run again";

/**
 * The classic notebook page's `custom.js` that makes Run All (and any other queue of cells) stop
 * at the first failing cell.
 *
 * Jupyter Notebook 6 sends every queued cell to the kernel at once with `stop_on_error: true` and
 * relies on the kernel to abort the rest after an error (ipykernel does). Deno's kernel replies
 * `status: "error"` but runs the queued cells anyway, so one failure became a cascade of
 * `ReferenceError`s. This module keeps the queue in the page instead: a cell goes to the kernel
 * only when the previous one has replied; after an error reply (unless the failing cell is tagged
 * `raises-exception`) the queued cells are not sent and say {@link NOT_RUN_MESSAGE}. A kernel
 * restart or death empties the queue.
 */
export const STOP_ON_ERROR_JS =
  `// Written by the image-pivot kit (lib/setup/stop_on_error_js.ts): Run All stops at the first
// failing cell. Deno's kernel does not abort queued cells after an error, so the page queues them.
define(["base/js/events", "notebook/js/codecell"], function (events, codecell) {
  "use strict";
  var CodeCell = codecell.CodeCell;
  var send = CodeCell.prototype.execute;
  var onReply = CodeCell.prototype._handle_execute_reply;
  var queue = [];
  var running = null;
  var wantsStop = function (cell, stop) {
    if (stop !== undefined) return stop;
    var tags = (cell.metadata && cell.metadata.tags) || [];
    return tags.indexOf("raises-exception") === -1;
  };
  var start = function (item) {
    running = item;
    send.call(item.cell, item.stop);
    if (!item.cell.last_msg_id) running = null; // empty cell: nothing was sent
  };
  var next = function () {
    running = null;
    while (queue.length && running === null) start(queue.shift());
  };
  var reset = function () {
    var waiting = queue;
    queue = [];
    running = null;
    waiting.forEach(function (item) {
      item.cell.set_input_prompt(null);
      item.cell.element.removeClass("running");
    });
  };
  CodeCell.prototype.execute = function (stop_on_error) {
    if (!this.kernel) return send.call(this, stop_on_error);
    var cell = this;
    queue = queue.filter(function (item) { return item.cell !== cell; });
    var item = { cell: cell, stop: wantsStop(cell, stop_on_error) };
    if (running === null) {
      start(item);
      return;
    }
    queue.push(item);
    cell.clear_output(false, true);
    cell.set_input_prompt("*");
    cell.element.addClass("running");
  };
  CodeCell.prototype._handle_execute_reply = function (msg) {
    onReply.call(this, msg);
    if (running === null || running.cell !== this) return;
    if (msg.content.status === "error" && running.stop) {
      var failed = msg.content.execution_count;
      var skipped = queue;
      queue = [];
      skipped.forEach(function (item) {
        item.cell.set_input_prompt(null);
        item.cell.element.removeClass("running");
        item.cell.output_area.append_output({
          output_type: "stream",
          name: "stderr",
          text: ${JSON.stringify(NOT_RUN_MESSAGE)}.replace("N", String(failed)) + "\\n",
        });
      });
    }
    next();
  };
  events.on("kernel_restarting.Kernel kernel_dead.Kernel kernel_autorestarting.Kernel", reset);
  return {};
});
`;

/** The folder Notebook 6 serves `custom.js` from: `<JUPYTER_CONFIG_DIR>/custom`. */
export function customJsPath(): string {
  return join(jupyterDataDir(), "config", "custom", "custom.js");
}

/** Writes {@link STOP_ON_ERROR_JS} as the project's `custom.js` unless it is there already. */
export async function ensureStopOnErrorJs(path = customJsPath()): Promise<string> {
  try {
    if ((await Deno.readTextFile(path)) === STOP_ON_ERROR_JS) return path;
  } catch { /* absent: write it */ }
  await atomicWriteFile(path, STOP_ON_ERROR_JS);
  return path;
}
