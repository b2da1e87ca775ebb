import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "./crc32.ts";
import { readFully, syncDirectory, writeFully } from "./segment.ts";

/**
 * The durable "acknowledged up to seq" cursor.
 *
 * Two slots in one fixed-size file, each `[magic u32][generation u64][ackedSeq u64][crc u32]`,
 * in different 4 KiB pages. Generation g goes to slot g % 2, so a write only ever overwrites
 * the older slot; if power fails mid-write, that slot fails its CRC and the other one still holds
 * the previous cursor. One overwrite plus one fdatasync per commit: cheaper than
 * write-temp + fsync + rename + fsync(dir), and no directory operation at all after creation.
 *
 * Losing the cursor can only replay entries that were already acknowledged (duplicates for the
 * at-least-once path), never lose one; the queue still warns because it should not happen.
 */
const FILE_NAME = "ack.cursor";
const MAGIC = 0x41514243; // "CBQA" read as little-endian u32
const SLOT_BYTES = 24;
const SLOT_STRIDE = 4096;
const FILE_BYTES = 2 * SLOT_STRIDE;
const TWO_32 = 2 ** 32;

export interface AckCursorHooks {
  onWarning?: (message: string, details?: Record<string, unknown>) => void;
  onSync?: (ms: number) => void;
}

export class AckCursor {
  private constructor(
    private readonly fh: FileHandle,
    private generation: number,
    private readonly hooks: AckCursorHooks,
  ) {}

  /** Opens (creating if needed) the cursor in `dir`; returns it with the last durable acked seq. */
  static async open(dir: string, hooks: AckCursorHooks = {}): Promise<{ cursor: AckCursor; ackedSeq: number }> {
    const path = join(dir, FILE_NAME);
    let fh: FileHandle;
    try {
      fh = await open(path, "r+");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      fh = await open(path, "wx+");
      try {
        const initial = new Uint8Array(FILE_BYTES);
        initial.set(encodeSlot(1, 0), SLOT_STRIDE); // generation 1 lives in slot 1
        await writeFully(fh, initial, 0);
        await timedSync(fh, hooks);
        await syncDirectory(dir); // the new file's name must survive a crash too
      } catch (initError) {
        await fh.close();
        throw initError;
      }
      return { cursor: new AckCursor(fh, 1, hooks), ackedSeq: 0 };
    }
    try {
      const bytes = new Uint8Array(FILE_BYTES);
      // A short file leaves the rest of `bytes` zero, which fails the magic check below.
      await readFully(fh, bytes, 0);
      const slots = [decodeSlot(bytes.subarray(0, SLOT_BYTES)), decodeSlot(bytes.subarray(SLOT_STRIDE, SLOT_STRIDE + SLOT_BYTES))];
      const valid = slots.filter((s): s is Slot => s !== undefined);
      if (valid.length === 0) {
        hooks.onWarning?.("Queue ack cursor is unreadable; replaying every retained entry (duplicates possible)", { path });
        return { cursor: new AckCursor(fh, 0, hooks), ackedSeq: 0 };
      }
      const latest = valid.reduce((a, b) => (b.generation > a.generation ? b : a));
      return { cursor: new AckCursor(fh, latest.generation, hooks), ackedSeq: latest.ackedSeq };
    } catch (error) {
      await fh.close();
      throw error;
    }
  }

  /** Durably records that every entry with seq <= `ackedSeq` is acknowledged. */
  async write(ackedSeq: number): Promise<void> {
    const generation = this.generation + 1;
    await writeFully(this.fh, encodeSlot(generation, ackedSeq), (generation % 2) * SLOT_STRIDE);
    await timedSync(this.fh, this.hooks);
    this.generation = generation;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

interface Slot {
  generation: number;
  ackedSeq: number;
}

function encodeSlot(generation: number, ackedSeq: number): Uint8Array {
  const bytes = new Uint8Array(SLOT_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, generation % TWO_32, true);
  view.setUint32(8, Math.floor(generation / TWO_32), true);
  view.setUint32(12, ackedSeq % TWO_32, true);
  view.setUint32(16, Math.floor(ackedSeq / TWO_32), true);
  view.setUint32(20, crc32(bytes, 0, 0, 20), true);
  return bytes;
}

function decodeSlot(bytes: Uint8Array): Slot | undefined {
  if (bytes.length < SLOT_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, SLOT_BYTES);
  if (view.getUint32(0, true) !== MAGIC) return undefined;
  if (view.getUint32(20, true) !== crc32(bytes, 0, 0, 20)) return undefined;
  return {
    generation: view.getUint32(8, true) * TWO_32 + view.getUint32(4, true),
    ackedSeq: view.getUint32(16, true) * TWO_32 + view.getUint32(12, true),
  };
}

async function timedSync(fh: FileHandle, hooks: AckCursorHooks): Promise<void> {
  const started = performance.now();
  // fdatasync flushes the data and, at creation, the new size; after that the file is only
  // overwritten in place, so no other metadata needs to reach the disk.
  await fh.datasync();
  hooks.onSync?.(performance.now() - started);
}

export const ACK_CURSOR_FILE = FILE_NAME;
