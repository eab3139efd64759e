// Types for npm:snappyjs 0.7 (the package ships none): raw-block snappy,
// the form remote_write uses (not the framing format).
export function compress(input: Uint8Array): Uint8Array<ArrayBuffer>;
export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
declare const snappy: {
  compress: typeof compress;
  uncompress: typeof uncompress;
};
export default snappy;
