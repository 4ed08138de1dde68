/**
 * Native BLAS/LAPACK through Deno's FFI: Debian's OpenBLAS (`libopenblas0-pthread`, which ships
 * LAPACK too), found at run time by soname. Absent or failing to load → `null`, with the reason
 * printed once; the callers then keep their WebAssembly / plain-JavaScript paths.
 *
 * Environment:
 * - `KIT_OPENBLAS=off` disables it; any other non-empty value is the library name or path to
 *   open instead of `libopenblas.so.0` (a bogus name simulates a machine without it).
 * - `KIT_BLAS_THREADS=N` fixes OpenBLAS's thread count (default: the core count, at most 8).
 *   The count is fixed for the process, so results repeat run after run on one machine.
 */

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  cblas_dgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f64",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f64",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  cblas_dsyrk: {
    parameters: ["i32", "i32", "i32", "i32", "i32", "f64", "buffer", "i32", "f64", "buffer", "i32"],
    result: "void",
  },
  // Fortran ABI: every argument by reference, then the hidden lengths of the two CHARACTER args.
  dsyevd_: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "usize",
      "usize",
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const;

type OpenBlasLibrary = Deno.DynamicLibrary<typeof SYMBOLS>;

/** What was loaded: recorded in every artifact's provenance (`BackendInfo.blas`). */
export interface OpenBlasInfo {
  /** The name it was opened by (`libopenblas.so.0`). */
  library: string;
  /** OpenBLAS's build description (`OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH … Haswell …`). */
  config: string;
  /** The fixed thread count. */
  threads: number;
  /** Short form for signatures: `openblas-0.3.21-Haswell-2t` (version, CPU kernel, threads). */
  tag: string;
}

/** The subset of BLAS/LAPACK the kit calls, with row-major conventions. */
export interface OpenBlas {
  readonly info: OpenBlasInfo;
  /**
   * `C = op(A)·op(B)` in Float32, row-major (`C` is `m × n`, `op(A)` `m × k`, `op(B)` `k × n`);
   * `a`, `b`, `c` may be views into any ArrayBuffer (e.g. the WASM heap), read/written in place.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /**
   * `C = op(A)·op(B)` in Float64, row-major, as `sgemm` (views allowed; `C` overwritten).
   * Runs on one thread whatever the pool size (see `dgemm` below).
   */
  dgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float64Array,
    lda: number,
    b: Float64Array,
    ldb: number,
    c: Float64Array,
    ldc: number,
  ): void;
  /**
   * The Float64 Gram `X·Xᵀ` (`trans` false; `X` is `n × k` row-major) or `Xᵀ·X` (`trans` true;
   * `X` is `k × n`), `n × n`, both triangles filled.
   */
  gram(x: Float64Array, n: number, k: number, trans: boolean): Float64Array;
  /** All eigenvalues of the symmetric `n × n` matrix `a` (LAPACK `dsyevd`), descending. */
  symmetricEigenvalues(a: Float64Array, n: number): Float64Array;
}

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112, UPPER = 121;
const DEFAULT_NAMES = ["libopenblas.so.0", "libopenblas.so"];

let loaded: OpenBlas | null | undefined;
let failure: string | null = null;
let reported = false;

function threadCount(env: string | undefined): number {
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`KIT_BLAS_THREADS=${env}: expected a positive integer`);
    }
    return n;
  }
  return Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));
}

