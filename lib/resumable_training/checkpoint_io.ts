/**
 * A training run's checkpoint and best state on disk, streamed tensor by tensor so that neither
 * ever doubles the memory of the state (K at real shapes: 2.6 GB of parameters and 5.2 GB of Adam
 * moments):
 *
 * - the **best state** (the parameters at the lowest validation loss) lives in its own file
 *   beside the checkpoint (`<checkpoint>.best.safetensors`), written from the live parameters
 *   when validation finds a new best, and read back into them at the end — no copy in memory;
 * - the **checkpoint** (`param/…`, `adam.m/…`, `adam.v/…`, `best/…`, histories, metadata: the
 *   layout of `image-pivot-kit/model-checkpoint/1`) is written with
 *   `writeSafetensorsStreaming` from the live parameters and Adam's live moments, the `best/`
 *   tensors copied byte for byte from the best-state file; on resume it is checked (content hash,
 *   streamed) and read straight into the live arrays, its `best/` tensors copied back into the
 *   best-state file. A checkpoint stays one self-contained, atomically written file.
 */
import { SafetensorsReader } from "../io/safetensors_stream.ts";
import type { SafeTensorInput } from "../io/safetensors.ts";
import {
  type StreamedTensor,
  verifySealedSafetensors,
  writeSafetensorsStreaming,
} from "../io/safetensors_stream_writer.ts";
import type { ParameterState } from "../encoders/parameter_set.ts";
import { KitError } from "../util/kit_error.ts";

/** Read in chunks of 1 MiB: a larger read buffer shows up in the peak memory. */
const READ_CHUNK_BYTES = 2 ** 20;

/** The best-state file of a checkpoint path. */
export function bestStatePath(checkpointPath: string): string {
  return `${checkpointPath}.best.safetensors`;
}

/** Writes the live parameters as the best state (streamed; `names` in any order). */
export async function saveBestState(
  path: string,
  names: readonly string[],
  params: ParameterState,
  metadata: Record<string, string> = {},
): Promise<void> {
  const tensors: Record<string, StreamedTensor> = {};
  for (const n of names) {
    tensors[n] = { dtype: "F32", shape: [params[n]!.length], data: params[n]! };
  }
  await writeSafetensorsStreaming(path, tensors, metadata);
}

/** Reads the best state back into the live parameters, tensor by tensor. */
export async function restoreBestState(
  path: string,
  names: readonly string[],
  params: ParameterState,
): Promise<void> {
  await verifySealedSafetensors(path);
  const r = await SafetensorsReader.open(path, { chunkBytes: READ_CHUNK_BYTES });
  try {
    for (const n of names) await r.readFloat32Into(n, params[n]!);
  } finally {
    r.close();
  }
}

/** What a checkpoint holds besides the tensors. */
export interface CheckpointContents {
  names: readonly string[];
  params: ParameterState;
  /** Adam's live moments (`Adam.stateViews()`), written and read in place. */
  m: ParameterState;
  v: ParameterState;
  lossHistory: readonly number[];
  valHistory: readonly (readonly [number, number])[];
  /** The best-state file, or null when there is no best state yet. */
  bestPath: string | null;
  metadata: Record<string, string>;
}

/** Writes a checkpoint, streamed (see the module comment). */
export async function writeTrainingCheckpoint(path: string, c: CheckpointContents): Promise<void> {
  const tensors: Record<string, StreamedTensor> = {};
  for (const n of c.names) {
    const shape = [c.params[n]!.length];
    tensors[`param/${n}`] = { dtype: "F32", shape, data: c.params[n]! };
    tensors[`adam.m/${n}`] = { dtype: "F32", shape, data: c.m[n]! };
    tensors[`adam.v/${n}`] = { dtype: "F32", shape, data: c.v[n]! };
  }
  if (c.bestPath) {
    const r = await SafetensorsReader.open(c.bestPath);
    try {
      for (const n of c.names) {
        const e = r.entries.get(n);
        if (!e || e.dtype !== "F32") {
          throw new KitError(`${c.bestPath}: best-state tensor "${n}" missing or not F32`);
        }
        tensors[`best/${n}`] = {
          dtype: "F32",
          shape: [...e.shape],
          file: c.bestPath,
          fileOffset: e.fileOffset,
          byteLength: e.byteLength,
        };
      }
    } finally {
      r.close();
    }
  }
  const history: Record<string, SafeTensorInput> = {
    loss_history: { dtype: "F64", shape: [c.lossHistory.length], data: [...c.lossHistory] },
    val_history: { dtype: "F64", shape: [c.valHistory.length * 2], data: c.valHistory.flat() },
  };
  await writeSafetensorsStreaming(path, { ...tensors, ...history }, c.metadata);
}

