// The proof of work, off the page's thread: finds the first decimal nonce, counting from 0, whose
// SHA-256 of `id + ":" + nonce` starts with `bits` zero bits, and reports its progress. Workers
// get no import map, so this module imports nothing. SHA-256 is written out for one 64-byte
// block (the message is at most 55 bytes): hashing in plain JavaScript is several times faster
// than awaiting WebCrypto once per nonce, and works where WebCrypto does not (plain HTTP).

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const w = new Uint32Array(64);
const out = new Uint32Array(8);

/** SHA-256 of `bytes[0..len]` (len ≤ 55) into `out`. @param {Uint8Array} bytes @param {number} len */
function sha256(bytes, len) {
  w.fill(0, 0, 16);
  for (let i = 0; i < len; i++) w[i >> 2] |= bytes[i] << (24 - (i & 3) * 8);
  w[len >> 2] |= 0x80 << (24 - (len & 3) * 8);
  w[15] = len * 8;
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15];
    const b = w[i - 2];
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let [a, b, c, d, e, f, g, h] = H0;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  out[0] = (H0[0] + a) | 0;
  out[1] = (H0[1] + b) | 0;
  out[2] = (H0[2] + c) | 0;
  out[3] = (H0[3] + d) | 0;
  out[4] = (H0[4] + e) | 0;
  out[5] = (H0[5] + f) | 0;
  out[6] = (H0[6] + g) | 0;
  out[7] = (H0[7] + h) | 0;
}

/** Leading zero bits of `out`, counted as the server does over the digest's bytes. */
function zeroBits() {
  let bits = 0;
  for (let i = 0; i < 8; i++) {
    if (out[i] !== 0) return bits + Math.clz32(out[i]);
    bits += 32;
  }
  return bits;
}

/** How many nonces between progress reports. */
const REPORT_EVERY = 4096;

/** @param {MessageEvent<{id: string, bits: number}>} e */
onmessage = (e) => {
  const { id, bits } = e.data;
  const prefix = new TextEncoder().encode(`${id}:`);
  const bytes = new Uint8Array(64);
  bytes.set(prefix);
  const started = performance.now();
  for (let nonce = 0; ; nonce++) {
    const digits = String(nonce);
    let len = prefix.length;
    for (let i = 0; i < digits.length; i++) bytes[len++] = digits.charCodeAt(i);
    sha256(bytes, len);
    if (zeroBits() >= bits) {
      postMessage({ nonce: digits, tried: nonce + 1, ms: performance.now() - started });
      return;
    }
    if ((nonce + 1) % REPORT_EVERY === 0) postMessage({ tried: nonce + 1 });
  }
};
