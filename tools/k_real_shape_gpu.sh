#!/usr/bin/env bash
# K's training step at real shapes on a GPU machine: WebGPU (the kit's bundled tool on Deno)
# beside PyTorch on CUDA. Run from a repository root that holds $DEVRUN with:
#   k_step.js      ./kit bundle --platform deno -o $DEVRUN/k_step.js tools/k_real_shape_step.ts
#   upload_bench.js  ./kit bundle --platform deno -o $DEVRUN/upload_bench.js tools/webgpu_upload_bench.ts
#   deno.xz        xz -c <deno binary>
#   k_step_torch.py  tools/k_real_shape_step_torch.py
#   gl/*.deb       Debian's libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2 (amd64):
#                  NVIDIA's Vulkan ICD (libGLX_nvidia) needs glvnd; with the Vulkan loader alone
#                  Deno's requestAdapter() returned null on an H200 machine
# Logs and JSON go to $OUT (default /tmp/k_gpu_out); copy them to bench/k_real_shape/ afterwards.
# Issue 24's run (≤ 10 minutes): the upload micro-benchmark (mapped staging buffer vs
# queue.writeBuffer, 64 MB), then the step with its state on the device (--state device) at
# 2 images × 32 tokens and 32 × 128, beside PyTorch at the same two shapes, with the WebGPU
# device-API counters in the kit's JSON. STATE=host reruns the old host-state step.
set -u
DEVRUN="${DEVRUN:-.devrun}"
OUT="${OUT:-/tmp/k_gpu_out}"
STEPS="${STEPS:-4}"
mkdir -p "$OUT"
exec > >(tee "$OUT/run.log") 2>&1
echo "== $(date -u) host $(hostname) cpus $(nproc)"
nvidia-smi || true
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
for f in "$DEVRUN"/gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
ldconfig
echo "== vulkan loader: $(ldconfig -p | grep libvulkan.so.1 | head -1)"
for d in /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d; do
  ls "$d" 2>/dev/null | sed "s|^|$d/|"
done
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export XDG_RUNTIME_DIR=/tmp/xdg-k
mkdir -p "$XDG_RUNTIME_DIR"
export DENO_DIR=/tmp/deno-dir-k
DENO=/tmp/deno-k
[ -x "$DENO" ] || { xz -d -c "$DEVRUN/deno.xz" > "$DENO" && chmod +x "$DENO"; }
"$DENO" --version | head -1
echo "== WebGPU adapter"
"$DENO" eval --no-config '
const a = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
if (!a) { console.log("no adapter"); Deno.exit(0); }
const l = a.limits;
console.log(JSON.stringify({ info: a.info, fallback: a.isFallbackAdapter,
  maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
  features: [...a.features] }));' || true
# GPU memory in use, sampled every 200 ms by nvidia-smi during each run; the peak is printed.
sample() { nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$1" 2>/dev/null & SMI=$!; }
peak() { kill "$SMI" 2>/dev/null; echo "== peak GPU memory used ($1): $(sort -n "$OUT/gpu_mem_$1.csv" 2>/dev/null | tail -1) MiB"; }
TEXT="${TEXT:-lib/encoders/configs/xlm-roberta-large.json}"
IMAGE="${IMAGE:-lib/encoders/configs/vit-base-patch16-224-in21k.json}"
STATE="${STATE:-device}"
echo "== upload micro-benchmark, $(date -u +%T)"
timeout "${UPLOAD_TIMEOUT:-40}" "$DENO" run -A --no-config "$DEVRUN/upload_bench.js" --mb 64 \
  --repeats 5 --json "$OUT/upload_bench.json"
echo "== exit $? $(date -u +%T)"
for SHAPE in 2x32 32x128; do
  IMAGES="${SHAPE%x*}"; TOKENS="${SHAPE#*x}"
  echo "== kit (TF.js WebGPU, state $STATE), $IMAGES images x $TOKENS tokens, $(date -u +%T)"
  sample "$OUT/gpu_mem_webgpu_$SHAPE.csv"
  timeout "${WEBGPU_TIMEOUT:-170}" "$DENO" run -A --no-config "$DEVRUN/k_step.js" --backend webgpu \
    --state "$STATE" --text "$TEXT" --image "$IMAGE" --steps "$STEPS" --images "$IMAGES" \
    --tokens "$TOKENS" ${KIT_ARGS:-} --json "$OUT/webgpu_$SHAPE.json"
  echo "== exit $? $(date -u +%T)"
  peak "webgpu_$SHAPE"
done
if [ -z "${SKIP_TORCH:-}" ]; then
  for SHAPE in 2x32 32x128; do
    IMAGES="${SHAPE%x*}"; TOKENS="${SHAPE#*x}"
    echo "== PyTorch (CUDA), $IMAGES images x $TOKENS tokens"
    sample "$OUT/gpu_mem_torch_$SHAPE.csv"
    PYTHONUNBUFFERED=1 timeout "${TORCH_TIMEOUT:-60}" python3 "$DEVRUN/k_step_torch.py" --steps 6 \
      --images "$IMAGES" --tokens "$TOKENS" --json "$OUT/torch_$SHAPE.json"
    echo "== exit $? $(date -u +%T)"
    peak "torch_$SHAPE"
  done
fi
