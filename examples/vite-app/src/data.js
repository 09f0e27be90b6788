// The app's own data: 12×12 images of one bright bar (horizontal or vertical, at a random place),
// deterministic (a small LCG), values in [0, 1] as the Bernoulli decoder wants.
export const SIDE = 12;

export function bars(n, seed) {
  const d = SIDE * SIDE, x = new Float32Array(n * d);
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < n; i++) {
    const at = 1 + Math.floor(rand() * (SIDE - 2)), vertical = rand() < 0.5;
    for (let k = 0; k < SIDE; k++) x[i * d + (vertical ? k * SIDE + at : at * SIDE + k)] = 1;
  }
  return { name: `bars ${seed}`, n, d, x, imageShape: [SIDE, SIDE] };
}
