/** The CRC-32 (IEEE 802.3, as in zlib and PNG) lookup table, built once. */
const TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** One encoder for every checksum: the core has no Buffer (it runs in browsers). */
const UTF8 = new TextEncoder();

/**
 * The CRC-32 of a string's UTF-8 bytes, as 8 lowercase hex digits. It detects every single flipped bit and
 * every burst up to 32 bits, which is what a torn or bit-rotted checkpoint file looks like. It is not a
 * defence against tampering.
 */
export function crc32(text: string): string {
  const bytes = UTF8.encode(text);
  let crc = -1;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ((crc ^ -1) >>> 0).toString(16).padStart(8, '0');
}
