/**
 * The register tiles of the step's GEMMs (src/kernels/step.as.ts), written out as AssemblyScript for a
 * chosen tile size. A tile keeps MR × NV accumulators (v128) in registers across the whole K loop;
 * AssemblyScript has no arrays of registers, so each tile size is a function with its own locals,
 * generated here from one template instead of written out by hand. scripts/build-kernels.mjs hands the
 * text to the compiler as the module src/kernels/step_tiles.as.ts (it is never a file on disk);
 * bench/kernels.ts compiles other tile sizes the same way to measure them. The tiles the committed build
 * uses are STEP_TILES below: the measurement and the reasons are in docs/architecture.md.
 *
 * Two kinds of tile, by where k runs in memory:
 *   broadcast (gemm_nn, gemm_tn): B's row k is contiguous in n, so C[m, n..n+4) += splat(A(m, k)) · B[k, n..n+4);
 *     MR rows × NV vectors of 4 columns. A(m, k) is at pa + m·ars + k·aks (bytes): nn has ars = 4·lda, aks = 4,
 *     tn has ars = 4, aks = 4·lda, so one template serves both.
 *   dot (gemm_nt): A's row m and B's row n are both contiguous in k, so each (m, n) keeps a 4-lane partial dot
 *     product over k; at the end 4 of them are reduced across lanes into one vector of 4 columns of C.
 *     MR rows × NV groups of 4 columns (4·NV rows of B).
 * Every tile comes in MR row counts (`nn_4` is the 4-row tile; `nn_1` … `nn_3` take the last M mod 4 rows in one
 * pass) and each has an edge twin (`nn_4_edge`) taking `r` (1..4), the number of valid columns in its last (only)
 * vector: loads and stores of that vector touch r lanes only, so no tail reads or writes past a row's end.
 */

/**
 * The tiles the committed kernels use, per build: [MR, NV] per GEMM (chosen by bench/kernels.ts; see
 * docs/architecture.md). Both builds use the same today. 6 × 8 (12 accumulators, 2 of B, 1 splat: 15 of
 * x86-64's 16 vector registers) fits only the relaxed build, whose fused multiply-add needs no temporary; it
 * measured ~10% faster than 4 × 8 in gemm_tn at K ≥ 25 and ~10% slower at K = 7 in two runs, and within the noise
 * of the loaded development VM in a third: a lead to re-measure on an idle machine (here, per build).
 */
export const STEP_TILES = {
  relaxed: { nn: [6, 2], tn: [6, 2], nt: [2, 1] },
  simd128: { nn: [4, 2], tn: [4, 2], nt: [2, 1] },
};

const range = (n) => Array.from({ length: n }, (_, i) => i);

/** MR × NV broadcast tile; `edge`: one vector of r valid lanes instead of NV full ones. */
function broadcastTile(name, MR, NV, edge) {
  const V = edge ? 1 : NV;
  const acc = (m, v) => `c${m}_${v}`;
  const L = [];
  L.push(`// C[${MR}, ${edge ? 'r' : 4 * NV}] at pc ${edge ? '(r = 1..4 columns) ' : ''}= (acc ? C : 0) + Σ_k A(m, k) · B[k, ·]`);
  L.push(
    `function ${name}(K: i32, pa: usize, ars: usize, aks: usize, pb: usize, bks: usize, pc: usize, ldc: usize, acc: i32${edge ? ', r: i32' : ''}): void {`,
  );
  for (const m of range(MR)) L.push(`  let a${m} = pa${m ? ` + ${m} * ars` : ''};`);
  const zero = 'f32x4.splat(0)';
  for (const m of range(MR)) for (const v of range(V)) L.push(`  let ${acc(m, v)} = ${zero};`);
  L.push('  if (acc) {');
  for (const m of range(MR))
    for (const v of range(V)) {
      L.push(`    ${acc(m, v)} = ${edge ? `loadPart(pc + ${m} * ldc, r)` : `v128.load(pc + ${m} * ldc, ${16 * v})`};`);
    }
  L.push('  }');
  L.push('  for (let k = 0; k < K; k++) {');
  for (const v of range(V)) L.push(`    const b${v} = ${edge ? 'loadPart(pb, r)' : `v128.load(pb, ${16 * v})`};`);
  for (const m of range(MR)) {
    L.push(`    ${m ? '' : 'let '}s = v128.load32_splat(a${m});`);
    for (const v of range(V)) L.push(`    ${acc(m, v)} = madd(s, b${v}, ${acc(m, v)});`);
  }
  for (const m of range(MR)) L.push(`    a${m} += aks;`);
  L.push('    pb += bks;');
  L.push('  }');
  for (const m of range(MR))
    for (const v of range(V)) {
      L.push(edge ? `  storePart(pc + ${m} * ldc, ${acc(m, v)}, r);` : `  v128.store(pc + ${m} * ldc, ${acc(m, v)}, ${16 * v});`);
    }
  L.push('}');
  return L.join('\n');
}

