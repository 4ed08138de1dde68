/**
 * Peak resident memory of a process and all its descendants (Linux `/proc`), sampled while it
 * runs: the sum of `VmRSS` over the tree at each sample, the largest sum kept. Shared pages
 * (libraries, a file mapped by two processes) count once per process, so the sum can exceed the
 * memory really in use; a spike shorter than the sampling interval can be missed.
 */

/** `pid → parent pid` of every process now, from `/proc/<pid>/stat`. */
async function parentMap(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      // the command name (field 2) is in parentheses and may hold spaces: parse after the last ')'
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(e.name), Number(rest[1]));
    } catch { /* gone */ }
  }
  return out;
}

/** `pid` and its descendants, now. */
export async function processTree(pid: number): Promise<number[]> {
  const parents = await parentMap();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [p, pp] of parents) if (pp === tree[i] && !tree.includes(p)) tree.push(p);
  }
  return tree;
}

/** Bytes of `VmRSS` of one process; 0 once it is gone. */
async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const m = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of one process: its user + system time and that of its children it has waited for
 * (`/proc/<pid>/stat` fields 14–17, in clock ticks of 1/100 s); 0 once it is gone.
 */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // after the command name: state is field 3, so utime (14) … cstime (17) are f[11] … f[14]
    return [11, 12, 13, 14].reduce((a, i) => a + Number(f[i] ?? 0), 0) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by `pid` and its descendants (live ones and those reaped). */
export async function processTreeCpuSeconds(pid: number): Promise<number> {
  const cpu = await Promise.all((await processTree(pid)).map(cpuSeconds));
  return cpu.reduce((a, b) => a + b, 0);
}

/** Bytes of `VmRSS` summed over `pid` and its descendants, now. */
export async function processTreeRss(pid: number): Promise<number> {
  const rss = await Promise.all((await processTree(pid)).map(rssBytes));
  return rss.reduce((a, b) => a + b, 0);
}

/**
 * Samples a process tree's RSS every `intervalMs` until `stop()`; `stop()` returns the peak, and
 * the tree's CPU seconds at the last sample that saw it (a lower bound: CPU used after it is not
 * seen) — unlike wall time, hardly changed by other processes sharing the cores.
 */
export class ProcessTreePeakRss {
  #peak = 0;
  #cpu = 0;
  #samples = 0;
  #running = true;
  #loop: Promise<void>;

  constructor(readonly pid: number, readonly intervalMs = 500) {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const b = await processTreeRss(this.pid);
      if (b > this.#peak) this.#peak = b;
      const c = await processTreeCpuSeconds(this.pid);
      if (c > this.#cpu) this.#cpu = c;
      this.#samples++;
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }

  /** Stops sampling; the peak in bytes and how many samples were taken. */
  async stop(): Promise<{ peakBytes: number; cpuSeconds: number; samples: number }> {
    this.#running = false;
    await this.#loop;
    return { peakBytes: this.#peak, cpuSeconds: this.#cpu, samples: this.#samples };
  }
}
