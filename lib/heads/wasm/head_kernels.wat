;; Fused element-wise kernels of the heads, four float32 lanes per iteration (WebAssembly SIMD),
;; working in place in TF.js-WASM's own memory (imported), so no copies: the bias + exact-GELU
;; forward that also stores the GELU derivative, its backward (one multiply and the bias
;; gradient's column sums), and the residual + bias + row normalisation with its backward.
;; All pointers are byte offsets of float32 arrays; rows × cols matrices are row-major and cols
;; is a multiple of 4. Built with `wat2wasm` by tools/build_head_kernels.sh into
;; head_kernels_wasm.ts.
(module
  (import "env" "memory" (memory 1))

  ;; erf(x) in float32: x·P(x²)/Q(x²) on x clamped to [−4, 4] (the rational approximation of
  ;; Eigen / XLA's float erf; erf(±4) rounds to ±1 in float32)
  (func $erf (param $x v128) (result v128)
    (local $x2 v128) (local $p v128) (local $q v128)
    (local.set $x (f32x4.pmin (f32x4.pmax (local.get $x) (f32x4.splat (f32.const -4)))
      (f32x4.splat (f32.const 4))))
    (local.set $x2 (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $p (f32x4.splat (f32.const -2.72614225801306e-10)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x2))
      (f32x4.splat (f32.const 2.77068142495902e-08))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x2))
      (f32x4.splat (f32.const -2.10102402082508e-06))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x2))
      (f32x4.splat (f32.const -5.69250639462346e-05))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x2))
      (f32x4.splat (f32.const -7.34990630326855e-04))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x2))
      (f32x4.splat (f32.const -2.95459980854025e-03))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $x2))
      (f32x4.splat (f32.const -1.60960333262415e-02))))
    (local.set $q (f32x4.splat (f32.const -1.45660718464996e-05)))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $x2))
      (f32x4.splat (f32.const -2.13374055278905e-04))))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $x2))
      (f32x4.splat (f32.const -1.68282697438203e-03))))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $x2))
      (f32x4.splat (f32.const -7.37332916720468e-03))))
    (local.set $q (f32x4.add (f32x4.mul (local.get $q) (local.get $x2))
      (f32x4.splat (f32.const -1.42647390514189e-02))))
    (f32x4.div (f32x4.mul (local.get $x) (local.get $p)) (local.get $q)))

  ;; e^a for a ≤ 0 in float32 (Cephes expf: a = n·ln2 + r, |r| ≤ ln2/2, degree-7 polynomial);
  ;; a is clamped to −87 so 2^n stays a normal number. n is rounded by adding 1.5·2²³ (its low
  ;; mantissa bits then hold n), which also gives 2^n's exponent bits with one shift.
  (func $expneg (param $a v128) (result v128)
    (local $k v128) (local $n v128) (local $r v128) (local $p v128)
    (local.set $a (f32x4.pmax (local.get $a) (f32x4.splat (f32.const -87))))
    (local.set $k (f32x4.add (f32x4.mul (local.get $a)
      (f32x4.splat (f32.const 1.44269504088896341))) (f32x4.splat (f32.const 12582912))))
    (local.set $n (f32x4.sub (local.get $k) (f32x4.splat (f32.const 12582912))))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $a)
      (f32x4.mul (local.get $n) (f32x4.splat (f32.const 0.693359375))))
      (f32x4.mul (local.get $n) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $p (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r))
      (f32x4.splat (f32.const 5.0000001201e-1))))
    ;; 1 + r + r²·p
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $r) (local.get $r))
      (local.get $p)) (local.get $r)) (f32x4.splat (f32.const 1))))
    ;; k's bits are 0x4B400000 + n: shifted left by 23 they are n·2²³ (mod 2³²)
    (f32x4.mul (local.get $p)
      (i32x4.add (i32x4.shl (local.get $k) (i32.const 23)) (i32x4.splat (i32.const 0x3F800000)))))

  ;; h = GELU(z + b) = x·Φ(x), dg = GELU'(x) = Φ(x) + x·φ(x), x = z + b (b: cols values)
  (func (export "bias_gelu")
    (param $z i32) (param $b i32) (param $h i32) (param $dg i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $j i32) (local $rowBytes i32) (local $o i32)
    (local $x v128) (local $cdf v128) (local $pdf v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $cdone
          (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $o (i32.add (i32.mul (local.get $r) (local.get $rowBytes)) (local.get $j)))
            (local.set $x (f32x4.add (v128.load (i32.add (local.get $z) (local.get $o)))
              (v128.load (i32.add (local.get $b) (local.get $j)))))
            (local.set $cdf (f32x4.add (f32x4.splat (f32.const 0.5))
              (f32x4.mul (f32x4.splat (f32.const 0.5))
                (call $erf (f32x4.mul (local.get $x) (f32x4.splat (f32.const 0.70710678118654752)))))))
            (local.set $pdf (f32x4.mul (f32x4.splat (f32.const 0.39894228040143268))
              (call $expneg (f32x4.mul (f32x4.mul (local.get $x) (local.get $x))
                (f32x4.splat (f32.const -0.5))))))
            (v128.store (i32.add (local.get $h) (local.get $o))
              (f32x4.mul (local.get $x) (local.get $cdf)))
            (v128.store (i32.add (local.get $dg) (local.get $o))
              (f32x4.add (local.get $cdf) (f32x4.mul (local.get $x) (local.get $pdf))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))

  ;; dz = dy ⊙ dg and db = Σ_rows dz (rows summed in order)
  (func (export "gelu_grad")
    (param $dy i32) (param $dg i32) (param $dz i32) (param $db i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $j i32) (local $rowBytes i32) (local $o i32) (local $v v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (memory.fill (local.get $db) (i32.const 0) (local.get $rowBytes))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $cdone
          (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $o (i32.add (i32.mul (local.get $r) (local.get $rowBytes)) (local.get $j)))
            (local.set $v (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $o)))
              (v128.load (i32.add (local.get $dg) (local.get $o)))))
            (v128.store (i32.add (local.get $dz) (local.get $o)) (local.get $v))
            (v128.store (i32.add (local.get $db) (local.get $j))
              (f32x4.add (v128.load (i32.add (local.get $db) (local.get $j))) (local.get $v)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))

  ;; y = t + (m + b); nrm[r] = max(‖y_r‖, 1e-12); z = y / nrm (z holds y in between)
  (func (export "residual_normalize")
    (param $t i32) (param $m i32) (param $b i32) (param $z i32) (param $nrm i32)
    (param $rows i32) (param $cols i32)
    (local $r i32) (local $j i32) (local $rowBytes i32) (local $base i32)
    (local $y v128) (local $acc v128) (local $n f32) (local $vn v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $base (i32.mul (local.get $r) (local.get $rowBytes)))
        (local.set $acc (f32x4.splat (f32.const 0)))
        (local.set $j (i32.const 0))
        (block $cdone
          (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $y (f32x4.add
              (v128.load (i32.add (local.get $t) (i32.add (local.get $base) (local.get $j))))
              (f32x4.add
                (v128.load (i32.add (local.get $m) (i32.add (local.get $base) (local.get $j))))
                (v128.load (i32.add (local.get $b) (local.get $j))))))
            (v128.store (i32.add (local.get $z) (i32.add (local.get $base) (local.get $j)))
              (local.get $y))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $y) (local.get $y))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cloop)))
        (local.set $n (f32.max (f32.sqrt (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
          (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
          (f32.const 1e-12)))
        (f32.store (i32.add (local.get $nrm) (i32.shl (local.get $r) (i32.const 2))) (local.get $n))
        (local.set $vn (f32x4.splat (local.get $n)))
        (local.set $j (i32.const 0))
        (block $ddone
          (loop $dloop
            (br_if $ddone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (v128.store (i32.add (local.get $z) (i32.add (local.get $base) (local.get $j)))
              (f32x4.div
                (v128.load (i32.add (local.get $z) (i32.add (local.get $base) (local.get $j))))
                (local.get $vn)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $dloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))

  ;; dy = (g − z·⟨z, g⟩) / nrm per row, db = Σ_rows dy
  (func (export "normalize_grad")
    (param $g i32) (param $z i32) (param $nrm i32) (param $dy i32) (param $db i32)
    (param $rows i32) (param $cols i32)
    (local $r i32) (local $j i32) (local $rowBytes i32) (local $base i32)
    (local $acc v128) (local $vp v128) (local $vn v128) (local $v v128) (local $p f32)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (memory.fill (local.get $db) (i32.const 0) (local.get $rowBytes))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $base (i32.mul (local.get $r) (local.get $rowBytes)))
        (local.set $acc (f32x4.splat (f32.const 0)))
        (local.set $j (i32.const 0))
        (block $cdone
          (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul
              (v128.load (i32.add (local.get $z) (i32.add (local.get $base) (local.get $j))))
              (v128.load (i32.add (local.get $g) (i32.add (local.get $base) (local.get $j)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cloop)))
        (local.set $p (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
          (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (local.set $vp (f32x4.splat (local.get $p)))
        (local.set $vn (f32x4.splat
          (f32.load (i32.add (local.get $nrm) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $j (i32.const 0))
        (block $ddone
          (loop $dloop
            (br_if $ddone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $v (f32x4.div (f32x4.sub
              (v128.load (i32.add (local.get $g) (i32.add (local.get $base) (local.get $j))))
              (f32x4.mul (v128.load (i32.add (local.get $z) (i32.add (local.get $base) (local.get $j))))
                (local.get $vp)))
              (local.get $vn)))
            (v128.store (i32.add (local.get $dy) (i32.add (local.get $base) (local.get $j)))
              (local.get $v))
            (v128.store (i32.add (local.get $db) (local.get $j))
              (f32x4.add (v128.load (i32.add (local.get $db) (local.get $j))) (local.get $v)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $dloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))
)