/** MR × (4·NV) dot tile; `edge`: 4 columns of which r are valid (B rows past r repeat row 0, never stored). */
function dotTile(name, MR, NV, edge) {
  const NC = edge ? 4 : 4 * NV;
  const acc = (m, n) => `d${m}_${n}`;
  const L = [];
  L.push(`// C[${MR}, ${edge ? 'r' : NC}] at pc ${edge ? '(r = 1..4 columns) ' : ''}= (acc ? C : 0) + Σ_k A[m, k] · B[n, k]`);
  L.push(
    `function ${name}(K: i32, pa: usize, lda: usize, pb: usize, ldb: usize, pc: usize, ldc: usize, acc: i32${edge ? ', r: i32' : ''}): void {`,
  );
  for (const m of range(MR)) L.push(`  const a${m} = pa${m ? ` + ${m} * lda` : ''};`);
  for (const n of range(NC)) {
    L.push(edge ? `  const b${n} = pb + ${n ? `(${n} < r ? ${n} : 0) * ldb` : '0'};` : `  const b${n} = pb${n ? ` + ${n} * ldb` : ''};`);
  }
  for (const m of range(MR)) for (const n of range(NC)) L.push(`  let ${acc(m, n)} = f32x4.splat(0);`);
  L.push('  const K4 = <usize>(K & ~3) << 2;');
  L.push('  for (let o: usize = 0; o < K4; o += 16) {');
  for (const m of range(MR)) L.push(`    const x${m} = v128.load(a${m} + o);`);
  for (const n of range(NC)) {
    L.push(`    const y${n} = v128.load(b${n} + o);`);
    for (const m of range(MR)) L.push(`    ${acc(m, n)} = madd(x${m}, y${n}, ${acc(m, n)});`);
  }
  L.push('  }');
  L.push('  const rk = K & 3;');
  L.push('  if (rk) {');
  for (const m of range(MR)) L.push(`    const x${m} = loadPart(a${m} + K4, rk);`);
  for (const n of range(NC)) {
    L.push(`    const y${n} = loadPart(b${n} + K4, rk);`);
    for (const m of range(MR)) L.push(`    ${acc(m, n)} = madd(x${m}, y${n}, ${acc(m, n)});`);
  }
  L.push('  }');
  for (const m of range(MR)) {
    for (let g = 0; g < NC / 4; g++) {
      const [p, q, s, t] = range(4).map((j) => acc(m, 4 * g + j));
      const out = `e${m}_${g}`;
      L.push(`  let ${out} = hsum4(${p}, ${q}, ${s}, ${t});`);
      const at = `pc + ${m} * ldc${g ? ` + ${16 * g}` : ''}`;
      if (edge) {
        L.push(`  if (acc) ${out} = f32x4.add(loadPart(${at}, r), ${out});`);
        L.push(`  storePart(${at}, ${out}, r);`);
      } else {
        L.push(`  if (acc) ${out} = f32x4.add(v128.load(${at}), ${out});`);
        L.push(`  v128.store(${at}, ${out});`);
      }
    }
  }
  L.push('}');
  return L.join('\n');
}

/**
 * The driver of a GEMM over the whole of C, column panels outside and rows inside: a panel of B (4·NV columns of
 * W for gemm_nn, 4·NV rows of W for gemm_nt) stays in L1 while every row of A passes over it, so the weight is
 * read from memory once per call whatever M is. Rows go in MR-row tiles, the last M mod MR rows in one tile of
 * that many rows (a last single row is merged with the tile before it into two tiles of about half), the last
 * columns in single vectors of r ≤ 4 valid lanes.
 */