/** What `readTrainingCheckpointInto` found. */
export interface CheckpointRead {
  metadata: Record<string, string>;
  lossHistory: number[];
  valHistory: [number, number][];
  mtime: Date | null;
  /** True when the checkpoint had a best state (now in `bestPath`). */
  hasBest: boolean;
}

/**
 * Reads a checkpoint written by `writeTrainingCheckpoint` (or the kit's earlier in-memory
 * writer: same layout) into the live parameters and moments, after checking its content hash;
 * its `best/` tensors are copied into `bestPath`. `checkMetadata` runs before any array is
 * touched (to refuse another run's checkpoint). Null when there is no checkpoint.
 */
export async function readTrainingCheckpointInto(
  path: string,
  into: {
    names: readonly string[];
    params: ParameterState;
    m: ParameterState;
    v: ParameterState;
    bestPath: string;
  },
  checkMetadata: (metadata: Record<string, string>) => void,
): Promise<CheckpointRead | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return null;
  }
  await verifySealedSafetensors(path);
  const r = await SafetensorsReader.open(path, { chunkBytes: READ_CHUNK_BYTES });
  try {
    const metadata = { ...r.metadata };
    checkMetadata(metadata);
    const need = (k: string) => {
      if (!r.entries.has(k)) throw new KitError(`${path}: checkpoint tensor "${k}" missing`);
    };
    for (const n of into.names) {
      for (const k of [`param/${n}`, `adam.m/${n}`, `adam.v/${n}`]) need(k);
    }
    for (const n of into.names) {
      await r.readFloat32Into(`param/${n}`, into.params[n]!);
      await r.readFloat32Into(`adam.m/${n}`, into.m[n]!);
      await r.readFloat32Into(`adam.v/${n}`, into.v[n]!);
    }
    const hasBest = metadata.has_best === "1";
    if (hasBest) {
      const best: Record<string, StreamedTensor> = {};
      for (const n of into.names) {
        const e = r.entries.get(`best/${n}`);
        if (!e) throw new KitError(`${path}: checkpoint tensor "best/${n}" missing`);
        best[n] = {
          dtype: e.dtype,
          shape: [...e.shape],
          file: path,
          fileOffset: e.fileOffset,
          byteLength: e.byteLength,
        };
      }
      await writeSafetensorsStreaming(into.bestPath, best);
    }
    const f64 = async (k: string): Promise<number[]> => {
      const e = r.entries.get(k);
      if (!e) return [];
      if (e.dtype !== "F64") throw new KitError(`${path}: "${k}" is ${e.dtype}, expected F64`);
      const bytes = new Uint8Array(e.byteLength);
      const f = await Deno.open(path, { read: true });
      try {
        await f.seek(e.fileOffset, Deno.SeekMode.Start);
        let got = 0;
        while (got < bytes.length) {
          const n = await f.read(bytes.subarray(got));
          if (n === null) throw new KitError(`${path}: ended early in "${k}"`);
          got += n;
        }
      } finally {
        f.close();
      }
      return Array.from(new Float64Array(bytes.buffer));
    };
    const lossHistory = await f64("loss_history");
    const vh = await f64("val_history");
    const valHistory: [number, number][] = [];
    for (let i = 0; i + 1 < vh.length; i += 2) valHistory.push([vh[i]!, vh[i + 1]!]);
    return { metadata, lossHistory, valHistory, mtime: info.mtime, hasBest };
  } finally {
    r.close();
  }
}
