import assert from "node:assert/strict";
import { join } from "node:path";
import {
  encodeNpy,
  encodeSafetensors,
  float16BitsToNumber,
  numberToFloat16Bits,
  parseNpy,
  parseSafetensors,
  readNpy,
  readSafetensors,
  writeNpy,
  writeSafetensors,
} from "../lib/io/mod.ts";
import { KitError } from "../lib/util/kit_error.ts";

const FIX = join(import.meta.dirname!, "fixtures", "npy");
interface Expected {
  dtype: string;
  shape: number[];
  values: (number | string)[];
}
const expected = JSON.parse(await Deno.readTextFile(join(FIX, "expected.json"))) as
  & Record<string, Expected>
  & { float16_bits: { values: number[]; bits: number[] } };

async function rejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(fn, (err: unknown) => {
    assert.ok(err instanceof KitError, `expected a KitError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("readNpy() reads numpy-written float16/32/64 files with version 1.0, 2.0 and 3.0 headers", async () => {
  for (const name of ["f4_v1.npy", "f8_v2.npy", "f2_v3.npy", "f4_scalar.npy", "f4_empty.npy"]) {
    const want = expected[name]!;
    const a = await readNpy(join(FIX, name));
    assert.equal(a.dtype, want.dtype, name);
    assert.deepEqual([...a.shape], want.shape, name);
    assert.equal(a.data.length, want.values.length, name);
    want.values.forEach((v, i) => {
      const got = a.data[i]!;
      if (v === "inf") assert.equal(got, Infinity);
      else assert.equal(got, name === "f4_v1.npy" ? Math.fround(v as number) : v, `${name}[${i}]`);
    });
    assert.ok(
      name === "f8_v2.npy" ? a.data instanceof Float64Array : a.data instanceof Float32Array,
    );
  }
});

Deno.test("readNpy() throws a KitError naming the file for Fortran order, big-endian, int dtype and truncation", async () => {
  await rejects(() => readNpy(join(FIX, "fortran.npy")), /fortran\.npy: Fortran-order/);
  await rejects(
    () => readNpy(join(FIX, "big_endian.npy")),
    /big_endian\.npy: big-endian dtype '>f4'/,
  );
  await rejects(() => readNpy(join(FIX, "int32.npy")), /int32\.npy: dtype '<i4' is not supported/);
  await rejects(() => readNpy(join(FIX, "truncated.npy")), /truncated\.npy: truncated \.npy data/);
  await rejects(() => readNpy(join(FIX, "missing.npy")), /missing\.npy: cannot read/);
  assert.throws(() => parseNpy(new Uint8Array([1, 2, 3]), "x.npy"), /x\.npy: not a \.npy file/);
});

Deno.test("encodeNpy() writes what numpy writes for a float32 array (byte-identical to the fixture)", async () => {
  const want = await Deno.readFile(join(FIX, "f4_v1.npy"));
  const values = expected["f4_v1.npy"]!.values as number[];
  const bytes = encodeNpy({ dtype: "<f4", shape: [3, 4], data: new Float32Array(values) });
  assert.deepEqual(bytes, want);
});

Deno.test("writeNpy()/readNpy() round-trip float16, float32 and float64, 1-d and 3-d", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = Float64Array.from({ length: 24 }, (_, i) => (i - 7) / 3);
    for (const dtype of ["<f2", "<f4", "<f8"] as const) {
      for (const shape of [[24], [2, 3, 4]]) {
        const p = join(dir, `a${dtype.slice(1)}_${shape.length}.npy`);
        await writeNpy(p, { dtype, shape, data });
        const a = await readNpy(p);
        assert.equal(a.dtype, dtype);
        assert.deepEqual([...a.shape], shape);
        for (let i = 0; i < data.length; i++) {
          const tol = dtype === "<f2" ? 2e-3 : dtype === "<f4" ? 1e-7 : 0;
          assert.ok(
            Math.abs(a.data[i]! - data[i]!) <= tol * Math.max(1, Math.abs(data[i]!)),
            `${dtype} ${i}`,
          );
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("numberToFloat16Bits() matches numpy's float16 rounding, float16BitsToNumber() inverts it", () => {
  const { values, bits } = expected.float16_bits;
  values.forEach((v, i) => assert.equal(numberToFloat16Bits(v), bits[i], `value ${v}`));
  for (let h = 0; h < 0x10000; h++) {
    const x = float16BitsToNumber(h);
    if (Number.isNaN(x)) continue;
    assert.equal(numberToFloat16Bits(x), h, `bits ${h.toString(16)}`);
  }
});

Deno.test("writeSafetensors()/readSafetensors() round-trip F16/F32/F64/I32/I64 and __metadata__", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = join(dir, "t.safetensors");
    const f32 = Float32Array.from({ length: 6 }, (_, i) => i * 0.1);
    await writeSafetensors(p, {
      "b/f32": { dtype: "F32", shape: [2, 3], data: f32 },
      "a/f64": { dtype: "F64", shape: [3], data: new Float64Array([Math.PI, -1e300, 0]) },
      "c/f16": { dtype: "F16", shape: [2], data: [0.5, -3] },
      "d/i32": { dtype: "I32", shape: [2], data: [7, -9] },
      "e/i64": { dtype: "I64", shape: [2], data: new BigInt64Array([2n ** 40n, -5n]) },
      "f/empty": { dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
    }, { step: "12", note: "ü" });
    const bytes = await Deno.readFile(p);
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(headerLen % 8, 0);
    const f = await readSafetensors(p);
    assert.deepEqual(f.metadata, { step: "12", note: "ü" });
    assert.deepEqual([...f.tensors.get("b/f32")!.data as Float32Array], [...f32]);
    assert.deepEqual([...f.tensors.get("b/f32")!.shape], [2, 3]);
    assert.deepEqual([...f.tensors.get("a/f64")!.data as Float64Array], [Math.PI, -1e300, 0]);
    assert.deepEqual([...f.tensors.get("c/f16")!.data as Float32Array], [0.5, -3]);
    assert.deepEqual([...f.tensors.get("d/i32")!.data as Int32Array], [7, -9]);
    assert.deepEqual([...f.tensors.get("e/i64")!.data as BigInt64Array], [2n ** 40n, -5n]);
    assert.equal(f.tensors.get("f/empty")!.data.length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseSafetensors() reads a hand-made file like the Python library writes (header, offsets)", () => {
  // Layout as written by `safetensors.numpy.save_file({"x": np.array([1, 2], "<f4")})`.
  const header = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const h = new TextEncoder().encode(header);
  const bytes = new Uint8Array(8 + h.length + 8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(h.length), true);
  bytes.set(h, 8);
  bytes.set(new Uint8Array(new Float32Array([1, 2]).buffer), 8 + h.length);
  const f = parseSafetensors(bytes, "x.safetensors");
  assert.deepEqual([...f.tensors.get("x")!.data as Float32Array], [1, 2]);
  assert.deepEqual(f.metadata, {});
});

Deno.test("parseSafetensors() throws KitErrors naming the file for truncation, bad JSON, bad dtype and gaps", () => {
  const good = encodeSafetensors({ w: { dtype: "F32", shape: [4], data: [1, 2, 3, 4] } });
  assert.throws(
    () => parseSafetensors(good.subarray(0, good.length - 3), "m.safetensors"),
    /m\.safetensors: tensor "w" ends at byte 16/,
  );
  assert.throws(
    () => parseSafetensors(good.subarray(0, 5), "m.safetensors"),
    /m\.safetensors: truncated/,
  );
  const mk = (header: string, dataLen: number) => {
    const h = new TextEncoder().encode(header);
    const b = new Uint8Array(8 + h.length + dataLen);
    new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
    b.set(h, 8);
    return b;
  };
  assert.throws(() => parseSafetensors(mk("{not json", 0), "j.st"), /j\.st: .*not valid JSON/);
  assert.throws(
    () =>
      parseSafetensors(mk('{"x":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}', 2), "d.st"),
    /d\.st: tensor "x" has dtype "BF16"/,
  );
  assert.throws(
    () => parseSafetensors(mk('{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8), "g.st"),
    /g\.st: tensor "x" starts at byte 4, expected 0/,
  );
  assert.throws(
    () => parseSafetensors(mk('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8), "s.st"),
    /s\.st: tensor "x" \(F32, shape \[3\]\) needs 12 bytes/,
  );
});