function wrap(lib: OpenBlasLibrary, library: string, threads: number): OpenBlas {
  const s = lib.symbols;
  s.openblas_set_num_threads(threads);
  const cfgPtr = s.openblas_get_config();
  const config = cfgPtr ? new Deno.UnsafePointerView(cfgPtr).getCString() : "";
  const n = s.openblas_get_num_threads();
  const version = /OpenBLAS\s+(\S+)/.exec(config)?.[1] ?? "unknown";
  const core = /(\S+)\s+MAX_THREADS/.exec(config)?.[1] ?? "unknown";
  const info = { library, config, threads: n, tag: `openblas-${version}-${core}-${n}t` };
  const int = (v: number) => new Int32Array([v]);
  const JOBZ_N = new Uint8Array([78]), UPLO_U = new Uint8Array([85]);
  return {
    info,
    sgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc) {
      s.cblas_sgemm(
        ROW_MAJOR,
        transA ? TRANS : NO_TRANS,
        transB ? TRANS : NO_TRANS,
        m,
        n,
        k,
        1,
        a,
        lda,
        b,
        ldb,
        0,
        c,
        ldc,
      );
    },
    dgemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc) {
      // One thread: the kit's Float64 products are skinny (the lang-ID probe's 3,490 × 512 by
      // 512 × 9), where a second thread only adds synchronisation; on the shared 2-core machine
      // under load it was slower. Fixed, so results stay repeatable.
      s.openblas_set_num_threads(1);
      try {
        s.cblas_dgemm(
          ROW_MAJOR,
          transA ? TRANS : NO_TRANS,
          transB ? TRANS : NO_TRANS,
          m,
          n,
          k,
          1,
          a,
          lda,
          b,
          ldb,
          0,
          c,
          ldc,
        );
      } finally {
        s.openblas_set_num_threads(threads);
      }
    },
    gram(x, n, k, trans) {
      const g = new Float64Array(n * n);
      // row-major upper triangle = column-major lower; fill the rest by symmetry
      s.cblas_dsyrk(ROW_MAJOR, UPPER, trans ? TRANS : NO_TRANS, n, k, 1, x, trans ? n : k, 0, g, n);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) g[j * n + i] = g[i * n + j]!;
      }
      return g;
    },
    symmetricEigenvalues(a, n) {
      const w = new Float64Array(n);
      if (n === 0) return w;
      // One thread here, whatever the pool size: dsyevd's tridiagonal reduction is a chain of
      // level-2 calls (dsymv per column) that synchronise the threads once per column. At
      // n = 512 on the shared (loaded) 2-core machine: 22–32 ms of CPU and 110–170 ms wall on
      // one thread, 60–100 ms of CPU and 560–660 ms wall on two (not measured on a quiet
      // machine). Fixed, so results stay repeatable.
      s.openblas_set_num_threads(1);
      try {
        return eigenvaluesOneThread(a, n, w);
      } finally {
        s.openblas_set_num_threads(threads);
      }
    },
  };

  function eigenvaluesOneThread(a: Float64Array, n: number, w: Float64Array): Float64Array {
    const work1 = new Float64Array(1), iwork1 = new Int32Array(1), info = int(0);
    const copy = Float64Array.from(a);
    // workspace query, then the call (JOBZ = 'N': eigenvalues only, via dsterf)
    s.dsyevd_(
      JOBZ_N,
      UPLO_U,
      int(n),
      copy,
      int(n),
      w,
      work1,
      int(-1),
      iwork1,
      int(-1),
      info,
      1n,
      1n,
    );
    if (info[0] !== 0) throw new Error(`LAPACK dsyevd workspace query: info = ${info[0]}`);
    const lwork = Math.max(1, Math.ceil(work1[0]!)), liwork = Math.max(1, iwork1[0]!);
    const work = new Float64Array(lwork), iwork = new Int32Array(liwork);
    s.dsyevd_(
      JOBZ_N,
      UPLO_U,
      int(n),
      copy,
      int(n),
      w,
      work,
      int(lwork),
      iwork,
      int(liwork),
      info,
      1n,
      1n,
    );
    if (info[0] !== 0) throw new Error(`LAPACK dsyevd: info = ${info[0]} (n = ${n})`);
    return w.reverse(); // LAPACK: ascending
  }
}

/**
 * Opens OpenBLAS once per process (later calls return the same object), or returns null with
 * `openBlasUnavailableReason()` saying why. Prints the reason once when `quiet` is false.
 */
export function loadOpenBlas(
  opts: { quiet?: boolean; env?: Record<string, string | undefined> } = {},
): OpenBlas | null {
  if (loaded === undefined) {
    let env: Record<string, string | undefined>;
    try {
      env = opts.env ?? Deno.env.toObject();
    } catch {
      env = {};
    }
    const setting = env.KIT_OPENBLAS?.trim() ?? "";
    loaded = null;
    if (setting === "off" || setting === "0") {
      failure = `disabled by KIT_OPENBLAS=${setting}`;
    } else {
      const names = setting === "" ? DEFAULT_NAMES : [setting];
      const errors: string[] = [];
      try {
        const threads = threadCount(env.KIT_BLAS_THREADS);
        for (const name of names) {
          try {
            loaded = wrap(Deno.dlopen(name, SYMBOLS), name, threads);
            break;
          } catch (err) {
            errors.push(
              `${name}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
            );
          }
        }
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
      if (!loaded) {
        failure = `OpenBLAS not loaded (${errors.join("; ")}); install Debian's ` +
          "libopenblas0-pthread (./kit task setup does) for the native path";
      }
    }
  }
  if (!loaded && !reported && !opts.quiet) {
    reported = true;
    console.error(`backend: native BLAS off, WebAssembly only: ${failure}`);
  }
  return loaded;
}

/** Why `loadOpenBlas()` returned null (null when it loaded or was not tried yet). */
export function openBlasUnavailableReason(): string | null {
  return failure;
}

let enabled: boolean | null = null;

/**
 * Turns the native path on or off for this process (`initBackend` calls it: `wasm+openblas` on,
 * plain `wasm` off). Turning it on when the library cannot load leaves it off.
 */
export function setNativeBlasEnabled(on: boolean): void {
  enabled = on && loadOpenBlas({ quiet: true }) !== null;
}

/**
 * The library when the native path is in use: after `initBackend`, exactly when the backend is
 * `wasm+openblas`; before any backend was chosen, whenever the library loads (so the Float64
 * diagnostics use LAPACK in a plain script too).
 */
export function nativeBlas(): OpenBlas | null {
  if (enabled === null) return loadOpenBlas({ quiet: true });
  return enabled ? loadOpenBlas({ quiet: true }) : null;
}