function driver(p, kind, MR, NV) {
  const W = 4 * NV;
  const broadcast = kind === 'broadcast';
  const params = broadcast
    ? 'A: usize, ars: usize, aks: usize, B: usize, bks: usize, C: usize, ldc: usize, acc: i32'
    : 'A: usize, lda: usize, B: usize, ldb: usize, C: usize, ldc: usize, acc: i32';
  const aRow = broadcast ? '<usize>m * ars' : '<usize>m * lda';
  const bCol = broadcast ? '(<usize>n << 2)' : '<usize>n * ldb';
  const args = (edge) =>
    broadcast
      ? `K, A + ${aRow}, ars, aks, B + ${bCol}, bks, C + <usize>m * ldc + (<usize>n << 2), ldc, acc${edge ? ', min(4, N - n)' : ''}`
      : `K, A + ${aRow}, lda, B + ${bCol}, ldb, C + <usize>m * ldc + (<usize>n << 2), ldc, acc${edge ? ', min(4, N - n)' : ''}`;
  const at = (rows, edge, m) => `${p}_${rows}${edge ? '_edge' : ''}(${args(edge).replaceAll('<usize>m', `<usize>(${m})`)});`;
  const rest = (edge) =>
    range(MR - 1)
      .map((i) => `${i ? 'else ' : ''}if (mr == ${i + 1}) ${at(i + 1, edge, 'm')}`)
      .join('\n      ');
  // A last row alone loads as much as it computes: the last MR + 1 rows go as two tiles of H1 + H2 rows instead.
  const H1 = Math.ceil((MR + 1) / 2),
    H2 = MR + 1 - H1;
  const split = (edge) => (MR >= 3 ? `if (split) { ${at(H1, edge, 'm')} ${at(H2, edge, `m + ${H1}`)} }\n    else ` : '');
  const panel = (edge) => `let m = 0;
    for (; m < MM; m += ${MR}) ${at(MR, edge, 'm')}
    ${split(edge)}if (mr) {
      ${rest(edge) || '// (MR = 1: no remainder)'}
    }`;
  return `// C[M, N] = (acc ? C : 0) + Σ_k A(m, k) · B(k, n), in ${MR} × ${W} tiles.
function ${p}_gemm(M: i32, N: i32, K: i32, ${params}): void {
  const NW = N - N % ${W};
  let MM = M - M % ${MR};
  const mr = M - MM;
  const split = ${MR >= 3 ? `mr == 1 && MM >= ${MR}` : 'false'};
  if (split) MM -= ${MR}; // rows [MM, M) = ${MR} + 1 rows: tiles of ${H1} and ${H2}
  let n = 0;
  for (; n < NW; n += ${W}) {
    ${panel(false)}
  }
  for (; n < N; n += 4) {
    ${panel(true)}
  }
}`;
}

/**
 * AssemblyScript text of the tiles and drivers (nn_gemm, tn_gemm, nt_gemm) for the given tiles ([MR, NV] per GEMM).
 * It uses madd, loadPart, storePart and hsum4 from step_lanes.as.ts; step.as.ts imports it.
 */
export function stepTilesSource(tiles) {
  const dims = ([MR, NV]) => `${MR}×${4 * NV}`;
  const out = [
    `// GENERATED by scripts/step-tiles.mjs (tiles nn ${dims(tiles.nn)}, tn ${dims(tiles.tn)}, nt ${dims(tiles.nt)}).`,
    "import { madd, loadPart, storePart, hsum4 } from './step_lanes.as';",
  ];
  for (const p of ['nn', 'tn', 'nt']) {
    const kind = p === 'nt' ? 'dot' : 'broadcast',
      [MR, NV] = tiles[p];
    const tile = kind === 'dot' ? dotTile : broadcastTile;
    // The full tile and one for each row count of the remainder, each with its edge twin.
    for (let rows = 1; rows <= MR; rows++) out.push(tile(`${p}_${rows}`, rows, NV, false), tile(`${p}_${rows}_edge`, rows, NV, true));
    out.push(driver(p, kind, MR, NV));
  }
  out.push('export { nn_gemm, tn_gemm, nt_gemm };');
  return `${out.join('\n\n')}\n`;
}
