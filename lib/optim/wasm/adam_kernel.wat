;; Adam update with the prox gradient and the clipping factor applied on the fly, two float32
;; values per iteration in float64x2 lanes: the same float64 operations, in the same order, as
;; Adam.stepPrepared's JavaScript loop, with float32 rounding where it stores, so the results are
;; bit for bit the same. Built with `wat2wasm --enable-simd` by tools/build_wasm_kernels.sh into
;; adam_kernel_wasm.ts.
(module
  (import "env" "memory" (memory 1))
  ;; p, g, m, v: byte offsets of float32 arrays; n: number of values (even)
  (func (export "adam")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $useProx i32) (param $c f64) (param $scale f64) (param $decay f64) (param $wd f64)
    (param $omb1 f64) (param $b2 f64) (param $omb2 f64) (param $stepSize f64)
    (param $bc2Sqrt f64) (param $eps f64)
    (local $i i32) (local $end i32)
    (local $vc v128) (local $vscale v128) (local $vdecay v128) (local $vwd v128)
    (local $vomb1 v128) (local $vb2 v128) (local $vomb2 v128) (local $vstep v128)
    (local $vbc2 v128) (local $veps v128)
    (local $p0 v128) (local $g0 v128) (local $theta v128) (local $gi v128)
    (local $m0 v128) (local $mi v128) (local $vi v128)
    (local.set $vc (f64x2.splat (local.get $c)))
    (local.set $vscale (f64x2.splat (local.get $scale)))
    (local.set $vdecay (f64x2.splat (local.get $decay)))
    (local.set $vwd (f64x2.splat (local.get $wd)))
    (local.set $vomb1 (f64x2.splat (local.get $omb1)))
    (local.set $vb2 (f64x2.splat (local.get $b2)))
    (local.set $vomb2 (f64x2.splat (local.get $omb2)))
    (local.set $vstep (f64x2.splat (local.get $stepSize)))
    (local.set $vbc2 (f64x2.splat (local.get $bc2Sqrt)))
    (local.set $veps (f64x2.splat (local.get $eps)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $p0 (f64x2.promote_low_f32x4
          (v128.load64_zero (i32.add (local.get $p) (local.get $i)))))
        (local.set $g0 (f64x2.promote_low_f32x4
          (v128.load64_zero (i32.add (local.get $g) (local.get $i)))))
        ;; g0 = fround(g0 + c·p0) when the parameter is in the prox term
        (if (local.get $useProx)
          (then
            (local.set $g0 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
              (f64x2.add (local.get $g0) (f64x2.mul (local.get $vc) (local.get $p0))))))))
        ;; g0 = fround(g0 · scale) (exact when scale = 1)
        (local.set $g0 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
          (f64x2.mul (local.get $g0) (local.get $vscale)))))
        (local.set $theta (f64x2.mul (local.get $p0) (local.get $vdecay)))
        (local.set $gi (f64x2.add (local.get $g0) (f64x2.mul (local.get $vwd) (local.get $theta))))
        (local.set $m0 (f64x2.promote_low_f32x4
          (v128.load64_zero (i32.add (local.get $m) (local.get $i)))))
        (local.set $mi (f64x2.add (local.get $m0)
          (f64x2.mul (local.get $vomb1) (f64x2.sub (local.get $gi) (local.get $m0)))))
        (local.set $vi (f64x2.add
          (f64x2.mul (local.get $vb2) (f64x2.promote_low_f32x4
            (v128.load64_zero (i32.add (local.get $v) (local.get $i)))))
          (f64x2.mul (f64x2.mul (local.get $vomb2) (local.get $gi)) (local.get $gi))))
        (v128.store64_lane 0 (i32.add (local.get $m) (local.get $i))
          (f32x4.demote_f64x2_zero (local.get $mi)))
        (v128.store64_lane 0 (i32.add (local.get $v) (local.get $i))
          (f32x4.demote_f64x2_zero (local.get $vi)))
        (v128.store64_lane 0 (i32.add (local.get $p) (local.get $i))
          (f32x4.demote_f64x2_zero
            (f64x2.sub (local.get $theta)
              (f64x2.div (f64x2.mul (local.get $vstep) (local.get $mi))
                (f64x2.add (f64x2.div (f64x2.sqrt (local.get $vi)) (local.get $vbc2))
                  (local.get $veps))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $next)))
  )
)
