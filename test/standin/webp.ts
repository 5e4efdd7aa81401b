// A minimal WebP encoder for /view?preview=webp: ComfyUI converts the image with Pillow (lossy, at
// the asked quality); the stand-in has no VP8 encoder, so it writes a valid *lossless* (VP8L) WebP
// of the same size and pixels. Same Content-Type and format, different bytes; quality is ignored.
// VP8L as simple as it gets (RFC 9649): no transforms, no colour cache, one prefix-code group
// whose green/red/blue/alpha codes give every byte value an 8-bit code, and a one-symbol distance code.
import type { RawImage } from './png.js';

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;

  /** Writes `count` bits of `value`, least significant first (VP8L's bit order). */
  bits(value: number, count: number): void {
    for (let i = 0; i < count; i++) {
      this.acc |= ((value >>> i) & 1) << this.n;
      if (++this.n === 8) { this.bytes.push(this.acc); this.acc = 0; this.n = 0; }
    }
  }

  /** A prefix code is read bit by bit from its most significant bit, like deflate's. */
  code(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) this.bits((value >>> i) & 1, 1);
  }

  done(): Buffer {
    if (this.n > 0) this.bytes.push(this.acc);
    return Buffer.from(this.bytes);
  }
}

/** Order in which the code-length code's lengths are stored. */
const CODE_LENGTH_ORDER = [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/**
 * A normal prefix code in which symbols 0..255 have length 8 and any others length 0. Its code
 * lengths are themselves coded with two 1-bit codes: "0" for length 0, "1" for length 8.
 */
function writeByteCode(w: BitWriter, alphabetSize: number): void {
  w.bits(0, 1); // normal, not simple
  const upTo = CODE_LENGTH_ORDER.indexOf(8) + 1;
  w.bits(upTo - 4, 4);
  for (let i = 0; i < upTo; i++) w.bits(CODE_LENGTH_ORDER[i] === 0 || CODE_LENGTH_ORDER[i] === 8 ? 1 : 0, 3);
  w.bits(0, 1); // max_symbol = alphabet size
  // Canonical code-length code: symbol 0 → "0", symbol 8 → "1".
  for (let s = 0; s < alphabetSize; s++) w.code(s < 256 ? 1 : 0, 1);
}

export function encodeWebpLossless(img: RawImage): Buffer {
  const { width, height, channels, data } = img;
  let hasAlpha = false;
  if (channels === 4) for (let i = 3; i < data.length; i += 4) if (data[i]! !== 255) { hasAlpha = true; break; }
  const w = new BitWriter();
  w.bits(0x2f, 8); // signature
  w.bits(width - 1, 14);
  w.bits(height - 1, 14);
  w.bits(hasAlpha ? 1 : 0, 1);
  w.bits(0, 3); // version
  w.bits(0, 1); // no transform
  w.bits(0, 1); // no colour cache
  w.bits(0, 1); // no meta prefix codes
  writeByteCode(w, 256 + 24); // green + length prefixes
  writeByteCode(w, 256); // red
  writeByteCode(w, 256); // blue
  writeByteCode(w, 256); // alpha
  // Distance: a simple code with the one symbol 0 (never used, takes no bits).
  w.bits(1, 1); w.bits(0, 1); w.bits(0, 1); w.bits(0, 1);
  for (let p = 0; p < width * height; p++) {
    const o = p * channels;
    w.code(data[o + 1]!, 8); w.code(data[o]!, 8); w.code(data[o + 2]!, 8); w.code(channels === 4 ? data[o + 3]! : 255, 8);
  }
  const vp8l = w.done();
  const pad = vp8l.length % 2;
  const header = Buffer.alloc(20);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + 8 + vp8l.length + pad, 4);
  header.write('WEBP', 8, 'latin1');
  header.write('VP8L', 12, 'latin1');
  header.writeUInt32LE(vp8l.length, 16);
  return Buffer.concat([header, vp8l, Buffer.alloc(pad)]);
}
