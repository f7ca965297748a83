/**
 * Giving a Buffer's memory back at once instead of at the next GC: a
 * streamed body arrives as 16 KB–1 MB Buffers whose memory lives outside
 * V8's heap; streaming allocates little JS, so GCs are rare and spent chunks
 * pile up (bench/stream: 53–71 MB over idle for a 200 MB zip). Detaching the
 * chunk's ArrayBuffer (`transfer(0)`) frees it now. Only for a chunk nothing
 * else reads any more (written to the socket or file, hashed).
 */

/**
 * Chunks smaller than this are left to the GC. Below it live Buffer's shared
 * 8 KiB pool and the zero-length body spans llhttp hands undici over a shared
 * empty buffer, which undici parses again later: detaching that crashed the
 * next parse (test/body-chunks.test.ts fails with this at 0).
 */
const RELEASE_MIN_BYTES = 8 * 1024;

/** Gives a chunk's memory back now if it owns its ArrayBuffer; call once nothing reads it any more. */
export function releaseChunk(chunk: Buffer): void {
  if (ownsItsMemory(chunk)) release(chunk);
}

/**
 * Whether a chunk is the whole of its ArrayBuffer: a socket or file read is;
 * a view into a larger buffer (a pooled Buffer, a chunked-encoding piece) may
 * share its memory and is left to the GC.
 */
export function ownsItsMemory(chunk: Buffer): boolean {
  const memory = chunk.buffer;
  return (
    chunk.byteLength >= RELEASE_MIN_BYTES &&
    chunk.byteOffset === 0 &&
    memory instanceof ArrayBuffer &&
    chunk.byteLength === memory.byteLength &&
    !memory.resizable
  );
}

function release(chunk: Buffer): void {
  const memory = chunk.buffer as ArrayBuffer;
  if (memory.detached) return;
  try {
    memory.transfer(0);
  } catch {
    // Not detachable (a buffer Node keeps for itself): the GC frees it as before.
  }
}
