/**
 * UTF-8 bytes of a string. Label names, values and family names are nearly
 * always ASCII, copied by hand: TextEncoder.encode costs a call into the
 * runtime each, which made it most of the exposition's and the remote_write
 * encoder's time.
 */
const utf8 = new TextEncoder();

export function utf8Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return utf8.encode(text);
    out[i] = c;
  }
  return out;
}
