/**
 * What the gateway keeps in its disk queue: the bus record exactly as it will be published, so
 * that a replay after a crash publishes the same bytes. `topic` is logical; names come from config.
 */
export interface QueueRecord {
  topic: "events" | "deadLetters";
  key: string;
  value: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeQueueRecord(r: QueueRecord): Uint8Array {
  return encoder.encode(JSON.stringify(r));
}

export function decodeQueueRecord(bytes: Uint8Array): QueueRecord {
  return JSON.parse(decoder.decode(bytes)) as QueueRecord;
}
