// Solves wani's proof-of-work captcha the way a browser client does: WebCrypto SHA-256 of
// `id + ":" + nonce`, nonces counted from 0, one digest awaited at a time, then batched
// (Promise.all over 256 nonces, the faster way a client can use the same API). Prints hashes
// per second and the mean time to solve at each difficulty, to choose `pow_bits`.
//
//   node test/bench/captcha_pow.mjs [bits...]      (default: 14 16 17 18)
import { webcrypto } from "node:crypto";

const subtle = globalThis.crypto?.subtle ?? webcrypto.subtle;
const enc = new TextEncoder();

function zeroBits(bytes) {
  let bits = 0;
  for (const b of bytes) {
    if (b !== 0) return bits + Math.clz32(b) - 24;
    bits += 8;
  }
  return bits;
}

async function solveSerial(id, bits) {
  for (let n = 0; ; n++) {
    const d = new Uint8Array(await subtle.digest("SHA-256", enc.encode(`${id}:${n}`)));
    if (zeroBits(d) >= bits) return n + 1;
  }
}

async function solveBatched(id, bits, batch = 256) {
  for (let base = 0; ; base += batch) {
    const digests = await Promise.all(
      Array.from({ length: batch }, (_, i) => subtle.digest("SHA-256", enc.encode(`${id}:${base + i}`))),
    );
    for (let i = 0; i < batch; i++) {
      if (zeroBits(new Uint8Array(digests[i])) >= bits) return base + i + 1;
    }
  }
}

function randomId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

const levels = process.argv.slice(2).map(Number);
for (const bits of levels.length ? levels : [14, 16, 17, 18]) {
  for (const [name, solve] of [["serial", solveSerial], ["batched", solveBatched]]) {
    const rounds = 8;
    let hashes = 0;
    const start = performance.now();
    for (let r = 0; r < rounds; r++) hashes += await solve(randomId(), bits);
    const ms = performance.now() - start;
    console.log(
      `bits=${bits} ${name.padEnd(7)} ${Math.round((hashes / ms) * 1000).toLocaleString("en")} hashes/s, ` +
        `mean ${(ms / rounds).toFixed(0)} ms to solve (${rounds} challenges)`,
    );
  }
}
