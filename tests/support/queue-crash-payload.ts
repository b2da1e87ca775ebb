/**
 * Payloads for the kill -9 test: self-describing, so the test can check every recovered entry
 * byte for byte, also those the writer never got to report. Sizes vary (0 to ~3 KB of filler)
 * so that records straddle read chunks and segment boundaries.
 */
export function crashPayload(run: number, producer: number, index: number): Uint8Array {
  const head = `${run}:${producer}:${index}:`;
  const fillerLength = (run * 7_919 + producer * 104_729 + index * 1_299_709) % 3_001;
  const filler = String.fromCharCode(97 + ((run + producer + index) % 26)).repeat(fillerLength);
  return new TextEncoder().encode(head + filler);
}

/** The (run, producer, index) a payload claims to be, or undefined when it is not one of ours. */
export function parseCrashPayload(data: Uint8Array): { run: number; producer: number; index: number } | undefined {
  const text = new TextDecoder().decode(data);
  const match = /^(\d+):(\d+):(\d+):/.exec(text);
  if (!match) return undefined;
  return { run: Number(match[1]), producer: Number(match[2]), index: Number(match[3]) };
}
