/**
 * The byte-level rules the checksum database formats share, as Go applies
 * them: standard padded base64 (encoding/base64 StdEncoding, which Node's
 * lenient decoder does not enforce) and UTF-8 text without control
 * characters other than newline (note.Open, tlog.ParseRecord).
 */

/** Padded standard base64, nothing else (Go's StdEncoding.DecodeString). */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// A BOM is kept (ignoreBOM): it is part of the signed text.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes `text` encodes in padded standard base64, or undefined when it is not that. */
export function decodeStdBase64(text: string): Buffer | undefined {
  return STD_BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}

/** `bytes` as a string when they are valid UTF-8 with no control character but `\n`, else undefined. */
export function decodeNoteText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is refused
  return /[\u0000-\u0009\u000b-\u001f]/.test(text) ? undefined : text;
}
